// The evaluation set: which images, their class (label column or a label map), patient group and
// collection, and whether each is a query, a searchable gallery image, or both (split restriction).
import { readFileSync } from 'node:fs';
import { ageDecision } from './age.js';
import { readCsvTable } from './csv.js';
import { EvalInputError } from './errors.js';

export interface EvalItem {
  /** Data row of the labels CSV (0-based, header excluded): the row of --save-embeddings. */
  row: number;
  /** As written in the labels CSV (relative to the images folder, or absolute). */
  imagePath: string;
  /** Images of one patient group never retrieve one another. */
  patientGroup: string;
  /** The class used for relevance and the vote (after the label map). */
  label: string;
  /** Source collection (the `dataset` column; '(all)' when the CSV has none). */
  dataset: string;
  query: boolean;
  gallery: boolean;
}

/**
 * `--label-map FILE`: a JSON object from raw label to class. A key "label/label_group" (e.g.
 * "other pneumonia/viral") wins over a key "label" (e.g. "normal"); a null value, or a row that no key
 * matches, leaves the image out of the evaluation (neither query nor gallery).
 */
export type LabelMap = Record<string, string | null>;

export interface SplitSelection {
  /** CSV with image_path and split columns (e.g. models/default/split.csv). */
  file: string;
  /** Split value(s) whose images are the queries. */
  subset: string[];
  /** Split value(s) whose images are searched; default: the same as `subset`. */
  gallerySubset?: string[];
}

export interface EvalSetOptions {
  labelsFile: string;
  labelMapFile?: string;
  split?: SplitSelection;
  /** Leave out rows under 18 years (the `age` column; without an age, the pediatric collection). */
  adultsOnly?: boolean;
}

/** Why a row of the labels CSV is not in the evaluation set. */
export type LeftOutReason = 'label map' | 'split' | 'under 18' | 'pediatric collection without age';

export interface AdultsOnlyTally {
  underAge: number;
  pediatricWithoutAge: number;
  adultWithoutAge: number;
  ageColumn: boolean;
}

export interface EvalSet {
  items: EvalItem[];
  /** Rows of the labels CSV. */
  rows: number;
  excludedByLabelMap: Record<string, number>;
  excludedBySplit: number;
  /** Rows of the labels CSV that the split file does not list (left out when a split is given). */
  missingFromSplit: number;
  /** --adults-only: what it left out and kept; null without it. */
  adultsOnly: AdultsOnlyTally | null;
  /** Every row not in `items`, in row order. */
  leftOut: Array<{ row: number; reason: LeftOutReason }>;
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new EvalInputError(`cannot read the ${what} ${file}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
  }
}

export function parseLabelMap(raw: unknown, source: string): LabelMap {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new EvalInputError(`${source}: a label map is a JSON object {"raw label" or "label/label_group": "class" or null}`);
  }
  const map: LabelMap = {};
  const bad: string[] = [];
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (value === null || (typeof value === 'string' && value.trim() !== '')) map[key.trim()] = value === null ? null : value.trim();
    else bad.push(key);
  }
  if (bad.length > 0) throw new EvalInputError(`${source}: values must be a non-empty class name or null (keys ${bad.join(', ')})`);
  return map;
}

export function loadLabelMap(file: string): LabelMap {
  const text = readText(file, 'label map');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new EvalInputError(`${file} is not valid JSON`, { cause });
  }
  return parseLabelMap(raw, file);
}

/** The class of a row: map["label/label_group"], else map["label"], else excluded (undefined). */
export function mapLabel(map: LabelMap | undefined, label: string, labelGroup: string): string | undefined {
  if (map === undefined) return label === '' ? undefined : label;
  const specific = labelGroup === '' ? undefined : map[`${label}/${labelGroup}`];
  if (specific !== undefined) return specific ?? undefined;
  const general = map[label];
  return general ?? undefined;
}

function readSplit(file: string): Map<string, string> {
  const { header, records } = readCsvTable(readText(file, 'split file'), file);
  for (const col of ['image_path', 'split']) {
    if (!header.includes(col)) throw new EvalInputError(`${file} has no ${col} column (columns: ${header.join(', ')})`);
  }
  const split = new Map<string, string>();
  for (const r of records) split.set(r['image_path'] ?? '', r['split'] ?? '');
  return split;
}

/** Reads the labels CSV (+ split, + label map) into the items to embed and evaluate. */
export function readEvalSet(options: EvalSetOptions): EvalSet {
  const file = options.labelsFile;
  const { header, records } = readCsvTable(readText(file, 'labels CSV'), file);
  const groupColumn = header.includes('patient_group') ? 'patient_group' : header.includes('patient_id') ? 'patient_id' : undefined;
  const missing = ['image_path', 'label'].filter((c) => !header.includes(c));
  if (groupColumn === undefined) missing.push('patient_group (or patient_id)');
  if (missing.length > 0) throw new EvalInputError(`${file} lacks the column(s) ${missing.join(', ')} (columns: ${header.join(', ')})`);
  const map = options.labelMapFile === undefined ? undefined : loadLabelMap(options.labelMapFile);
  const split = options.split === undefined ? undefined : readSplit(options.split.file);
  const querySplits = new Set(options.split?.subset ?? []);
  const gallerySplits = new Set(options.split?.gallerySubset ?? options.split?.subset ?? []);

  const items: EvalItem[] = [];
  const excludedByLabelMap: Record<string, number> = {};
  const leftOut: EvalSet['leftOut'] = [];
  const ageColumn = header.includes('age');
  const adultsOnly: AdultsOnlyTally | null = options.adultsOnly ? { underAge: 0, pediatricWithoutAge: 0, adultWithoutAge: 0, ageColumn } : null;
  let excludedBySplit = 0;
  let missingFromSplit = 0;
  records.forEach((r, i) => {
    const imagePath = r['image_path'] ?? '';
    const patientGroup = r[groupColumn ?? ''] ?? '';
    if (imagePath === '' || patientGroup === '') {
      throw new EvalInputError(`${file} row ${i + 2}: image_path and ${groupColumn ?? 'patient_group'} must not be empty`);
    }
    const rawLabel = r['label'] ?? '';
    const labelGroup = r['label_group'] ?? '';
    const label = mapLabel(map, rawLabel, labelGroup);
    if (label === undefined) {
      const key = labelGroup === '' ? rawLabel : `${rawLabel}/${labelGroup}`;
      excludedByLabelMap[key] = (excludedByLabelMap[key] ?? 0) + 1;
      leftOut.push({ row: i, reason: 'label map' });
      return;
    }
    const dataset = r['dataset'] || '(all)';
    if (adultsOnly !== null) {
      const decision = ageDecision(ageColumn ? (r['age'] ?? '') : undefined, dataset);
      if (decision === 'under-age' || decision === 'pediatric-without-age') {
        if (decision === 'under-age') adultsOnly.underAge++;
        else adultsOnly.pediatricWithoutAge++;
        leftOut.push({ row: i, reason: decision === 'under-age' ? 'under 18' : 'pediatric collection without age' });
        return;
      }
      if (decision === 'adult-without-age') adultsOnly.adultWithoutAge++;
    }
    let query = true;
    let gallery = true;
    if (split !== undefined) {
      const s = split.get(imagePath);
      if (s === undefined) missingFromSplit++;
      query = s !== undefined && querySplits.has(s);
      gallery = s !== undefined && gallerySplits.has(s);
      if (!query && !gallery) {
        excludedBySplit++;
        leftOut.push({ row: i, reason: 'split' });
        return;
      }
    }
    items.push({ row: i, imagePath, patientGroup, label, dataset, query, gallery });
  });
  if (!items.some((it) => it.query)) throw new EvalInputError(`${file}: no image is left to evaluate (check --split/--subset, --label-map and --adults-only)`);
  return { items, rows: records.length, excludedByLabelMap, excludedBySplit, missingFromSplit, adultsOnly, leftOut };
}
