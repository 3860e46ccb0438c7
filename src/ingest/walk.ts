// A bounds check of every element header before dcmjs parses a data set. dcmjs trusts declared
// lengths: a single element claiming ~4 GiB made it allocate until the process died. Walking the
// headers (no values read) proves each length fits in its container, so a hostile or broken object
// becomes DATASET_MALFORMED instead of taking the node down (PS3.5 7.1, 7.5, A.4).
import { PrecedentError } from '../shared/errors.js';

const UNDEFINED = 0xffffffff;
const MAX_DEPTH = 32;
// VRs with a reserved word and a 4-byte length in explicit VR (PS3.5 Table 7.1-1).
export const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
// The same, and the VRs the walk treats specially, as their two bytes read little-endian: the walk
// runs on every object received, and making a string per element was most of its cost.
const vrCode = (vr: string): number => vr.charCodeAt(0) | (vr.charCodeAt(1) << 8);
const LONG_VR_CODES = new Set([...LONG_VRS].map(vrCode));
const SQ = vrCode('SQ');
const UN = vrCode('UN');
const isUpper = (b: number): boolean => b >= 0x41 && b <= 0x5a;

/** The data set ended before the last element's value: not an error if we hold only a prefix. */
export class Truncated extends Error {}

function malformed(message: string, offset: number): PrecedentError {
  return new PrecedentError('DATASET_MALFORMED', `${message} at byte ${offset} of the data set`);
}

interface Cursor {
  buf: Buffer;
  explicit: boolean;
  complete: boolean; // buf holds the whole data set
  /** Top-level tags (group << 16 | element) whose raw values the caller wants, and what was found. */
  capture: ReadonlySet<number>;
  raw: Map<number, Buffer[]>;
  /** Offset of the top-level Pixel Data element, once the walk reaches it. */
  pixelDataAt?: number;
}

function need(c: Cursor, offset: number, bytes: number, end: number): void {
  if (offset + bytes <= end) return;
  if (!c.complete && end === c.buf.length) throw new Truncated();
  throw malformed(`element runs past the end of its container (${bytes} bytes needed)`, offset);
}

/** Walks elements in [offset, end); stops at an item/sequence delimiter when `delimited`. Returns the offset after. */
function walkElements(c: Cursor, offset: number, end: number, depth: number, delimited: boolean, explicit: boolean, topLevel: boolean): number {
  if (depth > MAX_DEPTH) throw malformed('sequences nested too deeply', offset);
  while (offset < end) {
    const next = walkElement(c, offset, end, depth, delimited, explicit, topLevel);
    if (next === DELIMITER) return offset + 8;
    if (next === offset) return offset; // top-level Pixel Data of a prefix
    offset = next;
  }
  if (delimited) {
    if (!c.complete && end === c.buf.length) throw new Truncated();
    throw malformed('missing item delimiter', offset);
  }
  return offset;
}

const DELIMITER = -1;

/** One element at `offset`: the offset after it, DELIMITER for an Item Delimitation Item, `offset` itself for a prefix's top-level Pixel Data. */
function walkElement(c: Cursor, offset: number, end: number, depth: number, delimited: boolean, explicit: boolean, topLevel: boolean): number {
  need(c, offset, 8, end);
  const group = c.buf.readUInt16LE(offset);
  const element = c.buf.readUInt16LE(offset + 2);
  if (group === 0xfffe) {
    if (delimited && element === 0xe00d) return DELIMITER; // Item Delimitation Item
    throw malformed('unexpected item tag in a data set', offset);
  }
  if (topLevel && group === 0x7fe0 && element === 0x0010) {
    c.pixelDataAt ??= offset;
    if (!c.complete) return offset; // header prefix ends at Pixel Data
  }
  let vr = 0; // none: implicit VR
  let header = 8;
  let length: number;
  if (explicit) {
    vr = c.buf.readUInt16LE(offset + 4);
    if (!isUpper(vr & 0xff) || !isUpper(vr >> 8)) throw malformed(`invalid VR for (${group.toString(16)},${element.toString(16)})`, offset);
    if (LONG_VR_CODES.has(vr)) {
      need(c, offset, 12, end);
      length = c.buf.readUInt32LE(offset + 8);
      header = 12;
    } else {
      length = c.buf.readUInt16LE(offset + 6);
    }
  } else {
    length = c.buf.readUInt32LE(offset + 4);
  }
  const valueStart = offset + header;
  if (length === UNDEFINED) {
    if (group === 0x7fe0 && element === 0x0010) return walkItems(c, valueStart, end, depth + 1, explicit, true);
    // UN of undefined length is a sequence encoded in implicit VR (PS3.5 6.2.2).
    if (!explicit || vr === SQ || vr === UN) return walkItems(c, valueStart, end, depth + 1, explicit && vr !== UN, false);
    throw malformed(`undefined length on VR ${c.buf.toString('latin1', offset + 4, offset + 6)}`, offset);
  }
  need(c, valueStart, length, end);
  if (topLevel) {
    const tag = ((group << 16) | element) >>> 0;
    if (c.capture.has(tag)) c.raw.set(tag, [...(c.raw.get(tag) ?? []), c.buf.subarray(valueStart, valueStart + length)]);
  }
  if (vr === SQ) walkItems(c, valueStart, valueStart + length, depth + 1, explicit, false, true);
  return valueStart + length;
}

/** Items of a sequence (or encapsulated pixel data fragments). */
function walkItems(c: Cursor, offset: number, end: number, depth: number, explicit: boolean, fragments: boolean, definedLength = false): number {
  while (offset < end) {
    need(c, offset, 8, end);
    const group = c.buf.readUInt16LE(offset);
    const element = c.buf.readUInt16LE(offset + 2);
    const length = c.buf.readUInt32LE(offset + 4);
    if (group !== 0xfffe) throw malformed('expected an item tag', offset);
    if (element === 0xe0dd) return offset + 8; // Sequence Delimitation Item
    if (element !== 0xe000) throw malformed('expected an item tag', offset);
    const start = offset + 8;
    if (length === UNDEFINED) {
      if (fragments) throw malformed('undefined-length pixel data fragment', offset);
      offset = walkElements(c, start, end, depth + 1, true, explicit, false);
      continue;
    }
    need(c, start, length, end);
    if (!fragments) walkElements(c, start, start + length, depth + 1, false, explicit, false);
    offset = start + length;
  }
  if (definedLength) return offset;
  if (!c.complete && end === c.buf.length) throw new Truncated();
  throw malformed('missing sequence delimiter', offset);
}

/**
 * Checks the data set in `buf` (File Meta excluded). With `complete` false, `buf` is a prefix and the
 * walk stops at top-level Pixel Data; Truncated is thrown if the prefix ends before that.
 * Returns the raw value bytes of each top-level tag in `capture` (group << 16 | element), one entry
 * per occurrence: a parser would keep only one of two copies of the same tag, which is exactly how
 * an identity gets silently replaced.
 */
export function checkElementLengths(buf: Buffer, explicit: boolean, complete: boolean, capture: ReadonlySet<number> = new Set()): Map<number, Buffer[]> {
  return walkDataSet(buf, explicit, complete, capture).raw;
}

/** checkElementLengths, also saying where top-level Pixel Data starts (undefined: there is none). */
export function walkDataSet(
  buf: Buffer,
  explicit: boolean,
  complete: boolean,
  capture: ReadonlySet<number>,
): { raw: Map<number, Buffer[]>; pixelDataAt: number | undefined } {
  const cursor: Cursor = { buf, explicit, complete, capture, raw: new Map() };
  walkElements(cursor, 0, buf.length, 0, false, explicit, true);
  return { raw: cursor.raw, pixelDataAt: cursor.pixelDataAt };
}

/**
 * Where the top-level element at the start of `buf` ends (its nested items checked as above). Throws
 * Truncated when `buf` (not `complete`) ends first: the caller reads more, or gives up.
 */
export function elementEnd(buf: Buffer, explicit: boolean, complete: boolean): number {
  return walkElement({ buf, explicit, complete, capture: new Set(), raw: new Map() }, 0, buf.length, 0, false, explicit, false);
}
