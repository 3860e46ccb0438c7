// Labels and clinical data of archive cases from a CSV whose columns follow ../shared/data/cxr/labels.csv
// (label, label_group, age, sex, survival, intubated, went_icu, in_icu, needed_supplemental_O2,
// temperature, pO2_saturation, ...; image_path relative to the CSV's folder), or keyed by
// SOPInstanceUID / StudyInstanceUID / AccessionNumber for DICOM studies (`precedent labels load`).
import { readFileSync } from 'node:fs';
import type { CaseFacts } from '../shared/case-store.js';
import { parseCsv } from '../shared/csv.js';
import { PrecedentError } from '../shared/errors.js';

export interface LabelsRow {
  /** 1-based line of the row in the file (header is line 1). */
  line: number;
  imagePath: string;
  /** patient_group (patients known to share images), else patient_id; '' when absent. */
  patientId: string;
  SOPInstanceUID: string;
  StudyInstanceUID: string;
  AccessionNumber: string;
  facts: CaseFacts;
}

const OUTCOMES = ['survival', 'intubated', 'went_icu', 'in_icu', 'needed_supplemental_O2'];
// Identity, file and pixel bookkeeping: never "clinical" data. PatientID is dropped on purpose.
const NOT_CLINICAL = new Set(
  [
    'image_path', 'patient_id', 'patient_group', 'PatientID', 'IssuerOfPatientID', 'PatientName', 'label', 'labels', 'age', 'PatientAge',
    'sex', 'PatientSex', 'SOPInstanceUID', 'StudyInstanceUID', 'AccessionNumber', 'SeriesInstanceUID', 'SOPClassUID', 'file', 'modality',
    'variant', 'transfer_syntax', 'transfer_syntax_uid', 'lossy', 'rows', 'columns', 'bytes', 'dciodvfy_errors', 'dciodvfy_warnings',
    'render_maxdiff', 'note', 'width', 'height', 'license', 'split',
  ].map((c) => c.toLowerCase()),
);

/** DICOM AS (052Y, 006M, 010W, 003D) or a plain number of years. */
export function parseAge(value: string): number | null {
  const v = value.trim();
  if (v === '') return null;
  const as = /^(\d{3})([DWMY])$/i.exec(v);
  if (as) {
    const n = Number(as[1]);
    const unit = (as[2] ?? 'Y').toUpperCase();
    return unit === 'Y' ? n : Math.round((n / (unit === 'M' ? 12 : unit === 'W' ? 52.1775 : 365.25)) * 100) / 100;
  }
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 && n < 150 ? n : null;
}

export function parseSex(value: string): CaseFacts['sex'] {
  const v = value.trim().toUpperCase();
  return v === 'M' || v === 'F' || v === 'O' ? v : null;
}

function labelsOf(value: string): string[] {
  return [...new Set(value.split(/[|;]/).map((s) => s.trim()).filter(Boolean))];
}

export function readLabelsCsv(file: string): { rows: LabelsRow[]; columns: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (cause) {
    throw new PrecedentError('INPUT_INVALID', `cannot read the labels CSV ${file}`, { cause });
  }
  const [header, ...body] = parseCsv(text);
  if (!header) throw new PrecedentError('INPUT_INVALID', `${file} is empty`);
  const columns = header.map((h) => h.trim());
  const at = new Map(columns.map((c, i) => [c.toLowerCase(), i]));
  const get = (r: string[], ...names: string[]): string => {
    for (const n of names) {
      const i = at.get(n.toLowerCase());
      if (i !== undefined && (r[i] ?? '').trim() !== '') return (r[i] ?? '').trim();
    }
    return '';
  };
  const problems: string[] = [];
  const rows = body.map((r, i): LabelsRow => {
    if (r.length !== columns.length) problems.push(`line ${i + 2}: ${r.length} fields, the header has ${columns.length}`);
    const outcomes: Record<string, string> = {};
    const clinical: Record<string, string> = {};
    columns.forEach((c, j) => {
      const v = (r[j] ?? '').trim();
      if (v === '') return;
      if (OUTCOMES.some((o) => o.toLowerCase() === c.toLowerCase())) outcomes[c] = v;
      else if (!NOT_CLINICAL.has(c.toLowerCase())) clinical[c] = v;
    });
    return {
      line: i + 2,
      imagePath: get(r, 'image_path'),
      patientId: get(r, 'patient_group', 'patient_id'),
      SOPInstanceUID: get(r, 'SOPInstanceUID', 'sop_instance_uid'),
      StudyInstanceUID: get(r, 'StudyInstanceUID', 'study_instance_uid'),
      AccessionNumber: get(r, 'AccessionNumber', 'accession_number'),
      facts: { labels: labelsOf(get(r, 'labels', 'label')), age: parseAge(get(r, 'age', 'PatientAge')), sex: parseSex(get(r, 'sex', 'PatientSex')), outcomes, clinical },
    };
  });
  if (problems.length > 0) throw new PrecedentError('INPUT_INVALID', `${file} is not a valid CSV: ${problems.slice(0, 5).join('; ')}`, { details: problems });
  return { rows, columns };
}
