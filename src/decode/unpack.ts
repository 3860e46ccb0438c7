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

/**
 * The first `count` samples a JPEG 2000 codec decoded. Its values are right-aligned (HighBit does not
 * apply), but a lossy codestream decodes to values just outside the BitsStored range where it rings
 * at sharp edges (1024-1100 in a 10-bit image, or below 0, which a 16-bit word holds as 65535...).
 * Masked as stored bits, 1024 would wrap to 0: white speckles in the dark of a MONOCHROME1 image.
 * Clamped to the range, they are the darkest (or brightest) value the image can hold.
 */
export function clampedCodecSamples(bytes: Uint8Array, count: number, fmt: PixelFormat): Int32Array {
  const need = frameByteLength(count, fmt.bitsAllocated);
  if (bytes.byteLength < need) {
    throw new PrecedentError('DECODE_FAILED', `pixel data holds ${bytes.byteLength} bytes, the frame needs ${need} (truncated?)`);
  }
  const signed = fmt.pixelRepresentation === 1;
  const lo = signed ? -(2 ** (fmt.bitsStored - 1)) : 0;
  const hi = signed ? 2 ** (fmt.bitsStored - 1) - 1 : 2 ** fmt.bitsStored - 1;
  // A word is a two's complement value of the container unless every bit of it is unsigned range.
  const container = 2 ** fmt.bitsAllocated;
  const negativeFrom = !signed && fmt.bitsStored === fmt.bitsAllocated ? container : container / 2;
  const words = fmt.bitsAllocated === 16 ? littleEndianWords(bytes, count) : bytes;
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const w = words[i] as number;
    const v = w >= negativeFrom ? w - container : w;
    out[i] = v < lo ? lo : v > hi ? hi : v;
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
