// The similar-cases page: a grid of the top cases' radiographs with rank, similarity and labels
// burned in, for viewers that show no SR. A case whose pixels are not at hand gets a "NO IMAGE" box,
// so ranks never shift. Cases are identified by rank only: no other patient's data is drawn.
import type { SimilarCase } from '../shared/cases.js';
import { captionMetrics, drawCaption, textScale } from './caption.js';
import { fitText, GLYPH_HEIGHT, textWidth } from './font.js';
import { blitGrey, createRgb, drawText, even, fillRect, fitInside, resample, strokeRect, type RgbImage } from './raster.js';
import { checkRetrievalMatches } from './common.js';
import { writeSecondaryCapture } from './sc.js';
import type { DecodedImage } from '../shared/analysis.js';
import type { DicomObject, SimilarCasesSCInput } from './types.js';

export const THUMBNAILS_SERIES_DESCRIPTION = 'AI similar case images - NOT FOR DIAGNOSTIC USE';
export const THUMBNAILS_DEFAULT_SERIES_NUMBER = 992;
const DEFAULT_MAX_SIZE = 1024;
const BORDER: readonly [number, number, number] = [110, 110, 110];

export function caseLabelLines(c: SimilarCase): [string, string] {
  const labels = c.case.labels.length > 0 ? c.case.labels.join(', ') : 'unlabelled';
  // One space: "#10 SIM 0.93" still fits the cell of a 10-case page (1024 px) unabridged.
  return [`#${c.rank} SIM ${c.similarity.toFixed(2)}`, labels];
}

function columnsFor(n: number): number {
  return n <= 3 ? Math.max(1, n) : Math.ceil(Math.sqrt(n));
}

function drawThumbnail(page: RgbImage, image: DecodedImage | undefined, x: number, y: number, box: number, scale: number): void {
  if (image === undefined || image.width < 1 || image.height < 1 || image.pixels.length < image.width * image.height) {
    fillRect(page, x, y, box, box, [40, 40, 40]);
    const text = 'NO IMAGE';
    drawText(page, text, x + Math.floor((box - textWidth(text, scale)) / 2), y + Math.floor((box - GLYPH_HEIGHT * scale) / 2), scale, [200, 200, 200]);
  } else {
    const fitted = fitInside(image.width, image.height, box, box, false);
    const grey = resample(image.pixels, image.width, image.height, fitted.width, fitted.height);
    blitGrey(page, grey, fitted.width, fitted.height, x + Math.floor((box - fitted.width) / 2), y + Math.floor((box - fitted.height) / 2));
  }
  strokeRect(page, x - 1, y - 1, box + 2, box + 2, BORDER);
}

/** The thumbnails page as RGB pixels (exported for tests and previews). */
export function renderSimilarCases(input: SimilarCasesSCInput): RgbImage {
  const cases = [...input.retrieval.cases].sort((a, b) => a.rank - b.rank);
  const maxSize = Math.max(256, input.maxSize ?? DEFAULT_MAX_SIZE);
  const scale = textScale(maxSize);
  const caption = captionMetrics(scale);
  const pad = caption.pad;
  const lineHeight = GLYPH_HEIGHT * scale;
  const headerHeight = pad + lineHeight + pad;
  const labelHeight = pad + lineHeight + caption.lineGap + lineHeight + pad;
  const n = Math.max(1, cases.length);
  const cols = columnsFor(n);
  const rows = Math.ceil(n / cols);
  // Square cells as large as the width allows, shrunk if the rows would not fit the height.
  const byWidth = Math.floor((maxSize - pad * (cols + 1)) / cols);
  const byHeight = Math.floor((maxSize - headerHeight - caption.height - rows * (labelHeight + pad)) / rows);
  const box = Math.max(32, Math.min(byWidth, byHeight));
  const width = even(Math.max(cols * box + pad * (cols + 1), caption.minWidth));
  const height = headerHeight + rows * (box + labelHeight) + caption.height;
  const page = createRgb(width, height);

  const header = cases.length === 0 ? 'NO SIMILAR PRIOR CASES FOUND' : `${cases.length} MOST SIMILAR PRIOR CASES`;
  drawText(page, fitText(header, scale, width - 2 * pad), pad, pad, scale);
  cases.forEach((c, i) => {
    const x = pad + (i % cols) * (box + pad);
    const y = headerHeight + Math.floor(i / cols) * (box + labelHeight);
    drawThumbnail(page, input.caseImages?.get(c.case.SOPInstanceUID), x, y, box, scale);
    const [first, second] = caseLabelLines(c);
    drawText(page, fitText(first, scale, box), x, y + box + pad, scale);
    drawText(page, fitText(second, scale, box), x, y + box + pad + lineHeight + caption.lineGap, scale, [170, 220, 255]);
  });
  drawCaption(page, input.model, caption);
  return page;
}

/** Part 10 bytes of the similar-cases thumbnail page (Secondary Capture), in the source image's study. */
export function buildSimilarCasesSC(input: SimilarCasesSCInput): DicomObject {
  checkRetrievalMatches(input.retrieval, input);
  const page = renderSimilarCases(input);
  return writeSecondaryCapture(input, page, {
    SeriesDescription: THUMBNAILS_SERIES_DESCRIPTION,
    defaultSeriesNumber: THUMBNAILS_DEFAULT_SERIES_NUMBER,
    DerivationDescription: `Thumbnails of the ${input.retrieval.cases.length} archived cases most similar to the source image by ${input.model.name} ${input.model.version}; rank, cosine similarity and labels burned in`,
    sourceRelation: 'related',
  });
}
