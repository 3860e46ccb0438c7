// Case thumbnails: a decoded radiograph shrunk (area average, no aliasing) to at most
// CASE_THUMBNAIL_SIDE pixels on its long side and quantised to 8 bits, kept in the catalog for cases
// whose files the node does not keep; and back to a DecodedImage for drawing.
import { areaResize } from '../shared/area-resize.js';
import type { DecodedImage } from '../shared/analysis.js';
import { CASE_THUMBNAIL_SIDE, type CaseThumbnail } from '../shared/case-store.js';

export function caseThumbnail(image: DecodedImage, side: number = CASE_THUMBNAIL_SIDE): CaseThumbnail {
  const scale = Math.min(1, side / Math.max(image.width, image.height));
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  const grey = scale === 1 ? image.pixels : areaResize(image.pixels, image.width, image.height, width, height);
  const pixels = new Uint8Array(width * height);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.round(Math.min(1, Math.max(0, grey[i] ?? 0)) * 255);
  return { width, height, pixels };
}

export function thumbnailImage(thumbnail: CaseThumbnail): DecodedImage {
  const pixels = new Float32Array(thumbnail.width * thumbnail.height);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (thumbnail.pixels[i] ?? 0) / 255;
  return { width: thumbnail.width, height: thumbnail.height, pixels, notes: [] };
}
