// Modality LUT (PS3.3 C.11.1): stored values -> modality values (e.g. log exposure units).
import { lookupLut, type Lut } from './lut.js';

export type ModalityTransform = { kind: 'rescale'; slope: number; intercept: number } | { kind: 'lut'; lut: Lut };

export const IDENTITY_MODALITY: ModalityTransform = { kind: 'rescale', slope: 1, intercept: 0 };

/** Applies the Modality LUT to every stored value; writes into `out` when given (pipeline reuse). */
export function applyModalityLut(stored: Int32Array, t: ModalityTransform, out: Float32Array = new Float32Array(stored.length)): Float32Array {
  if (t.kind === 'lut') {
    for (let i = 0; i < stored.length; i++) out[i] = lookupLut(t.lut, stored[i] as number);
  } else {
    const { slope, intercept } = t;
    for (let i = 0; i < stored.length; i++) out[i] = (stored[i] as number) * slope + intercept;
  }
  return out;
}
