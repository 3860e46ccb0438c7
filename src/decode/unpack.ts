// Stored pixel values from raw frame bytes (little endian, as every syntax we accept decodes to).
import { PrecedentError } from '../shared/errors.js';

export interface PixelFormat {
  bitsAllocated: 8 | 16;
  bitsStored: number;
  highBit: number;
  /** 0 unsigned, 1 two's complement at BitsStored. */
  pixelRepresentation: 0 | 1;
}

/** Bytes one frame of `samples` samples occupies. */
export function frameByteLength(samples: number, bitsAllocated: 8 | 16): number {
  return samples * (bitsAllocated / 8);
}

/**
 * The first `count` samples as stored values. Only the BitsStored bits ending at HighBit are
 * value (PS3.5 8.1.1): bits above HighBit may hold overlays or garbage from the modality and are
 * ignored, and signed values are sign-extended from BitsStored, not from BitsAllocated, so a 12-bit
 * 0xFFF is -1 whatever the upper nibble holds.
 */
export function unpackSamples(bytes: Uint8Array, count: number, fmt: PixelFormat): Int32Array {
  const need = frameByteLength(count, fmt.bitsAllocated);
  if (bytes.byteLength < need) {
    throw new PrecedentError('DECODE_FAILED', `pixel data holds ${bytes.byteLength} bytes, the frame needs ${need} (truncated?)`);
  }
  const shift = fmt.highBit - fmt.bitsStored + 1;
  const mask = fmt.bitsStored >= 32 ? 0xffffffff : 2 ** fmt.bitsStored - 1;
  const signBit = 2 ** (fmt.bitsStored - 1);
  const range = 2 ** fmt.bitsStored;
  const signed = fmt.pixelRepresentation === 1;
  const out = new Int32Array(count);
  const wide = fmt.bitsAllocated === 16;
  for (let i = 0; i < count; i++) {
    const word = wide ? (bytes[2 * i] ?? 0) | ((bytes[2 * i + 1] ?? 0) << 8) : (bytes[i] ?? 0);
    const v = (word >>> shift) & mask;
    out[i] = signed && v >= signBit ? v - range : v;
  }
  return out;
}
