// Minimal 8-bit RGB raster operations for the Secondary Captures: resampling, blitting, boxes and
// text. Pixel layout is what the SC writes as-is: RGB interleaved (PlanarConfiguration 0), row-major.
import { areaResize } from '../shared/area-resize.js';
import { forEachTextPixel } from './font.js';

export type Rgb = readonly [number, number, number];

export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export const BLACK: Rgb = [0, 0, 0];
export const WHITE: Rgb = [255, 255, 255];

export function createRgb(width: number, height: number, fill: Rgb = BLACK): RgbImage {
  const data = new Uint8Array(width * height * 3);
  if (fill !== BLACK) for (let i = 0; i < data.length; i += 3) data.set(fill, i);
  return { width, height, data };
}

export function setPixel(img: RgbImage, x: number, y: number, c: Rgb): void {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  img.data.set(c, (y * img.width + x) * 3);
}

export function fillRect(img: RgbImage, x: number, y: number, w: number, h: number, c: Rgb): void {
  for (let yy = Math.max(0, y); yy < Math.min(img.height, y + h); yy++) {
    for (let xx = Math.max(0, x); xx < Math.min(img.width, x + w); xx++) img.data.set(c, (yy * img.width + xx) * 3);
  }
}

export function strokeRect(img: RgbImage, x: number, y: number, w: number, h: number, c: Rgb): void {
  fillRect(img, x, y, w, 1, c);
  fillRect(img, x, y + h - 1, w, 1, c);
  fillRect(img, x, y, 1, h, c);
  fillRect(img, x + w - 1, y, 1, h, c);
}

export function drawText(img: RgbImage, text: string, x: number, y: number, scale: number, c: Rgb = WHITE): void {
  forEachTextPixel(text, x, y, scale, (px, py) => setPixel(img, px, py, c));
}

/** Largest size with the same aspect whose sides are at most maxW x maxH (never upscaled if noUpscale). */
export function fitInside(width: number, height: number, maxW: number, maxH: number, noUpscale = true): { width: number; height: number } {
  let scale = Math.min(maxW / width, maxH / height);
  if (noUpscale) scale = Math.min(1, scale);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * Resamples a single-channel image: area averaging when shrinking (no aliasing on a 3000-pixel
 * radiograph), bilinear when enlarging (a 128-pixel attention map must not look blocky).
 */
export function resample(src: ArrayLike<number>, sw: number, sh: number, dw: number, dh: number): Float32Array {
  return dw <= sw && dh <= sh ? areaResize(src, sw, sh, dw, dh) : bilinear(src, sw, sh, dw, dh);
}

function bilinear(src: ArrayLike<number>, sw: number, sh: number, dw: number, dh: number): Float32Array {
  const out = new Float32Array(dw * dh);
  for (let y = 0; y < dh; y++) {
    // Pixel centres map onto pixel centres, clamped at the borders.
    const fy = Math.min(sh - 1, Math.max(0, ((y + 0.5) * sh) / dh - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(sh - 1, y0 + 1);
    const ty = fy - y0;
    for (let x = 0; x < dw; x++) {
      const fx = Math.min(sw - 1, Math.max(0, ((x + 0.5) * sw) / dw - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(sw - 1, x0 + 1);
      const tx = fx - x0;
      const top = (src[y0 * sw + x0] ?? 0) * (1 - tx) + (src[y0 * sw + x1] ?? 0) * tx;
      const bottom = (src[y1 * sw + x0] ?? 0) * (1 - tx) + (src[y1 * sw + x1] ?? 0) * tx;
      out[y * dw + x] = top * (1 - ty) + bottom * ty;
    }
  }
  return out;
}

export const toByte = (v: number): number => Math.max(0, Math.min(255, Math.round(v * 255)));

/** Draws [0, 1] grey pixels (already at their final size) with the top-left corner at (x, y). */
export function blitGrey(img: RgbImage, grey: ArrayLike<number>, w: number, h: number, x: number, y: number): void {
  for (let yy = 0; yy < h; yy++) {
    for (let xx = 0; xx < w; xx++) {
      const g = toByte(grey[yy * w + xx] ?? 0);
      setPixel(img, x + xx, y + yy, [g, g, g]);
    }
  }
}

/** Makes a width even: 3 bytes x width x height must be even, or Pixel Data needs a pad byte. */
export const even = (n: number): number => (n % 2 === 0 ? n : n + 1);
