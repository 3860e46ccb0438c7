// Viridis (matplotlib's default, van der Walt & Smith 2015): perceptually uniform and ordered in
// lightness, so "more yellow" reads as "more attention" also in greyscale print and for colour-blind
// readers, which a rainbow (jet) map does not guarantee.
import type { Rgb } from './raster.js';

/** Viridis sampled at 9 equal steps (0, 1/8, ..., 1; R's viridis(9)); linear interpolation in between. */
const STOPS: readonly Rgb[] = [
  [68, 1, 84], // #440154
  [71, 45, 123], // #472D7B
  [59, 82, 139], // #3B528B
  [44, 114, 142], // #2C728E
  [33, 144, 140], // #21908C
  [39, 173, 129], // #27AD81
  [93, 200, 99], // #5DC863
  [170, 220, 50], // #AADC32
  [253, 231, 37], // #FDE725
];

export function viridis(t: number): Rgb {
  const v = Math.max(0, Math.min(1, Number.isFinite(t) ? t : 0)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(v));
  const f = v - i;
  const a: Rgb = STOPS[i] ?? [0, 0, 0];
  const b = STOPS[i + 1] ?? a;
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)];
}
