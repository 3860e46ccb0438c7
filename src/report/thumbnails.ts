// The similar-cases page: a grid of the top cases' radiographs with, under each, what a radiologist
// compares: rank and match score, the full labels (wrapped, never cut), age and sex, and outcomes.
// The header gives the neighbour vote. A case whose pixels are not at hand gets a "NO IMAGE" box, so
// ranks never shift. No identity of any patient is drawn (cases carry none; the source's is not used).
import type { SimilarCase } from '../shared/cases.js';
import { displayScore, formatCosine, formatScore, type SimilarityCalibration } from '../shared/similarity.js';
import { captionMetrics, drawCaption, textScale } from './caption.js';
import { GLYPH_HEIGHT, textWidth, wrapText } from './font.js';
import { blitGrey, createRgb, drawText, even, fillRect, fitInside, resample, strokeRect, type Rgb, type RgbImage } from './raster.js';
import { checkRetrievalMatches } from './common.js';
import { writeSecondaryCapture } from './sc.js';
import { NO_REFERENCE_CASES, NO_REFERENCE_HINT, outcomeKeys, summarySentences } from './summary.js';
import { outcomeName } from './codes.js';
import type { DecodedImage } from '../shared/analysis.js';
import type { DicomObject, SimilarCasesSCInput } from './types.js';

export const THUMBNAILS_SERIES_DESCRIPTION = 'AI similar case images - NOT FOR DIAGNOSTIC USE';
export const THUMBNAILS_DEFAULT_SERIES_NUMBER = 992;
const DEFAULT_MAX_SIZE = 1024;
const BORDER: Rgb = [110, 110, 110];
export const LABEL_BLUE: Rgb = [170, 220, 255];
const DETAIL_GREY: Rgb = [220, 220, 220];

/** Short outcome names for the narrow cells ("ICU Y"); the SR spells them out. */
/** Under a public reference case; the SR names its collection. */
export const PUBLIC_REFERENCE_TAG = 'PUBLIC REF';
const REFERENCE_AMBER: Rgb = [240, 180, 60];

const SHORT_OUTCOME: Record<string, string> = { intubated: 'INTUBATED', went_icu: 'ICU', in_icu: 'IN ICU', survival: 'SURVIVED', needed_supplemental_o2: 'O2' };

/**
 * What is written under one case, one entry per logical line (each wrapped to the cell):
 * "#1 SCORE 0.83" (or "#1 COS 0.934" without a calibration), labels, "52 Y F", outcomes.
 */
export function caseLabelLines(
  c: SimilarCase,
  calibration?: SimilarityCalibration,
): { head: string; labels: string; details: string[]; reference: string | null } {
  const score = displayScore(c.similarity, calibration);
  const cosine = `COS ${formatCosine(c.similarity)}`;
  const head = score === null ? `#${c.rank} ${cosine}` : `#${c.rank} SCORE ${formatScore(score)}`;
  const r = c.case;
  const labels = r.labels.length > 0 ? r.labels.join(', ') : 'unlabelled';
  const age = r.age !== null && Number.isFinite(r.age) ? `${Math.round(r.age)} Y` : 'AGE ?';
  // With a score the raw cosine still shows, on its own line (a 4-column cell holds 20 characters).
  const details = [...(score === null ? [] : [cosine]), `${age} ${r.sex ?? 'SEX ?'}`];
  const outcomes = outcomeKeys([r])
    .map((k) => [k, (r.outcomes[k] ?? '').trim()] as const)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${SHORT_OUTCOME[k.toLowerCase()] ?? outcomeName(k).summary} ${v.toUpperCase().slice(0, 3)}`);
  if (outcomes.length > 0) details.push(outcomes.join(', '));
  // A public reference case (archive/reference) is not one of this hospital's patients: tagged so.
  return { head, labels, details, reference: r.publicCollection ? PUBLIC_REFERENCE_TAG : null };
}

function columnsFor(n: number): number {
  return n <= 3 ? Math.max(1, n) : Math.ceil(Math.sqrt(n));
}

function drawThumbnail(page: RgbImage, image: DecodedImage | undefined, x: number, y: number, box: number, scale: number): void {
  if (image === undefined || image.width < 1 || image.height < 1 || image.pixels.length < image.width * image.height) {
    fillRect(page, x, y, box, box, [40, 40, 40]);
    const text = 'NO IMAGE';
    const s = textWidth(text, scale) + 4 <= box ? scale : 1;
    drawText(page, text, x + Math.floor((box - textWidth(text, s)) / 2), y + Math.floor((box - GLYPH_HEIGHT * s) / 2), s, [200, 200, 200]);
  } else {
    const fitted = fitInside(image.width, image.height, box, box, false);
    const grey = resample(image.pixels, image.width, image.height, fitted.width, fitted.height);
    blitGrey(page, grey, fitted.width, fitted.height, x + Math.floor((box - fitted.width) / 2), y + Math.floor((box - fitted.height) / 2));
  }
  strokeRect(page, x - 1, y - 1, box + 2, box + 2, BORDER);
}

interface Line {
  text: string;
  colour: Rgb;
}

/** The case's lines wrapped to `width` pixels at `scale`. */
function caseLines(c: SimilarCase, calibration: SimilarityCalibration | undefined, scale: number, width: number): Line[] {
  const { head, labels, details, reference } = caseLabelLines(c, calibration);
  const wrap = (text: string, colour: Rgb): Line[] => wrapText(text, scale, width).map((t) => ({ text: t, colour }));
  return [
    ...wrap(head, [255, 255, 255]),
    ...wrap(labels, LABEL_BLUE),
    ...details.flatMap((d) => wrap(d, DETAIL_GREY)),
    ...(reference === null ? [] : wrap(reference, REFERENCE_AMBER)),
  ];
}

function drawLines(page: RgbImage, lines: readonly Line[], x: number, y: number, scale: number, step: number): void {
  lines.forEach((l, i) => drawText(page, l.text, x, y + i * step, scale, l.colour));
}

/** The thumbnails page as RGB pixels (exported for tests and previews). */
export function renderSimilarCases(input: SimilarCasesSCInput): RgbImage {
  const cases = [...input.retrieval.cases].sort((a, b) => a.rank - b.rank);
  const calibration = input.model.similarityCalibration;
  const maxSize = Math.max(256, input.maxSize ?? DEFAULT_MAX_SIZE);
  const scale = textScale(maxSize);
  // Case text one size smaller than the header: 20 characters a line in a 4-column 1024-px page.
  const small = Math.max(1, scale - 1);
  const caption = captionMetrics(scale);
  const pad = caption.pad;
  const step = GLYPH_HEIGHT * small + caption.lineGap;
  const width = even(Math.max(maxSize, caption.minWidth));
  const s = summarySentences(input.retrieval, calibration);
  const headerText = cases.length === 0 ? [NO_REFERENCE_CASES, NO_REFERENCE_HINT] : [s.cases, ...(s.vote === '' ? [] : [`Vote: ${s.vote}`])];
  const header = headerText.flatMap((t, i) => wrapText(t, i === 0 ? scale : small, width - 2 * pad).map((text) => ({ text, scale: i === 0 ? scale : small })));
  const headerHeight = pad + header.reduce((h, l) => h + GLYPH_HEIGHT * l.scale + caption.lineGap, 0) + pad;

  const n = cases.length;
  const cols = columnsFor(Math.max(1, n));
  const rows = n === 0 ? 0 : Math.ceil(n / cols);
  const cellWidth = Math.floor((width - pad * (cols + 1)) / cols);
  const lines = cases.map((c) => caseLines(c, calibration, small, cellWidth));
  const textHeight = pad + Math.max(0, ...lines.map((l) => l.length)) * step;
  // Square thumbnails as wide as a cell, shrunk if the rows would not fit the page height.
  const byHeight = rows === 0 ? 0 : Math.floor((maxSize - headerHeight - caption.height - rows * (textHeight + pad)) / rows);
  const box = rows === 0 ? 0 : Math.max(32, Math.min(cellWidth, byHeight));
  const height = headerHeight + rows * (box + textHeight + pad) + caption.height;
  const page = createRgb(width, height);

  let y = pad;
  for (const l of header) {
    drawText(page, l.text, pad, y, l.scale, l.scale === scale ? [255, 255, 255] : LABEL_BLUE);
    y += GLYPH_HEIGHT * l.scale + caption.lineGap;
  }
  cases.forEach((c, i) => {
    const x = pad + (i % cols) * (cellWidth + pad);
    const top = headerHeight + Math.floor(i / cols) * (box + textHeight + pad);
    drawThumbnail(page, input.caseImages?.get(c.case.SOPInstanceUID), x, top, box, small);
    drawLines(page, lines[i] ?? [], x, top + box + pad, small, step);
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
    DerivationDescription: `Thumbnails of the ${input.retrieval.cases.length} archived cases most similar to the source image by ${input.model.name} ${input.model.version}; rank, match score, cosine similarity, labels, age, sex, outcomes, PUBLIC REF under public reference cases and the neighbour vote burned in`,
    sourceRelation: 'related',
  });
}
