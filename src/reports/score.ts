// Scores the labeller against the Open-i MeSH indexing: abnormal-vs-normal and, where a MeSH heading
// says the same thing as a finding label, per finding. Counts are weighted so the caller's bootstrap
// (eval/bootstrap.ts) can resample reports.
import type { Labeller } from './labeller.js';
import { meshStatus, type OpenIReport } from './openi.js';

/** Finding label -> the MeSH major headings (the part before the first `/`) that index it. */
export const MESH_FOR_FINDING: Readonly<Record<string, readonly string[]>> = {
  cardiomegaly: ['Cardiomegaly', 'Cardiac Shadow'],
  effusion: ['Pleural Effusion'],
  pneumothorax: ['Pneumothorax'],
  consolidation: ['Consolidation'],
  opacity: ['Opacity', 'Density', 'Infiltrate', 'Airspace Disease'],
  'nodule/mass': ['Nodule', 'Mass'],
  edema: ['Pulmonary Edema', 'Pulmonary Congestion'],
  atelectasis: ['Pulmonary Atelectasis'],
  pneumonia: ['Pneumonia'],
};

/** One scored report: the reference and the labeller's call, for normal/abnormal and each finding. */
export interface ScoredReport {
  id: string;
  reference: boolean;
  predicted: boolean;
  findings: Record<string, { reference: boolean; predicted: boolean }>;
}

export function scoreReports(labeller: Labeller, reports: readonly OpenIReport[]): { scored: ScoredReport[]; notIndexed: number } {
  const scored: ScoredReport[] = [];
  let notIndexed = 0;
  for (const r of reports) {
    const status = meshStatus(r.major);
    if (status === undefined) {
      notIndexed++;
      continue;
    }
    const labels = labeller.label(r.sections);
    const headings = new Set(r.major.map((t) => t.split('/')[0]!.trim()));
    const findings = Object.fromEntries(
      Object.entries(MESH_FOR_FINDING).map(([label, mesh]) => [
        label,
        { reference: mesh.some((m) => headings.has(m)), predicted: labels.findings.includes(label) },
      ]),
    );
    scored.push({ id: r.id, reference: status === 'abnormal', predicted: labels.status === 'abnormal', findings });
  }
  return { scored, notIndexed };
}

export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export function confusion(pairs: ReadonlyArray<{ reference: boolean; predicted: boolean }>, weights?: ArrayLike<number>): Confusion {
  const c = { tp: 0, fp: 0, fn: 0, tn: 0 };
  pairs.forEach((p, i) => {
    const w = weights ? (weights[i] ?? 0) : 1;
    if (p.reference) c[p.predicted ? 'tp' : 'fn'] += w;
    else c[p.predicted ? 'fp' : 'tn'] += w;
  });
  return c;
}

const ratio = (a: number, b: number): number | undefined => (b > 0 ? a / b : undefined);

export const METRICS = {
  sensitivity: (c: Confusion) => ratio(c.tp, c.tp + c.fn),
  specificity: (c: Confusion) => ratio(c.tn, c.tn + c.fp),
  ppv: (c: Confusion) => ratio(c.tp, c.tp + c.fp),
  f1: (c: Confusion) => ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn),
} as const;

export type MetricName = keyof typeof METRICS;
