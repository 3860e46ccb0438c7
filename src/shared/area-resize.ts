// Area-average resizing (each output pixel is the mean of the source area it covers, with exact
// fractional box overlaps): shrinks a radiograph without aliasing. Used by the raw-pixel baseline,
// the result pictures and the test fixtures.

/** Resizes a row-major single-channel image to outWidth x outHeight by area averaging. */
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
