// The raw-pixel baseline: what retrieval achieves with no learning at all. The decoded image is
// resized to 32 x 32 by area averaging (aspect ignored, like the models' "stretch"), standardised per
// image (zero mean, unit variance) and compared by cosine similarity.
import type { DecodedImage } from '../shared/analysis.js';
import { areaResize } from '../shared/area-resize.js';

export { areaResize };

export const RAW_PIXEL_SIZE = 32;

/** Subtracts the mean and divides by the (population) standard deviation; a flat image gives zeros. */
export function standardise(values: Float32Array): Float32Array {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length || 1;
  let variance = 0;
  for (const v of values) variance += (v - mean) ** 2;
  const sd = Math.sqrt(variance / (values.length || 1));
  return values.map((v) => (sd > 1e-12 ? (v - mean) / sd : 0));
}

/** The baseline's feature vector (not yet L2-normalised; retrieval normalises every vector). */
export function rawPixelFeature(image: DecodedImage, size = RAW_PIXEL_SIZE): Float32Array {
  return standardise(areaResize(image.pixels, image.width, image.height, size, size));
}
