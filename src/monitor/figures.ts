// The running check of the AI against the radiologists: every analysed study whose report arrived is
// a pair (the node's probability of abnormal, the report's label). Figures over a window of pairs:
// sensitivity, specificity, PPV, F1 at a threshold, AUC of the probability, with bootstrap intervals
// over studies (eval/bootstrap.ts), and the same per ISO week for the trend.
import { auc, clusterBootstrap, weightedAuc, rankScores, type Interval } from '../eval/index.js';
import { confusion, METRICS, type Confusion } from '../reports/index.js';
import type { LabelProbability, RetrievalResult } from '../shared/cases.js';
import type { StoredReport } from '../shared/reports.js';

export interface MonitorPair {
  StudyInstanceUID: string;
  /** When the pair formed: the report's arrival (ms since epoch). */
  at: number;
  /** The node's probability that the study is abnormal: 1 - vote probability of `normal`, mean over its images. */
  probability: number;
  /** The radiologist's reading, by the report rules. */
  reportAbnormal: boolean;
}

export const NORMAL_LABEL = 'normal';

const abnormalProbability = (vote: readonly LabelProbability[]): number => 1 - (vote.find((v) => v.label.toLowerCase() === NORMAL_LABEL)?.probability ?? 0);

/** Pairs of current matched reports with the node's stored results of their study (studies without results are skipped). */
export function monitorPairs(reports: readonly StoredReport[], retrievals: (StudyInstanceUID: string) => RetrievalResult[]): MonitorPair[] {
  const pairs: MonitorPair[] = [];
  for (const r of reports) {
    const study = r.matchedStudyInstanceUID;
    if (!study) continue;
    const results = retrievals(study);
    if (results.length === 0) continue;
    const probability = results.reduce((sum, x) => sum + abnormalProbability(x.vote), 0) / results.length;
    pairs.push({ StudyInstanceUID: study, at: r.receivedAt, probability, reportAbnormal: r.labels.status === 'abnormal' });
  }
  return pairs.sort((a, b) => a.at - b.at);
}

export type MonitorMetric = 'sensitivity' | 'specificity' | 'ppv' | 'f1' | 'auc';
export const MONITOR_METRICS: readonly MonitorMetric[] = ['sensitivity', 'specificity', 'ppv', 'f1', 'auc'];

export interface MonitorFigures {
  pairs: number;
  confusion: Confusion;
  values: Record<MonitorMetric, number | undefined>;
  intervals: Record<MonitorMetric, Interval | null>;
}

export function monitorFigures(pairs: readonly MonitorPair[], options: { threshold: number; resamples: number; seed: number }): MonitorFigures {
  const calls = pairs.map((p) => ({ reference: p.reportAbnormal, predicted: p.probability >= options.threshold }));
  const scores = pairs.map((p) => p.probability);
  const positive = pairs.map((p) => p.reportAbnormal);
  const ranked = rankScores(scores);
  const c = confusion(calls);
  const byConfusion = (m: Exclude<MonitorMetric, 'auc'>) => (w: Float64Array) => METRICS[m](confusion(calls, w));
  const statistics = {
    sensitivity: byConfusion('sensitivity'),
    specificity: byConfusion('specificity'),
    ppv: byConfusion('ppv'),
    f1: byConfusion('f1'),
    auc: (w: Float64Array) => weightedAuc(ranked, positive, w),
  };
  return {
    pairs: pairs.length,
    confusion: c,
    values: { sensitivity: METRICS.sensitivity(c), specificity: METRICS.specificity(c), ppv: METRICS.ppv(c), f1: METRICS.f1(c), auc: auc(scores, positive) },
    intervals: clusterBootstrap(
      pairs.map((p) => p.StudyInstanceUID),
      statistics,
      { resamples: options.resamples, seed: options.seed },
    ) as MonitorFigures['intervals'],
  };
}

/** ISO 8601 week of a time, as `2024-W05` (weeks start on Monday; week 1 holds the year's first Thursday). */
export function isoWeek(ms: number): string {
  const t = new Date(ms);
  const d = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
  d.setUTCDate(d.getUTCDate() + 4 - (d.getUTCDay() || 7)); // the Thursday of this week
  const year = d.getUTCFullYear();
  const week = Math.ceil(((d.getTime() - Date.UTC(year, 0, 1)) / 86400000 + 1) / 7);
  return `${year}-W${String(week).padStart(2, '0')}`;
}

export function byWeek(pairs: readonly MonitorPair[]): Map<string, MonitorPair[]> {
  const weeks = new Map<string, MonitorPair[]>();
  for (const p of pairs) {
    const key = isoWeek(p.at);
    weeks.set(key, [...(weeks.get(key) ?? []), p]);
  }
  return new Map([...weeks].sort(([a], [b]) => a.localeCompare(b)));
}
