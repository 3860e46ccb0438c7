// VOI LUT (PS3.3 C.11.2): modality values -> display intensities in [0, 1]. The window formulas
// are C.11.2.1.2 with y_min = 0 and y_max = 1, so the output needs no further scaling.
import { lookupLut, type Lut } from './lut.js';

export type VoiLutFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

export type VoiTransform =
  | { kind: 'window'; center: number; width: number; fn: VoiLutFunction }
  | { kind: 'lut'; lut: Lut }
  /** No VOI in the file: stretch the (non-padding) modality range. */
  | { kind: 'minmax'; min: number; max: number };

/** C.11.2.1.2.1 LINEAR: the "c - 0.5, w - 1" form that makes integer windows land on whole steps. */
export function windowLinear(x: number, center: number, width: number): number {
  const c = center - 0.5;
  const w = width - 1;
  if (x <= c - w / 2) return 0;
  if (x > c + w / 2) return 1;
  return (x - c) / w + 0.5;
}

/** C.11.2.1.3.2 LINEAR_EXACT: the window edges are exactly c +/- w/2. */
export function windowLinearExact(x: number, center: number, width: number): number {
  if (x <= center - width / 2) return 0;
  if (x > center + width / 2) return 1;
  return (x - center) / width + 0.5;
}

/** C.11.2.1.3.1 SIGMOID: 1 / (1 + exp(-4 (x - c) / w)), 0.5 at the centre. */
export function windowSigmoid(x: number, center: number, width: number): number {
  return 1 / (1 + Math.exp((-4 * (x - center)) / width));
}

/** Smallest and largest value where `padding` (1 = padding pixel) is not set; undefined if none. */
export function minMax(values: Float32Array, padding?: Uint8Array): { min: number; max: number } | undefined {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (padding !== undefined && padding[i] === 1) continue;
    const v = values[i] as number;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? { min, max } : undefined;
}

/** Applies the VOI transform, clamped to [0, 1]; writes into `out` when given. */
export function applyVoi(values: Float32Array, voi: VoiTransform, out: Float32Array = new Float32Array(values.length)): Float32Array {
  const n = values.length;
  if (voi.kind === 'window' && voi.fn !== 'SIGMOID') {
    // Both linear forms are y = x * scale + offset clamped to [0, 1], with their own edges; an
    // inlined loop because this runs over every pixel of a full-size radiograph.
    const exact = voi.fn === 'LINEAR_EXACT';
    const c = exact ? voi.center : voi.center - 0.5;
    const w = exact ? voi.width : voi.width - 1;
    const lo = c - w / 2;
    const hi = c + w / 2;
    for (let i = 0; i < n; i++) {
      const x = values[i] as number;
      out[i] = x <= lo ? 0 : x > hi ? 1 : (x - c) / w + 0.5;
    }
    return out;
  }
  let f: (x: number) => number;
  if (voi.kind === 'window') {
    const { center, width } = voi;
    f = (x) => windowSigmoid(x, center, width);
  } else if (voi.kind === 'lut') {
    const { lut } = voi;
    // The LUT's output range is 0 .. 2^bits - 1 (C.11.2.1.1), whatever values the table uses.
    const top = 2 ** lut.bitsPerEntry - 1;
    f = (x) => lookupLut(lut, x) / top;
  } else {
    const { min, max } = voi;
    // A flat image has no contrast to stretch: show it black rather than divide by zero.
    f = max > min ? (x) => (x - min) / (max - min) : () => 0;
  }
  for (let i = 0; i < n; i++) {
    const y = f(values[i] as number);
    out[i] = y < 0 ? 0 : y > 1 ? 1 : y;
  }
  return out;
}
