// PNG / JPEG radiographs (exports, research sets) -> the same display-space DecodedImage as DICOM:
// row-major luminance in [0, 1], 0 black. Colour is reduced to luminance with the BT.601 weights that
// the DICOM path uses for colour photometrics; alpha is ignored (radiograph exports are opaque).
// EXIF orientation is not applied.
import { open, readFile } from 'node:fs/promises';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { sharedFloats, type DecodedImage } from '../shared/analysis.js';
import { PrecedentError } from '../shared/errors.js';

export type RasterFormat = 'png' | 'jpeg';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** 'png' or 'jpeg' from the first bytes of a file; undefined for anything else (e.g. DICOM). */
export function rasterFormat(head: Uint8Array): RasterFormat | undefined {
  if (PNG_SIGNATURE.every((b, i) => head[i] === b)) return 'png';
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  return undefined;
}

/** Sniffs a file's first bytes (a DICOM Part 10 file starts with a 128-byte preamble, never these). */
export async function isRasterFile(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = new Uint8Array(8);
    await handle.read(head, 0, 8, 0);
    return rasterFormat(head) !== undefined;
  } finally {
    await handle.close();
  }
}

function luminance(rgba: ArrayLike<number>, pixels: number, max: number): Float32Array {
  const out = sharedFloats(pixels);
  for (let i = 0, p = 0; i < pixels; i++, p += 4) {
    const y = 0.299 * (rgba[p] ?? 0) + 0.587 * (rgba[p + 1] ?? 0) + 0.114 * (rgba[p + 2] ?? 0);
    out[i] = Math.min(1, Math.max(0, y / max));
  }
  return out;
}

function isGray(rgba: ArrayLike<number>, pixels: number): boolean {
  for (let p = 0; p < pixels * 4; p += 4) if (rgba[p] !== rgba[p + 1] || rgba[p] !== rgba[p + 2]) return false;
  return true;
}

function decodePng(bytes: Buffer): DecodedImage {
  // skipRescale keeps 16-bit samples at full precision (a Uint16Array of RGBA).
  const png = PNG.sync.read(bytes, { skipRescale: true });
  const pixels = png.width * png.height;
  const data = png.data as unknown as ArrayLike<number>;
  // Palette images are expanded to 8-bit RGBA; other depths keep their own range.
  const max = (png.colorType as number) === 3 ? 255 : 2 ** png.depth - 1;
  const notes = [`PNG ${png.depth}-bit`];
  if (!isGray(data, pixels)) notes.push('colour converted to luminance (BT.601)');
  return { width: png.width, height: png.height, pixels: luminance(data, pixels, max), notes };
}

function decodeJpeg(bytes: Buffer): DecodedImage {
  const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
  const pixels = img.width * img.height;
  const notes = ['JPEG 8-bit'];
  if (!isGray(img.data, pixels)) notes.push('colour converted to luminance (BT.601)');
  return { width: img.width, height: img.height, pixels: luminance(img.data, pixels, 255), notes };
}

/** Decodes PNG or JPEG bytes; throws DECODE_FAILED for anything else or a corrupt file. */
export function decodeRaster(bytes: Buffer): DecodedImage {
  const format = rasterFormat(bytes);
  if (format === undefined) throw new PrecedentError('DECODE_FAILED', 'the file is neither PNG nor JPEG');
  let image: DecodedImage;
  try {
    image = format === 'png' ? decodePng(bytes) : decodeJpeg(bytes);
  } catch (cause) {
    throw new PrecedentError('DECODE_FAILED', `${format.toUpperCase()} decoding failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  if (!(image.width > 0 && image.height > 0)) throw new PrecedentError('DECODE_FAILED', `${format.toUpperCase()} image has no pixels`);
  return image;
}

/** Reads and decodes a PNG or JPEG file to display-space luminance in [0, 1]. */
export async function decodeRasterFile(path: string): Promise<DecodedImage> {
  return decodeRaster(await readImageFile(path));
}

/**
 * The bytes of an image file, or DECODE_FAILED naming only the errno code (ENOENT, EACCES): the path
 * may carry identifiers and stays out of the message.
 */
export async function readImageFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'I/O error';
    throw new PrecedentError('DECODE_FAILED', `the image file cannot be read (${code})`, { cause });
  }
}
