// `precedent labels score-openi <tgz>`: the report labeller measured against the Open-i MeSH indexing,
// abnormal-vs-normal and per finding, with bootstrap intervals over reports (docs/reports.md).
import { clusterBootstrap, type Interval } from '../eval/index.js';
import {
  confusion,
  createLabeller,
  MESH_FOR_FINDING,
  METRICS,
  readOpenIReports,
  reportRules,
  scoreReports,
  type MetricName,
  type ReportRules,
} from '../reports/index.js';

export interface ScoreRow {
  name: string;
  /** Reports whose reference is positive (abnormal / the finding indexed) and negative. */
  positives: number;
  negatives: number;
  values: Record<MetricName, number | undefined>;
  intervals: Record<MetricName, Interval | null>;
}

export interface OpenIScore {
  reports: number;
  notIndexed: number;
  rows: ScoreRow[];
}

export function scoreOpenI(tgz: string, rules: ReportRules, options: { resamples: number; seed: number }): OpenIScore {
  const labeller = createLabeller(rules);
  const { scored, notIndexed } = scoreReports(labeller, readOpenIReports(tgz));
  // Every report is its own patient group: Open-i publishes no patient key, one study per report.
  const groups = scored.map((s) => s.id);
  const tasks: Array<[string, Array<{ reference: boolean; predicted: boolean }>]> = [
    ['abnormal', scored],
    ...Object.keys(MESH_FOR_FINDING).map((label): [string, Array<{ reference: boolean; predicted: boolean }>] => [
      label,
      scored.map((s) => s.findings[label]!),
    ]),
  ];
  const names = Object.keys(METRICS) as MetricName[];
  const rows = tasks.map(([name, pairs]) => {
    const c = confusion(pairs);
    const statistics = Object.fromEntries(names.map((m) => [m, (w: Float64Array) => METRICS[m](confusion(pairs, w))]));
    return {
      name,
      positives: c.tp + c.fn,
      negatives: c.tn + c.fp,
      values: Object.fromEntries(names.map((m) => [m, METRICS[m](c)])) as ScoreRow['values'],
      intervals: clusterBootstrap(groups, statistics, options) as ScoreRow['intervals'],
    };
  });
  return { reports: scored.length, notIndexed, rows };
}

const fmt = (v: number | undefined, i: Interval | null): string =>
  v === undefined ? 'n/a' : `${v.toFixed(3)}${i ? ` [${i.lo.toFixed(3)}, ${i.hi.toFixed(3)}]` : ''}`;

export function scoreTable(score: OpenIScore): string {
  const lines = [
    `${score.reports} indexed reports (${score.notIndexed} without indexing left out); 95 % bootstrap intervals over reports`,
    '',
    '| label | reference + | reference - | sensitivity | specificity | PPV | F1 |',
    '|---|---:|---:|---|---|---|---|',
    ...score.rows.map(
      (r) =>
        `| ${r.name} | ${r.positives} | ${r.negatives} | ${(['sensitivity', 'specificity', 'ppv', 'f1'] as const).map((m) => fmt(r.values[m], r.intervals[m])).join(' | ')} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

export function runScoreOpenI(tgz: string, opts: { rules?: string; uncertain?: string; resamples: number; seed: number }): string {
  const rules = reportRules(opts.rules);
  if (opts.uncertain === 'positive' || opts.uncertain === 'ignore') rules.uncertainAs = opts.uncertain;
  return scoreTable(scoreOpenI(tgz, rules, { resamples: opts.resamples, seed: opts.seed }));
}
