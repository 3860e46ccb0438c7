// The attention heatmap: the model's attention in viridis, alpha-blended over the radiograph so the
// anatomy stays readable, with a colour bar and the caption. Page layout:
//
//   +---------------------------+-------+
//   | radiograph + attention    | HIGH  |
//   |                           | [bar] |
//   |                           | LOW   |
//   +---------------------------+-------+
//   | COLOUR: MODEL ATTENTION, NOT A... |
//   | MODEL <name> <version>            |
//   | AI OUTPUT - NOT FOR DIAGNOSTIC USE |
//   +-----------------------------------+
import { captionMetrics, drawCaption, textScale } from './caption.js';
import { viridis } from './colormap.js';
import { GLYPH_HEIGHT, textWidth } from './font.js';
import { createRgb, drawText, even, fitInside, resample, setPixel, strokeRect, toByte, type Rgb, type RgbImage } from './raster.js';
import { writeSecondaryCapture } from './sc.js';
import type { DicomObject, HeatmapSCInput } from './types.js';

export const HEATMAP_SERIES_DESCRIPTION = 'AI attention heatmap - NOT FOR DIAGNOSTIC USE';
export const HEATMAP_DEFAULT_SERIES_NUMBER = 991;
export const DEFAULT_MAX_SIZE = 1024;
/** HIGH / LOW alone do not say of what: a reader could take the colour for a lesion map. */
export const HEATMAP_NOTE = 'COLOUR: MODEL ATTENTION, NOT A LESION MAP';

/** Opacity at full attention: enough to see the colour, little enough to see the lungs under it. */
const ALPHA_MAX = 0.6;

/** The colour a pixel of grey `g` takes under attention `a` (both [0, 1]). */
export function blend(g: number, a: number): Rgb {
  const t = Number.isFinite(a) ? Math.max(0, Math.min(1, a)) : 0;
  const alpha = ALPHA_MAX * t;
  const [r, gr, b] = viridis(t);
  const grey = Math.max(0, Math.min(1, Number.isFinite(g) ? g : 0)) * 255;
  return [Math.round(grey * (1 - alpha) + r * alpha), Math.round(grey * (1 - alpha) + gr * alpha), Math.round(grey * (1 - alpha) + b * alpha)];
}

function checkSizes(input: HeatmapSCInput): void {
  const { image, attention } = input;
  if (image.width < 1 || image.height < 1 || image.pixels.length < image.width * image.height) {
    throw new RangeError(`decoded image ${image.width}x${image.height} has ${image.pixels.length} pixels`);
  }
  if (attention.width < 1 || attention.height < 1 || attention.data.length < attention.width * attention.height) {
    throw new RangeError(`attention map ${attention.width}x${attention.height} has ${attention.data.length} values`);
  }
}

/** The heatmap page as RGB pixels (exported for tests and for previews). */
export function renderHeatmap(input: HeatmapSCInput): RgbImage {
  checkSizes(input);
  const { image, attention, model } = input;
  const maxSize = Math.max(256, input.maxSize ?? DEFAULT_MAX_SIZE);
  const scale = textScale(Math.min(maxSize, Math.max(image.width, image.height)));
  // The page is at least as wide as the note, so it is never cut.
  const caption = captionMetrics(scale, HEATMAP_NOTE);
  const pad = caption.pad;
  const barWidth = 6 * scale + 6;
  const labelWidth = textWidth('HIGH', scale);
  const panelWidth = pad + Math.max(barWidth, labelWidth) + pad;
  const fitted = fitInside(image.width, image.height, maxSize - panelWidth, maxSize - caption.height);
  const width = even(Math.max(fitted.width + panelWidth, caption.minWidth));
  const barTop = pad + GLYPH_HEIGHT * scale + pad;
  const barHeight = Math.max(16, Math.round(fitted.height * 0.6));
  const height = Math.max(fitted.height, barTop + barHeight + pad + GLYPH_HEIGHT * scale + pad) + caption.height;
  const page = createRgb(width, height);

  const grey = resample(image.pixels, image.width, image.height, fitted.width, fitted.height);
  const att = resample(attention.data, attention.width, attention.height, fitted.width, fitted.height);
  for (let y = 0; y < fitted.height; y++) {
    for (let x = 0; x < fitted.width; x++) {
      const i = y * fitted.width + x;
      setPixel(page, x, y, blend(grey[i] ?? 0, att[i] ?? 0));
    }
  }

  // Colour bar: what each attention level looks like over mid-grey, high at the top.
  const barX = fitted.width + pad + Math.floor((Math.max(barWidth, labelWidth) - barWidth) / 2);
  const labelX = fitted.width + pad;
  drawText(page, 'HIGH', labelX, pad, scale);
  for (let y = 0; y < barHeight; y++) {
    const colour = blend(0.5, 1 - y / Math.max(1, barHeight - 1));
    for (let x = 0; x < barWidth; x++) setPixel(page, barX + x, barTop + y, colour);
  }
  const g = toByte(0.8);
  strokeRect(page, barX - 1, barTop - 1, barWidth + 2, barHeight + 2, [g, g, g]);
  drawText(page, 'LOW', labelX, barTop + barHeight + pad, scale);

  drawCaption(page, model, caption, HEATMAP_NOTE);
  return page;
}

/** Part 10 bytes of the heatmap Secondary Capture, in the source image's study. */
export function buildHeatmapSC(input: HeatmapSCInput): DicomObject {
  const page = renderHeatmap(input);
  return writeSecondaryCapture(input, page, {
    SeriesDescription: HEATMAP_SERIES_DESCRIPTION,
    defaultSeriesNumber: HEATMAP_DEFAULT_SERIES_NUMBER,
    DerivationDescription: `Attention map of ${input.model.name} ${input.model.version} (viridis, alpha-blended) over the source radiograph, resampled; model attention, not a lesion map; caption burned in`,
    sourceRelation: 'derived',
  });
}
