// dcmjs zero-fills a value that runs past the end of the file instead of failing, so a file cut
// off in its Pixel Data decodes as a half-black image. This walks the top-level element headers of
// the raw data set (no values are read) and reports whether Pixel Data is complete.
const UNDEFINED = 0xffffffff;
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const ITEM = 0xfffee000;
const ITEM_END = 0xfffee00d;
const SEQUENCE_END = 0xfffee0dd;
const PIXEL_DATA = 0x7fe00010;

class Truncated extends Error {}
/** A structure this walker does not follow; dcmjs parsed it, so it is not called truncated. */
class Malformed extends Error {}

interface Cursor {
  view: DataView;
  at: number;
  explicit: boolean;
}

function need(c: Cursor, n: number): void {
  if (c.at + n > c.view.byteLength) throw new Truncated();
}

function readTag(c: Cursor): number {
  need(c, 4);
  const tag = ((c.view.getUint16(c.at, true) << 16) | c.view.getUint16(c.at + 2, true)) >>> 0;
  c.at += 4;
  return tag;
}

/** Reads one element header (after its tag): the value length, and the VR when explicit. */
function readHeader(c: Cursor, tag: number): { length: number; vr: string } {
  // Item and delimiter tags are always "implicit": tag + 4-byte length.
  if (!c.explicit || tag >>> 16 === 0xfffe) {
    need(c, 4);
    c.at += 4;
    return { length: c.view.getUint32(c.at - 4, true), vr: '' };
  }
  need(c, 4);
  const vr = String.fromCharCode(c.view.getUint8(c.at), c.view.getUint8(c.at + 1));
  if (LONG_VRS.has(vr)) {
    need(c, 8);
    c.at += 8;
    return { length: c.view.getUint32(c.at - 4, true), vr };
  }
  c.at += 4;
  return { length: c.view.getUint16(c.at - 2, true), vr };
}

/** Skips items until the sequence delimiter (undefined-length SQ or encapsulated Pixel Data). */
function skipItems(c: Cursor): void {
  for (;;) {
    const tag = readTag(c);
    const { length } = readHeader(c, tag);
    if (tag === SEQUENCE_END) return;
    if (tag !== ITEM) throw new Malformed();
    if (length === UNDEFINED) skipElements(c, ITEM_END);
    else skip(c, length);
  }
}

/** Skips an element's value, whatever its length form. */
function skipValue(c: Cursor, length: number, vr: string): void {
  if (length !== UNDEFINED) {
    skip(c, length);
  } else if (vr === 'UN' && c.explicit) {
    // An undefined-length UN holds implicit VR little endian content (PS3.5 6.2.2).
    const inner: Cursor = { ...c, explicit: false };
    skipItems(inner);
    c.at = inner.at;
  } else {
    skipItems(c);
  }
}

function skip(c: Cursor, length: number): void {
  need(c, length);
  c.at += length;
}

/** Skips elements up to and including the item delimiter. */
function skipElements(c: Cursor, until: number): void {
  for (;;) {
    const tag = readTag(c);
    const { length, vr } = readHeader(c, tag);
    if (tag === until) return;
    skipValue(c, length, vr);
  }
}

/**
 * Whether every top-level element, Pixel Data included, ends inside `dataset` (the bytes after the
 * File Meta group, not deflated), and where Pixel Data starts (its tag's offset in `dataset`) when
 * the walk reached it. Elements after Pixel Data are not needed and not checked.
 */
export function pixelDataExtent(dataset: Uint8Array, explicitVR: boolean): { complete: boolean; start?: number } {
  const c: Cursor = { view: new DataView(dataset.buffer, dataset.byteOffset, dataset.byteLength), at: 0, explicit: explicitVR };
  let start: number | undefined;
  try {
    while (c.at < c.view.byteLength) {
      const at = c.at;
      const tag = readTag(c);
      if (tag === PIXEL_DATA) start = at;
      const { length, vr } = readHeader(c, tag);
      skipValue(c, length, vr);
      if (tag === PIXEL_DATA) return { complete: true, start: at };
    }
    return { complete: true };
  } catch (err) {
    if (err instanceof Truncated) return { complete: false, ...(start === undefined ? {} : { start }) };
    if (err instanceof Malformed) return { complete: true };
    throw err;
  }
}

export function pixelDataComplete(dataset: Uint8Array, explicitVR: boolean): boolean {
  return pixelDataExtent(dataset, explicitVR).complete;
}

/** The data set bytes of a Part 10 file: after the preamble, "DICM" and the File Meta group. */
export function datasetBytes(file: Uint8Array): Uint8Array | undefined {
  if (file.byteLength < 144) return undefined;
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  // (0002,0000) UL File Meta Information Group Length is the first element (PS3.10 7.1).
  if (view.getUint16(132, true) !== 0x0002 || view.getUint16(134, true) !== 0x0000) return undefined;
  const start = 144 + view.getUint32(140, true);
  return start <= file.byteLength ? file.subarray(start) : undefined;
}
