// The attributes parseHeader returns, read straight from the bytes instead of through dcmjs, which
// cost ~1.7 ms an object on the ingest thread (it builds a proxied object for every element of the
// header to yield ~30 values). The result must be exactly what dcmjs would have given, so this reads
// the data set the way dcmjs 0.50 does (DicomMessage._readTag, SequenceOfItems.readBytes, the string
// VR classes) and gives up, returning undefined, wherever it could differ: the caller then parses
// with dcmjs as before. Giving up is always safe; guessing is not.
import { TextDecoder } from 'node:util';
import dcmjs from 'dcmjs';
import { silenceDcmjsConsole } from '../shared/dcmjs-log.js';
import type { QueryAttributes } from '../shared/dicom-objects.js';
import type { InstanceHeader } from '../shared/types.js';
import { TransferSyntax } from '../dicom/uids.js';

silenceDcmjsConsole();

/** Thrown where dcmjs might read the bytes differently; caught by fastHeader. */
class NotSure extends Error {}
const notSure = (): never => {
  throw new NotSure();
};

const UNDEFINED = 0xffffffff;
const MAX_DEPTH = 32;
const CHARSET = 0x00080005;
const PIXEL_DATA = 0x7fe00010;
const ANATOMIC_REGION_SEQUENCE = 0x00082218;
const CODE_VALUE = 0x00080100;
const CODING_SCHEME_DESIGNATOR = 0x00080102;
const TRANSFER_SYNTAX_UID = 0x00020010;

/** Every attribute read, with the VR dcmjs reads it as (its dictionary's): another VR, give up. */
const TOP_LEVEL: ReadonlyMap<number, string> = new Map([
  [CHARSET, 'CS'],
  [0x00080008, 'CS'], // ImageType
  [0x00080016, 'UI'],
  [0x00080018, 'UI'],
  [0x00080020, 'DA'],
  [0x00080030, 'TM'],
  [0x00080050, 'SH'],
  [0x00080060, 'CS'],
  [0x00080064, 'CS'],
  [0x00080068, 'CS'],
  [0x00080090, 'PN'],
  [0x00081030, 'LO'],
  [0x0008103e, 'LO'],
  [ANATOMIC_REGION_SEQUENCE, 'SQ'],
  [0x00100010, 'PN'],
  [0x00100020, 'LO'],
  [0x00100030, 'DA'],
  [0x00100040, 'CS'],
  [0x00180015, 'CS'],
  [0x00185101, 'CS'],
  [0x0020000d, 'UI'],
  [0x0020000e, 'UI'],
  [0x00200010, 'SH'],
  [0x00200011, 'IS'],
  [0x00200013, 'IS'],
  [0x00280008, 'IS'],
  [0x00280010, 'US'],
  [0x00280011, 'US'],
  [0x00280100, 'US'],
]);
const IN_CODE_ITEM: ReadonlyMap<number, string> = new Map([
  [CODE_VALUE, 'SH'],
  [CODING_SCHEME_DESIGNATOR, 'SH'],
]);
const IN_META: ReadonlyMap<number, string> = new Map([[TRANSFER_SYNTAX_UID, 'UI']]);

interface VrInfo {
  type: string;
  /** 4-byte length in explicit VR (dcmjs isLength32). */
  long: boolean;
  /** Bytes per value of a binary VR that dcmjs reads value by value (US: 2), else 0. */
  size: number;
}

// What dcmjs makes of each VR, asked of dcmjs itself so that the two cannot drift apart.
const vrInfos = new Map<string, VrInfo>();
function vrInfo(type: string): VrInfo {
  let info = vrInfos.get(type);
  if (!info) {
    const vr = dcmjs.data.ValueRepresentation.createByTypeString(type);
    info = { type: vr.type, long: vr.isLength32(), size: vr.isBinary() ? (vr.maxLength ?? 0) : 0 };
    vrInfos.set(type, info);
  }
  return info;
}
// Explicit VRs read as written, keyed by their two bytes as a little-endian 16-bit number (no string
// made per element). Any other two letters dcmjs reads as UN (4-byte length) where our bounds walk
// read a 2-byte one: give up. OL, OV, SV, UV become UN too, with the same 4-byte length.
const EXPLICIT_VRS: ReadonlyMap<number, VrInfo> = new Map(
  'AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'
    .split(' ')
    .map((type) => [type.charCodeAt(0) | (type.charCodeAt(1) << 8), vrInfo(type)]),
);
const UN = 0x4e55; // 'UN'

const dictionary = dcmjs.data.DicomMetaDictionary.dictionary;
const hex4 = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');
// dcmjs's dictionary is a Proxy and its keys strings: remembered per tag (a bounded number, as an
// object can carry any tags it likes) since Implicit VR asks for every element.
const dictionaryVrs = new Map<number, string | undefined>();
function dictionaryVr(tag: number): string | undefined {
  if (dictionaryVrs.has(tag)) return dictionaryVrs.get(tag);
  const vr = dictionary[`(${hex4(tag >>> 16)},${hex4(tag & 0xffff)})`]?.vr || undefined;
  if (dictionaryVrs.size < 4096) dictionaryVrs.set(tag, vr);
  return vr;
}

// The decoders dcmjs makes: 'latin1' and 'iso-8859-1' are both windows-1252 to TextDecoder (WHATWG).
const DEFAULT_DECODER = new TextDecoder('latin1');
const DECODERS: ReadonlyMap<string, TextDecoder> = new Map([
  ['', new TextDecoder('iso-8859-1')],
  ['iso-ir-6', new TextDecoder('iso-8859-1')],
  ['iso-ir-100', new TextDecoder('latin1')],
  ['iso-ir-192', new TextDecoder('utf-8')],
]);

/** A value as found: where, as which VR, and the decoder in effect there (for LO, SH, PN). */
interface Found {
  start: number;
  length: number;
  decoder: TextDecoder;
  /** Anatomic Region Sequence: what each item dcmjs keeps holds. */
  items?: Map<number, Found>[];
}

interface Reader {
  buf: Buffer;
  explicit: boolean;
}

/**
 * Reads elements in [offset, end) as dcmjs's DicomMessage._read does one stream (the top level, or
 * one item: dcmjs reads each item as a new stream, with the default decoder). Fills `found` with the
 * elements of `wanted`; returns nothing, gives up (NotSure) where dcmjs could read otherwise.
 */
function readElements(
  r: Reader,
  offset: number,
  end: number,
  depth: number,
  wanted: ReadonlyMap<number, string>,
  found: Map<number, Found>,
  meta = false,
): void {
  if (depth > MAX_DEPTH) notSure();
  let decoder = DEFAULT_DECODER;
  const { buf } = r;
  while (offset < end) {
    if (offset + 8 > end) notSure();
    const group = buf.readUInt16LE(offset);
    const tag = ((group << 16) | buf.readUInt16LE(offset + 2)) >>> 0;
    if (meta !== (group === 0x0002)) notSure();
    let info: VrInfo;
    let length: number;
    let valueStart: number;
    if (r.explicit || meta) {
      const code = buf.readUInt16LE(offset + 4);
      info = EXPLICIT_VRS.get(code) ?? notSure();
      // dcmjs re-reads a UN of a tag it knows as that tag's VR.
      if (code === UN && dictionaryVr(tag) !== undefined) notSure();
      if (info.long) {
        if (offset + 12 > end) notSure();
        length = buf.readUInt32LE(offset + 8);
        valueStart = offset + 12;
      } else {
        length = buf.readUInt16LE(offset + 6);
        valueStart = offset + 8;
      }
    } else {
      length = buf.readUInt32LE(offset + 4);
      valueStart = offset + 8;
      // dcmjs's guess for a tag its dictionary lacks.
      const element = tag & 0xffff;
      const guess = length === UNDEFINED ? 'SQ' : tag === PIXEL_DATA ? 'OW' : group % 2 === 1 && element > 0 && element < 0x100 ? 'LO' : 'UN';
      info = vrInfo(dictionaryVr(tag) ?? guess);
    }
    const want = wanted.get(tag);
    if (want !== undefined && (want !== info.type || found.has(tag))) notSure();
    if (length === UNDEFINED && info.type !== 'SQ') notSure(); // encapsulated or UN sequence: dcmjs scans these its own way
    if (length !== UNDEFINED && valueStart + length > end) notSure();
    // dcmjs reads a binary VR value by value; a length not a multiple runs into the next element.
    if (info.size > 0 && length % info.size !== 0) notSure();
    let items: Map<number, Found>[] | undefined;
    if (info.type === 'SQ') {
      const itemWanted = tag === ANATOMIC_REGION_SEQUENCE && want !== undefined ? IN_CODE_ITEM : undefined;
      const sq = readSequence(r, valueStart, end, length, depth + 1, itemWanted);
      items = sq.items;
      offset = sq.end;
    } else {
      offset = valueStart + length;
    }
    if (tag === CHARSET) {
      // The decoder changes for what follows; an item's own Specific Character Set, unsupported
      // ones and code extensions (several values, which dcmjs refuses) are left to dcmjs.
      if (depth > 0) notSure();
      const values = buf.toString('latin1', valueStart, valueStart + length).split('\\');
      if (values.length > 1) notSure();
      decoder = DECODERS.get((values[0] ?? '').trim().replace(/[_ ]/g, '-').toLowerCase()) ?? notSure();
    }
    if (want !== undefined) found.set(tag, { start: valueStart, length, decoder, items });
  }
}

/**
 * Reads a sequence as dcmjs's SequenceOfItems.readBytes does, counting bytes the same way (it finds
 * the end of an undefined-length item by scanning 16-bit words for (FFFE,E00D)) so that it ends where
 * dcmjs's reading ends. Returns that offset and, when `wanted`, what each item dcmjs keeps holds.
 */
function readSequence(
  r: Reader,
  offset: number,
  end: number,
  sqLength: number,
  depth: number,
  wanted: ReadonlyMap<number, string> | undefined,
): { end: number; items?: Map<number, Found>[] } {
  const { buf } = r;
  const items: Map<number, Found>[] = [];
  if (sqLength === 0) return { end: offset, items };
  const undef = sqLength === UNDEFINED;
  const need = (at: number, bytes: number): void => {
    if (at + bytes > end) notSure();
  };
  let read = 0;
  for (;;) {
    need(offset, 4);
    const tag = ((buf.readUInt16LE(offset) << 16) | buf.readUInt16LE(offset + 2)) >>> 0;
    offset += 4;
    read += 4;
    if (tag === 0xfffee0dd) {
      need(offset, 4);
      offset += 4;
      break;
    } else if (!undef && read === sqLength) {
      break;
    } else if (tag === 0xfffee000) {
      need(offset, 4);
      const length = buf.readUInt32LE(offset);
      offset += 4;
      read += 4;
      let toRead = 0;
      let itemStart = offset;
      if (length === UNDEFINED) {
        let stack = 0;
        for (;;) {
          need(offset, 2);
          const g = buf.readUInt16LE(offset);
          offset += 2;
          if (g !== 0xfffe) {
            toRead += 2;
            continue;
          }
          need(offset, 6);
          const ge = buf.readUInt16LE(offset);
          const itemLength = buf.readUInt32LE(offset + 2);
          offset += 2;
          if (ge === 0xe00d) {
            if (itemLength !== 0) toRead += 2;
            else if (--stack < 0) {
              offset += 4;
              read += 8;
              break;
            } else toRead += 4;
          } else if (ge === 0xe000) {
            toRead += 4;
            if (itemLength === UNDEFINED) stack++;
          } else {
            toRead += 2;
            offset -= 2;
          }
        }
        // dcmjs steps back over what it scanned, takes toRead bytes as the item, then skips 8.
        itemStart = offset - toRead - 8;
      } else {
        toRead = length;
        need(offset, toRead);
      }
      if (toRead) {
        // An empty item is dropped by dcmjs: it never becomes a data set.
        const found = new Map<number, Found>();
        readElements(r, itemStart, itemStart + toRead, depth, wanted ?? NOTHING, found);
        if (wanted) items.push(found);
        read += toRead;
        offset = itemStart + toRead + (length === UNDEFINED ? 8 : 0);
      }
    }
    if (!undef && read === sqLength) break;
  }
  return { end: offset, ...(wanted ? { items } : {}) };
}
const NOTHING: ReadonlyMap<number, string> = new Map();

// ---- Values, as dcmjs formats them and parseHeader's helpers then trim them ----

/** An LO, SH or PN value as dcmjs decodes it; plain ASCII decodes the same in every allowed charset. */
function decoded(r: Reader, f: Found): string {
  const end = f.start + f.length;
  for (let i = f.start; i < end; i++) if ((r.buf[i] as number) >= 0x80) return f.decoder.decode(r.buf.subarray(f.start, end));
  return r.buf.toString('latin1', f.start, end);
}

/** CS, DA, TM, IS, UI: dcmjs reads these one byte per character whatever the charset. */
function ascii(r: Reader, f: Found): string {
  return r.buf.toString('latin1', f.start, f.start + f.length);
}

/** The first of backslash-separated values. */
function firstOf(s: string): string {
  const i = s.indexOf('\\');
  return i < 0 ? s : s.slice(0, i);
}

type VrOf = (tag: number) => string;

/** The first value, trimmed (queryAttributes' text(), parseHeader's first()). */
function text(r: Reader, found: Map<number, Found>, tag: number, vr: VrOf): string {
  const f = found.get(tag);
  if (!f) return '';
  switch (vr(tag)) {
    case 'UI':
      // dcmjs drops every character outside [0-9.] from a UID.
      return firstOf(ascii(r, f)).replace(/[^0-9.]/g, '');
    case 'LO':
    case 'SH':
      return firstOf(decoded(r, f)).trim();
    default: // CS, DA, TM
      return firstOf(ascii(r, f)).trim();
  }
}

/** Every value, trimmed; a present but empty element is one empty value, as in dcmjs. */
function all(r: Reader, found: Map<number, Found>, tag: number): string[] {
  const f = found.get(tag);
  return f
    ? ascii(r, f)
        .split('\\')
        .map((s) => s.trim())
    : [];
}

/** PN as queryAttributes' personName() makes it of dcmjs's { Alphabetic, Ideographic, Phonetic }. */
function personName(r: Reader, found: Map<number, Found>, tag: number): string {
  const f = found.get(tag);
  if (!f) return '';
  let s = decoded(r, f);
  if (s.endsWith(' ')) s = s.slice(0, -1); // dcmjs drops one pad byte
  const first = s.split('\\').find(Boolean); // and empty values
  if (first === undefined) return '';
  const parts = first.split('=');
  const groups = [parts[0] ?? '', parts[1] ?? '', parts[2] ?? ''];
  while (groups.length > 1 && groups.at(-1) === '') groups.pop();
  return groups.join('=').trim();
}

/** IS or US as queryAttributes' integer() makes it of dcmjs's value. */
function integer(r: Reader, found: Map<number, Found>, tag: number): number | null {
  const f = found.get(tag);
  if (!f) return null;
  let n: number;
  if (TOP_LEVEL.get(tag) === 'US') {
    n = f.length === 0 ? 0 : r.buf.readUInt16LE(f.start); // dcmjs: an empty US is 0
  } else {
    const digits = firstOf(ascii(r, f))
      .trim()
      .replace(/[^0-9.\\\-+e]/gi, '');
    if (digits === '') return null;
    n = Number(digits);
  }
  return Number.isSafeInteger(n) ? n : null;
}

export interface FastHeader {
  TransferSyntaxUID: string;
  query: QueryAttributes;
  header: Omit<InstanceHeader, 'SOPClassUID' | 'SOPInstanceUID' | 'StudyInstanceUID' | 'SeriesInstanceUID' | 'hasPixelData'>;
}

/**
 * The attributes of a Part 10 buffer that ends before top-level Pixel Data (or is the whole file
 * when it has none), which the bounds walk has already checked, with `explicit` what the walk
 * assumed. Undefined where dcmjs might read it otherwise: the caller asks dcmjs.
 */
export function fastHeader(bytes: Buffer, explicit: boolean): FastHeader | undefined {
  try {
    return read(bytes, explicit);
  } catch (err) {
    if (err instanceof NotSure || err instanceof RangeError) return undefined;
    throw err;
  }
}

function read(bytes: Buffer, explicit: boolean): FastHeader | undefined {
  // File Meta: dcmjs requires (0002,0000) UL first and reads exactly its length of elements.
  if (bytes.length < 144 || bytes.toString('latin1', 128, 138) !== 'DICM\x02\x00\x00\x00UL' || bytes.readUInt16LE(138) !== 4) return undefined;
  const metaEnd = 144 + bytes.readUInt32LE(140);
  if (metaEnd > bytes.length) return undefined;
  const metaFound = new Map<number, Found>();
  readElements({ buf: bytes, explicit: true }, 144, metaEnd, 0, IN_META, metaFound, true);
  if (!metaFound.has(TRANSFER_SYNTAX_UID)) return undefined;
  const ts = text({ buf: bytes, explicit: true }, metaFound, TRANSFER_SYNTAX_UID, () => 'UI');
  // dcmjs reads the data set as the File Meta says: deflated and big endian are left to it, and a
  // File Meta that disagrees with the syntax the walk assumed means the walk proved nothing.
  if (ts === TransferSyntax.DeflatedExplicitVRLittleEndian || ts === TransferSyntax.ExplicitVRBigEndian) return undefined;
  if ((ts !== TransferSyntax.ImplicitVRLittleEndian) !== explicit) return undefined;

  const r: Reader = { buf: bytes, explicit };
  const found = new Map<number, Found>();
  readElements(r, metaEnd, bytes.length, 0, TOP_LEVEL, found);
  const vr = (tag: number): string => TOP_LEVEL.get(tag) ?? IN_CODE_ITEM.get(tag) ?? '';
  const t = (tag: number): string => text(r, found, tag, vr);
  const n = (tag: number): number | null => integer(r, found, tag);
  const codes = (found.get(ANATOMIC_REGION_SEQUENCE)?.items ?? []).map(
    (item) => `${text(r, item, CODING_SCHEME_DESIGNATOR, vr)}:${text(r, item, CODE_VALUE, vr)}`,
  );
  return {
    TransferSyntaxUID: ts,
    query: {
      StudyInstanceUID: t(0x0020000d),
      SeriesInstanceUID: t(0x0020000e),
      SOPInstanceUID: t(0x00080018),
      SOPClassUID: t(0x00080016),
      Modality: t(0x00080060),
      PatientID: t(0x00100020),
      PatientName: personName(r, found, 0x00100010),
      PatientBirthDate: t(0x00100030),
      PatientSex: t(0x00100040),
      StudyDate: t(0x00080020),
      StudyTime: t(0x00080030),
      AccessionNumber: t(0x00080050),
      ReferringPhysicianName: personName(r, found, 0x00080090),
      StudyID: t(0x00200010),
      StudyDescription: t(0x00081030),
      SeriesDescription: t(0x0008103e),
      SeriesNumber: n(0x00200011),
      InstanceNumber: n(0x00200013),
      Rows: n(0x00280010),
      Columns: n(0x00280011),
      BitsAllocated: n(0x00280100),
      NumberOfFrames: n(0x00280008),
    },
    header: {
      Modality: t(0x00080060),
      BodyPartExamined: t(0x00180015).toUpperCase(),
      AnatomicRegionCodes: codes,
      ViewPosition: t(0x00185101).toUpperCase(),
      PresentationIntentType: t(0x00080068).toUpperCase(),
      ImageType: all(r, found, 0x00080008).map((s) => s.toUpperCase()),
      ConversionType: t(0x00080064).toUpperCase(),
    },
  };
}
