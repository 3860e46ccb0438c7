// The raw-pixel baseline: what retrieval achieves with no learning at all. The decoded image is
// resized to 32 x 32 by area averaging (aspect ignored, like the models' "stretch"), standardised per
// image (zero mean, unit variance) and compared by cosine similarity.
import type { DecodedImage } from '../shared/analysis.js';

export const RAW_PIXEL_SIZE = 32;

/** Area-average resize of a row-major grayscale image to width x height (exact box overlaps). */
export function areaResize(pixels: ArrayLike<number>, width: number, height: number, outWidth: number, outHeight: number): Float32Array {
  const out = new Float32Array(outWidth * outHeight);
  const sx = width / outWidth;
  const sy = height / outHeight;
  for (let y = 0; y < outHeight; y++) {
    const y0 = y * sy;
    const y1 = y0 + sy;
    for (let x = 0; x < outWidth; x++) {
      const x0 = x * sx;
      const x1 = x0 + sx;
      let sum = 0;
      let area = 0;
      for (let yy = Math.floor(y0); yy < Math.min(height, Math.ceil(y1)); yy++) {
        const wy = Math.min(y1, yy + 1) - Math.max(y0, yy);
        for (let xx = Math.floor(x0); xx < Math.min(width, Math.ceil(x1)); xx++) {
          const w = wy * (Math.min(x1, xx + 1) - Math.max(x0, xx));
          sum += w * (pixels[yy * width + xx] ?? 0);
          area += w;
        }
      }
      out[y * outWidth + x] = area > 0 ? sum / area : 0;
    }
  }
  return out;
}

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
