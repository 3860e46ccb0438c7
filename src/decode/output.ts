// The last steps of the grayscale pipeline: MONOCHROME1 inversion and Pixel Padding.

export interface PaddingSpec {
  /** Pixel Padding Value, in stored-value space (before the Modality LUT, PS3.3 C.7.5.1.1.2). */
  value: number;
  /** Pixel Padding Range Limit: with it, every stored value between the two (inclusive) is padding. */
  rangeLimit?: number;
}

/** 1 where the stored value is padding, else 0; undefined when the file declares no padding. */
export function paddingMask(stored: Int32Array, padding: PaddingSpec | undefined): Uint8Array | undefined {
  if (padding === undefined) return undefined;
  const lo = Math.min(padding.value, padding.rangeLimit ?? padding.value);
  const hi = Math.max(padding.value, padding.rangeLimit ?? padding.value);
  const mask = new Uint8Array(stored.length);
  for (let i = 0; i < stored.length; i++) {
    const v = stored[i] as number;
    mask[i] = v >= lo && v <= hi ? 1 : 0;
  }
  return mask;
}

/** MONOCHROME1 means "minimum is white": after VOI, flip so that 0 is black. */
export function invertMonochrome1(values: Float32Array, out: Float32Array = new Float32Array(values.length)): Float32Array {
  for (let i = 0; i < values.length; i++) out[i] = 1 - (values[i] as number);
  return out;
}

/**
 * Padding pixels (collimator, area outside the detector) become 0, black, after inversion: a model
 * must see "no data", not the white that MONOCHROME1 inversion would otherwise make of them.
 */
export function blackOutPadding(values: Float32Array, mask: Uint8Array | undefined, out: Float32Array = new Float32Array(values.length)): Float32Array {
  for (let i = 0; i < values.length; i++) out[i] = mask?.[i] === 1 ? 0 : (values[i] ?? 0);
  return out;
}
