// Lookup tables as PS3.3 C.11.1 (Modality LUT) and C.11.2 (VOI LUT) define them: a descriptor
// [number of entries, first stored value mapped, bits per entry] and the entries themselves.
import { PrecedentError } from '../shared/errors.js';
import { asSigned16, numbers, type NaturalDataset } from './values.js';

export interface Lut {
  /** Input value mapped to the first entry; inputs below map to the first entry. */
  firstMapped: number;
  /** Bits per entry (8..16): the output range is 0 .. 2^bits - 1. */
  bitsPerEntry: number;
  /** The entries; inputs at or beyond firstMapped + length map to the last one. */
  entries: Float32Array;
}

/** LUT Data as dcmjs delivers it: numbers (US/SS), or raw little-endian bytes (OW). */
function lutBytes(raw: unknown): Uint8Array | undefined {
  const first = Array.isArray(raw) && raw.length === 1 ? (raw as unknown[])[0] : raw;
  if (first instanceof ArrayBuffer) return new Uint8Array(first);
  if (ArrayBuffer.isView(first)) return new Uint8Array(first.buffer, first.byteOffset, first.byteLength);
  return undefined;
}

function entriesFrom(item: NaturalDataset, count: number, bits: number): Float32Array {
  const out = new Float32Array(count);
  const bytes = lutBytes(item['LUTData']);
  if (bytes !== undefined) {
    // OW: "stored in a format equivalent to 8 bits allocated" for 8-bit entries, so two entries
    // share a 16-bit word (low byte first); 16-bit entries are one word each.
    const wide = bits > 8;
    if (bytes.byteLength < (wide ? 2 * count : count)) {
      throw new PrecedentError('DECODE_FAILED', `LUT Data holds ${bytes.byteLength} bytes for ${count} entries of ${bits} bits`);
    }
    for (let i = 0; i < count; i++) out[i] = wide ? (bytes[2 * i] ?? 0) | ((bytes[2 * i + 1] ?? 0) << 8) : (bytes[i] ?? 0);
    return out;
  }
  const values = numbers(item, 'LUTData');
  if (values.length >= count) {
    for (let i = 0; i < count; i++) out[i] = values[i] ?? 0;
    return out;
  }
  // 8-bit entries packed two per US value (the same byte layout read as words).
  if (bits <= 8 && values.length === Math.ceil(count / 2)) {
    for (let i = 0; i < count; i++) {
      const word = values[i >> 1] ?? 0;
      out[i] = i % 2 === 0 ? word & 0xff : (word >> 8) & 0xff;
    }
    return out;
  }
  throw new PrecedentError('DECODE_FAILED', `LUT Data holds ${values.length} values, the LUT Descriptor announces ${count}`);
}

/**
 * Parses a Modality or VOI LUT Sequence item. The first-mapped value is US or SS depending on the
 * input range (PS3.3 C.11.1.1.1); dcmjs cannot know which, so the caller says whether the input can
 * be negative and a value >= 0x8000 is then read as SS.
 */
export function parseLut(item: NaturalDataset, inputCanBeNegative: boolean): Lut {
  const descriptor = numbers(item, 'LUTDescriptor');
  const [rawCount, rawFirst, rawBits] = descriptor;
  if (descriptor.length !== 3 || rawCount === undefined || rawFirst === undefined || rawBits === undefined) {
    throw new PrecedentError('DECODE_FAILED', 'LUT Descriptor must have 3 values');
  }
  // "When the number of table entries is equal to 2^16 then this value shall be 0."
  const count = rawCount === 0 ? 65536 : rawCount;
  if (rawBits < 1 || rawBits > 16) throw new PrecedentError('DECODE_FAILED', `LUT Descriptor bits per entry ${rawBits} is not in 1..16`);
  return {
    firstMapped: inputCanBeNegative ? asSigned16(rawFirst) : rawFirst,
    bitsPerEntry: rawBits,
    entries: entriesFrom(item, count, rawBits),
  };
}

/** The LUT output for one input: values outside the table clamp to its first or last entry. */
export function lookupLut(lut: Lut, x: number): number {
  const last = lut.entries.length - 1;
  const i = Math.floor(x) - lut.firstMapped;
  return lut.entries[i <= 0 ? 0 : i >= last ? last : i] ?? 0;
}
