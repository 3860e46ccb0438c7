// Colour input (Secondary Capture of a film, a screenshot): the model wants one channel, so colour
// becomes luminance with the BT.601 weights that define DICOM's YBR_FULL (PS3.3 C.7.6.3.1.2).
import { sharedFloats } from '../shared/analysis.js';

export interface ColourLayout {
  photometric: string;
  planarConfiguration: 0 | 1;
  bitsAllocated: 8 | 16;
  bitsStored: number;
}

function readSample(bytes: Uint8Array, i: number, wide: boolean): number {
  return wide ? (bytes[2 * i] ?? 0) | ((bytes[2 * i + 1] ?? 0) << 8) : (bytes[i] ?? 0);
}

/**
 * Luminance in [0, 1] of `pixels` colour pixels. RGB: 0.299 R + 0.587 G + 0.114 B. YBR_FULL and
 * the 4:2:2 forms already carry it as Y; PARTIAL forms scale Y from 16..235 (8-bit).
 */
export function toLuminance(bytes: Uint8Array, pixels: number, layout: ColourLayout): Float32Array {
  const wide = layout.bitsAllocated === 16;
  const max = 2 ** layout.bitsStored - 1;
  const out = sharedFloats(pixels);
  const p = layout.photometric;
  const planar = layout.planarConfiguration === 1;
  const at = (pixel: number, sample: number): number => readSample(bytes, planar ? sample * pixels + pixel : pixel * 3 + sample, wide) / max;
  if (p === 'RGB' || p === 'YBR_ICT' || p === 'YBR_RCT') {
    // ICT/RCT only exist inside JPEG 2000, whose decoder hands back RGB.
    for (let i = 0; i < pixels; i++) out[i] = 0.299 * at(i, 0) + 0.587 * at(i, 1) + 0.114 * at(i, 2);
  } else if (p === 'YBR_FULL') {
    for (let i = 0; i < pixels; i++) out[i] = at(i, 0);
  } else {
    // Native 4:2:2 (and 4:2:0 codec output, which the codec has expanded): Y0 Y1 Cb Cr per pixel pair.
    const partial = p.startsWith('YBR_PARTIAL');
    for (let i = 0; i < pixels; i++) {
      const y = readSample(bytes, (i >> 1) * 4 + (i & 1), wide) / max;
      out[i] = partial ? Math.min(1, Math.max(0, (y * 255 - 16) / 219)) : y;
    }
  }
  return out;
}
