// Reads the attributes ingest needs from a Part 10 buffer, stopping before Pixel Data so a large
// image is never parsed whole. The header that triage and logs see carries no patient identity; the
// searchable attributes (patient included) go to the catalog's object index only.
import type { DicomDataset } from 'dcmjs';
import { PIXEL_DATA, readHeader, type Part10Header } from '../dicom/header.js';
import { TransferSyntax } from '../dicom/uids.js';
import type { InstanceHeader } from '../shared/types.js';
import type { QueryAttributes } from '../shared/dicom-objects.js';
import { queryAttributes } from '../dicom/query-attributes.js';
import { inflateRawSync } from 'node:zlib';
import { PrecedentError } from '../shared/errors.js';
import { walkDataSet, Truncated } from './walk.js';
import { fastHeader } from './fast-header.js';

const DEFLATED = TransferSyntax.DeflatedExplicitVRLittleEndian;
const IMPLICIT = TransferSyntax.ImplicitVRLittleEndian;
// A deflated data set is inflated once to check it; a zip bomb stops here instead of exhausting memory.
const MAX_INFLATED_BYTES = 1024 * 1024 * 1024;

/** The bytes after the File Meta group (whose group length we wrote ourselves at offset 140). */
function datasetOf(bytes: Buffer): Buffer {
  if (bytes.length < 144 || bytes.toString('latin1', 128, 132) !== 'DICM') {
    throw new PrecedentError('DATASET_MALFORMED', 'no Part 10 header');
  }
  return bytes.subarray(144 + bytes.readUInt32LE(140));
}

// The identity attributes, read from the raw bytes: dcmjs rewrites UI values as it parses them (it
// drops every character outside [0-9.] and keeps the first of several values), so two different
// invalid Study Instance UIDs could come out as the same valid one and merge two patients' studies.
const IDENTITY_TAGS = {
  SOPClassUID: 0x00080016,
  SOPInstanceUID: 0x00080018,
  StudyInstanceUID: 0x0020000d,
  SeriesInstanceUID: 0x0020000e,
} as const;
type IdentityName = keyof typeof IDENTITY_TAGS;
export const IDENTITY_TAG_SET: ReadonlySet<number> = new Set<number>(Object.values(IDENTITY_TAGS));

/**
 * The value as sent, with only its padding removed (a UI is padded with one NUL, PS3.5 6.2; trailing
 * spaces are a common, harmless mistake). Anything else stays, so validation sees it. An element
 * present twice at the top level becomes an invalid value: which copy is "the" identity is unknowable.
 */
function rawText(values: Buffer[] | undefined): string {
  if (!values || values.length === 0) return '';
  if (values.length > 1) return '\\'; // never a valid UID
  return (values[0] as Buffer).toString('latin1').replace(/[\0 ]+$/, '');
}

type RawIdentity = Record<IdentityName, string>;

interface Walked {
  identity: RawIdentity;
  /** Where top-level Pixel Data starts in `bytes` (not for a deflated data set); undefined: none. */
  pixelDataAt: number | undefined;
}

/** Every element length must fit before dcmjs reads values; undefined means "prefix too short, read the file". */
function lengthsFit(bytes: Buffer, transferSyntaxUID: string, complete: boolean): Walked | undefined {
  let dataset = datasetOf(bytes);
  const inflated = transferSyntaxUID === DEFLATED;
  if (transferSyntaxUID === DEFLATED) {
    if (!complete) return undefined;
    try {
      dataset = inflateRawSync(dataset, { maxOutputLength: MAX_INFLATED_BYTES });
    } catch (cause) {
      throw new PrecedentError('DATASET_MALFORMED', 'deflated data set cannot be inflated', { cause });
    }
  }
  let walked: ReturnType<typeof walkDataSet>;
  try {
    walked = walkDataSet(dataset, transferSyntaxUID !== IMPLICIT, complete, IDENTITY_TAG_SET);
  } catch (err) {
    if (err instanceof Truncated) return undefined;
    throw err;
  }
  const text = (name: IdentityName): string => rawText(walked.raw.get(IDENTITY_TAGS[name]));
  return {
    identity: {
      SOPClassUID: text('SOPClassUID'),
      SOPInstanceUID: text('SOPInstanceUID'),
      StudyInstanceUID: text('StudyInstanceUID'),
      SeriesInstanceUID: text('SeriesInstanceUID'),
    },
    pixelDataAt: inflated || walked.pixelDataAt === undefined ? undefined : dataset.byteOffset - bytes.byteOffset + walked.pixelDataAt,
  };
}

function first(ds: DicomDataset, tag: string): string {
  const v = ds[tag]?.Value?.[0];
  return typeof v === 'string' ? v.trim() : v === undefined || v === null ? '' : String(v).trim();
}

function all(ds: DicomDataset, tag: string): string[] {
  return (ds[tag]?.Value ?? []).map((v) => String(v).trim());
}

function codes(ds: DicomDataset, tag: string): string[] {
  const items = (ds[tag]?.Value ?? []) as DicomDataset[];
  return items.map((item) => `${first(item, '00080102')}:${first(item, '00080100')}`);
}

export interface ParsedHeader {
  header: InstanceHeader;
  /** The transfer syntax the file meta says the data set is in. */
  TransferSyntaxUID: string;
  /** For the catalog's object index (QIDO-RS) only: includes patient identity. */
  query: QueryAttributes;
}

/**
 * Parses `bytes` (a whole file, or its first bytes when `complete` is false). Returns undefined when
 * the prefix ended before Pixel Data, so the caller retries with the whole file; throws
 * DATASET_MALFORMED when the bytes cannot be DICOM.
 */
export function parseHeader(bytes: Buffer, complete: boolean, transferSyntaxUID: string): ParsedHeader | undefined {
  return parse(bytes, complete, transferSyntaxUID, true);
}

/** parseHeader always through dcmjs: the reference the fast reading is tested against. */
export function parseHeaderWithDcmjs(bytes: Buffer, complete: boolean, transferSyntaxUID: string): ParsedHeader | undefined {
  return parse(bytes, complete, transferSyntaxUID, false);
}

/** How many results were read fast and how many through dcmjs: the tests check that ordinary objects are read fast. */
export const fastHeaderCount = { fast: 0, dcmjs: 0 };

function parse(bytes: Buffer, complete: boolean, transferSyntaxUID: string, fast: boolean): ParsedHeader | undefined {
  const walked = lengthsFit(bytes, transferSyntaxUID, complete);
  if (!walked) return undefined;
  const { identity, pixelDataAt } = walked;
  // Both readings are given only the bytes before Pixel Data: dcmjs copies whatever it is given
  // and, before this, took ~1 ms an object over pixels it then skipped. The walk has already checked the rest.
  const end = pixelDataAt ?? bytes.length;
  if (fast && transferSyntaxUID !== DEFLATED && (complete || pixelDataAt !== undefined)) {
    const read = fastHeader(bytes.subarray(0, end), transferSyntaxUID !== IMPLICIT);
    if (read) {
      fastHeaderCount.fast++;
      return { TransferSyntaxUID: read.TransferSyntaxUID, query: read.query, header: { ...identity, ...read.header, hasPixelData: pixelDataAt !== undefined } };
    }
  }
  fastHeaderCount.dcmjs++;
  let parsed: Part10Header;
  try {
    parsed = readHeader(bytes.subarray(0, end));
  } catch (cause) {
    if (!complete) return undefined;
    throw new PrecedentError('DATASET_MALFORMED', `data set cannot be parsed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  const ts = parsed.TransferSyntaxUID;
  if (!complete && ts === DEFLATED) return undefined;
  const ds = parsed.dict;
  const hasPixelData = pixelDataAt !== undefined || PIXEL_DATA in ds;
  if (!complete && !hasPixelData) return undefined; // prefix may have cut the data set short
  return {
    TransferSyntaxUID: ts,
    query: queryAttributes(ds),
    header: {
      // As sent (see IDENTITY_TAGS), not as dcmjs rewrote them; callers validate.
      ...identity,
      Modality: first(ds, '00080060'),
      BodyPartExamined: first(ds, '00180015').toUpperCase(),
      AnatomicRegionCodes: codes(ds, '00082218'),
      ViewPosition: first(ds, '00185101').toUpperCase(),
      PresentationIntentType: first(ds, '00080068').toUpperCase(),
      ImageType: all(ds, '00080008').map((s) => s.toUpperCase()),
      ConversionType: first(ds, '00080064').toUpperCase(),
      hasPixelData,
    },
  };
}
