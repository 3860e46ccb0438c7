// The burned-in caption both Secondary Captures carry: which model made the image and that it is not
// for diagnosis. It is built from the model identity only, so no patient data can reach the pixels.
import { DISCLAIMER } from './common.js';
import { fitText, GLYPH_HEIGHT, textWidth } from './font.js';
import { drawText, fillRect, type RgbImage, BLACK, WHITE } from './raster.js';
import type { ModelIdentity } from './types.js';

export function captionLines(model: ModelIdentity): [string, string] {
  return [`MODEL ${model.name} ${model.version}`, DISCLAIMER];
}

/** Text scale for a page whose long side is `size` pixels: legible at 1024 without dominating 256. */
export function textScale(size: number): number {
  return Math.max(1, Math.min(4, Math.round(size / 340)));
}

export interface CaptionMetrics {
  scale: number;
  pad: number;
  lineGap: number;
  height: number;
  /** The narrowest page that shows the disclaimer uncut. */
  minWidth: number;
}

/** `note`: an extra first line (the heatmap says what its colour means); it must fit minWidth. */
export function captionMetrics(scale: number, note?: string): CaptionMetrics {
  const pad = 4 * scale;
  const lineGap = 3 * scale;
  const lines = note === undefined ? 2 : 3;
  const widest = Math.max(textWidth(DISCLAIMER, scale), note === undefined ? 0 : textWidth(note, scale));
  return { scale, pad, lineGap, height: pad * 2 + (lines - 1) * lineGap + lines * GLYPH_HEIGHT * scale, minWidth: widest + 2 * pad };
}

/** Draws the caption lines (the note, if any, then model and disclaimer) on a black band at the bottom. */
export function drawCaption(img: RgbImage, model: ModelIdentity, m: CaptionMetrics, note?: string): void {
  const top = img.height - m.height;
  fillRect(img, 0, top, img.width, m.height, BLACK);
  const [modelLine, disclaimer] = captionLines(model);
  const maxWidth = img.width - 2 * m.pad;
  const step = GLYPH_HEIGHT * m.scale + m.lineGap;
  let y = top + m.pad;
  if (note !== undefined) {
    drawText(img, fitText(note, m.scale, maxWidth), m.pad, y, m.scale, WHITE);
    y += step;
  }
  drawText(img, fitText(modelLine, m.scale, maxWidth), m.pad, y, m.scale, WHITE);
  drawText(img, disclaimer, m.pad, y + step, m.scale, [255, 210, 0]);
}
