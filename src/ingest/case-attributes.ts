// What an archive case needs from a DICOM file: its UIDs and study references, demographics, whether
// it is an image we analyse, and the keyed hash of the patient identity. PatientID and
// IssuerOfPatientID are read only to be passed to `patientKey` here: the raw values are never returned,
// stored or logged.
import type { DicomDataset } from 'dcmjs';
import { readHeader } from '../dicom/header.js';
import type { TriageResult } from '../shared/types.js';
import { PrecedentError } from '../shared/errors.js';
import { parseHeader, type ParsedHeader } from './header.js';
import { triage } from './triage.js';

export interface CaseAttributes {
  SOPInstanceUID: string;
  StudyInstanceUID: string;
  AccessionNumber: string;
  StudyDate: string;
  /** DICOM AS as stored, e.g. 052Y ('' when absent). */
  PatientAge: string;
  PatientSex: string;
  /** patientKey(PatientID, IssuerOfPatientID), or '' without a PatientID. */
  patientKey: string;
  triage: TriageResult;
}

function text(ds: DicomDataset, tag: string): string {
  const v = ds[tag]?.Value?.[0];
  return typeof v === 'string' ? v.trim() : v === undefined || v === null ? '' : String(v).trim();
}

/** Transfer Syntax UID from the File Meta group (always Explicit VR Little Endian). */
function metaTransferSyntax(bytes: Buffer): string {
  if (bytes.length < 144 || bytes.toString('latin1', 128, 132) !== 'DICM') throw new PrecedentError('DATASET_MALFORMED', 'not a DICOM Part 10 file');
  let at = 132;
  while (at + 8 <= bytes.length && bytes.readUInt16LE(at) === 0x0002) {
    const element = bytes.readUInt16LE(at + 2);
    const vr = bytes.toString('latin1', at + 4, at + 6);
    const long = ['OB', 'OW', 'OF', 'SQ', 'UT', 'UN'].includes(vr);
    const length = long ? bytes.readUInt32LE(at + 8) : bytes.readUInt16LE(at + 6);
    const start = at + (long ? 12 : 8);
    if (element === 0x0010)
      return bytes
        .toString('latin1', start, start + length)
        .replace(/\0+$/, '')
        .trim();
    at = start + length;
  }
  throw new PrecedentError('DATASET_MALFORMED', 'File Meta Information has no Transfer Syntax UID');
}

/**
 * `bytes` is the whole file, or its first bytes with `complete` false: then undefined means "the
 * header goes on beyond them, read the whole file".
 */
export function readCaseAttributes(bytes: Buffer, patientKey: (PatientID: string, IssuerOfPatientID: string) => string, complete?: true): CaseAttributes;
export function readCaseAttributes(
  bytes: Buffer,
  patientKey: (PatientID: string, IssuerOfPatientID: string) => string,
  complete: boolean,
): CaseAttributes | undefined;
export function readCaseAttributes(
  bytes: Buffer,
  patientKey: (PatientID: string, IssuerOfPatientID: string) => string,
  complete = true,
): CaseAttributes | undefined {
  const parsed = parseHeader(bytes, complete, metaTransferSyntax(bytes));
  if (!parsed && !complete) return undefined;
  if (!parsed) throw new PrecedentError('DATASET_MALFORMED', 'data set cannot be parsed');
  return fromParsed(parsed, bytes, patientKey);
}

/**
 * The same from a decoded image's header (DecodedImage.header: the file cut just before its Pixel
 * Data, which the decoder has read), so the archive step does not open the file again.
 */
export function caseAttributesOfHeader(header: Uint8Array, patientKey: (PatientID: string, IssuerOfPatientID: string) => string): CaseAttributes {
  const bytes = Buffer.from(header.buffer, header.byteOffset, header.byteLength);
  const parsed = parseHeader(bytes, true, metaTransferSyntax(bytes));
  if (!parsed) throw new PrecedentError('DATASET_MALFORMED', 'data set cannot be parsed');
  return fromParsed({ ...parsed, header: { ...parsed.header, hasPixelData: true } }, bytes, patientKey);
}

function fromParsed(parsed: ParsedHeader, bytes: Buffer, patientKey: (PatientID: string, IssuerOfPatientID: string) => string): CaseAttributes {
  const ds = readHeader(bytes).dict;
  return {
    SOPInstanceUID: parsed.header.SOPInstanceUID,
    StudyInstanceUID: parsed.header.StudyInstanceUID,
    AccessionNumber: text(ds, '00080050'),
    StudyDate: text(ds, '00080020'),
    PatientAge: text(ds, '00101010'),
    PatientSex: text(ds, '00100040'),
    patientKey: patientKey(text(ds, '00100020'), text(ds, '00100021')),
    triage: triage(parsed.header),
  };
}
