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
  const mask = 2 ** fmt.bitsStored - 1;
  const signBit = 2 ** (fmt.bitsStored - 1);
  const range = 2 ** fmt.bitsStored;
  const words = fmt.bitsAllocated === 16 ? littleEndianWords(bytes, count) : bytes;
  const out = new Int32Array(count);
  // Separate loops: this runs over every pixel of a full-size radiograph (~10 M samples).
  if (fmt.pixelRepresentation === 1) {
    for (let i = 0; i < count; i++) {
      const v = ((words[i] as number) >>> shift) & mask;
      out[i] = v >= signBit ? v - range : v;
    }
  } else {
    for (let i = 0; i < count; i++) out[i] = ((words[i] as number) >>> shift) & mask;
  }
  return out;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** 16-bit little-endian samples as a Uint16Array: a view when aligned on a little-endian host. */
function littleEndianWords(bytes: Uint8Array, count: number): Uint16Array {
  if (LITTLE_ENDIAN_HOST && bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, count);
  const out = new Uint16Array(count);
  for (let i = 0; i < count; i++) out[i] = (bytes[2 * i] as number) | ((bytes[2 * i + 1] as number) << 8);
  return out;
}
