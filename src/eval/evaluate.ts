// One subset, every model: retrieval (P@k, mAP@10) and the neighbour vote (accuracy, sensitivity,
// specificity, AUC) with cluster-bootstrap intervals drawn once per subset, so that all models (and
// their differences from the raw-pixel baseline) are judged on the same resamples.
//
// Retrieval averages only the queries that have a relevant searchable image: for the others every
// P@k is 0 whatever the model does, so they would only pull all models down alike. They are counted
// instead. The vote keeps them (a vote that cannot name the class is a wrong vote).
import { rankScores, weightedAuc } from './auc.js';
import { clusterBootstrap, type Interval, type WeightedStatistic } from './bootstrap.js';
import type { EvalItem } from './dataset.js';
import {
  confusionMatrix,
  predictedClass,
  tallyAccuracy,
  tallySensitivity,
  tallySpecificity,
  tallyVotes,
  voteProbabilities,
  type VoteOutcome,
  type VoteTally,
} from './diagnosis.js';
import { averagePrecisionAt, precisionAt, relevance, type QueryResult } from './retrieval.js';
import { answerable, searchModels, type SearchedModel } from './search.js';
import type { Subset } from './subsets.js';
import type { Estimate, ModelVectors, SubsetReport, ModelSubsetResult, PerClassResult } from './types.js';

export const RETRIEVAL_METRICS = ['P@1', 'P@5', 'P@10', 'mAP@10'] as const;
export type RetrievalMetric = (typeof RETRIEVAL_METRICS)[number];
/** Depth of the P@k curve and of AP. */
export const CURVE_DEPTH = 10;
/** A class enters macro AUC with at least this many queries (below, its AUC is mostly noise). */
export const MACRO_AUC_MIN_QUERIES = 5;

export interface EvaluateOptions {
  /** Neighbours in the vote. */
  k: number;
  /** Bootstrap resamples (0: no intervals). */
  bootstrap: number;
  seed: number;
  /** The model that the others are compared with (differences), normally the raw-pixel baseline. */
  reference?: string;
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const round = (v: number): number => Math.round(v * 1e4) / 1e4;

function estimate(value: number | undefined, interval: Interval | null | undefined): Estimate {
  if (value === undefined || !Number.isFinite(value)) return { value: null, ci95: null };
  return { value: round(value), ci95: interval ? [round(interval.lo), round(interval.hi)] : null };
}

interface PerModel {
  model: ModelVectors;
  results: QueryResult[];
  /** Per evaluated query: P@1..P@10 and AP@10. */
  curve: number[][];
  ap: number[];
  votes: VoteOutcome[];
  ranked: ReturnType<typeof rankScores>[];
}

/**
 * Mean over the classes chosen on all the subset's queries (macro AUC: >= MACRO_AUC_MIN_QUERIES queries
 * and queries of another class; balanced accuracy: any query); undefined in a resample that lacks one
 * of them, so every resample averages the same classes (a resample without a rare class would
 * otherwise average fewer, easier classes).
 */
function macroOver(classes: readonly number[], value: (c: number) => number | undefined): number | undefined {
  if (classes.length === 0) return undefined;
  let sum = 0;
  for (const c of classes) {
    const v = value(c);
    if (v === undefined) return undefined;
    sum += v;
  }
  return sum / classes.length;
}

/** Weighted mean of the values whose mask is set; undefined when they have no weight. */
function maskedMean(values: readonly number[], mask: readonly boolean[], weights: ArrayLike<number>): number | undefined {
  let sum = 0;
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    if (!mask[i]) continue;
    const w = weights[i] ?? 0;
    sum += w * values[i]!;
    total += w;
  }
  return total > 0 ? sum / total : undefined;
}

/** Chance levels of the vote on these queries: 1 / classes present, and always voting the majority. */
function chanceLevels(truth: readonly number[], classes: readonly string[]): SubsetReport['chance'] {
  const counts = classes.map((_, c) => truth.filter((t) => t === c).length);
  const present = counts.filter((n) => n > 0).length;
  // Ties go to the class that comes first, as in the vote.
  const majority = counts.reduce((best, n, c) => (n > counts[best]! ? c : best), 0);
  if (truth.length === 0) return { classes: 0, uniform: null, majorityClass: null, majorityRate: null };
  return { classes: present, uniform: round(1 / present), majorityClass: classes[majority]!, majorityRate: round(counts[majority]! / truth.length) };
}

function evaluateSubset(subset: Subset, items: readonly EvalItem[], models: readonly SearchedModel[], options: EvaluateOptions): SubsetReport {
  const labels = items.map((it) => it.label);
  const groups = items.map((it) => it.patientGroup);
  const classes = [...new Set([...subset.queries, ...subset.gallery].map((i) => labels[i]!))].sort(byteOrder);
  // Queries whose every gallery image is of their own patient group cannot be answered: left out
  // (the same for every model, since it depends on groups only).
  const { queries, hasRelevant, galleryGroups } = answerable(subset, groups, labels);
  const queryGroups = queries.map((q) => groups[q]!);
  const truth = queries.map((q) => classes.indexOf(labels[q]!));

  const perModel: PerModel[] = models.map(({ model, results: searched }) => {
    const results = searched.get(subset.id) ?? [];
    const curve: number[][] = [];
    const ap: number[] = [];
    const votes: VoteOutcome[] = [];
    results.forEach((r, i) => {
      const rel = relevance(r, labels);
      curve.push(Array.from({ length: CURVE_DEPTH }, (_, k) => precisionAt(rel, k + 1)));
      ap.push(averagePrecisionAt(rel, r.relevant, CURVE_DEPTH));
      const voters = r.neighbours.slice(0, options.k);
      const probabilities = voteProbabilities(voters, labels, classes);
      votes.push({ truth: truth[i]!, predicted: predictedClass(voters, labels, classes, probabilities), probabilities });
    });
    const ranked = classes.map((_, c) => rankScores(votes.map((v) => v.probabilities[c]!)));
    return { model, results, curve, ap, votes, ranked };
  });

  // Every statistic as a function of per-query weights; weights of 1 give the point estimates.
  const positives = classes.map((_, c) => truth.map((t) => t === c));
  const queriesOf = classes.map((_, c) => truth.filter((t) => t === c).length);
  const withPositives = classes.map((_, c) => c).filter((c) => queriesOf[c]! > 0);
  const inMacroAuc = withPositives.filter((c) => queriesOf[c]! >= MACRO_AUC_MIN_QUERIES && queriesOf[c]! < truth.length);
  const retrievalValues = (m: PerModel, metric: RetrievalMetric): number[] =>
    metric === 'mAP@10' ? m.ap : m.curve.map((c) => c[Number(metric.slice(2)) - 1]!);
  const retrievalStat = (m: PerModel, metric: RetrievalMetric, mask: readonly boolean[] = hasRelevant): WeightedStatistic => {
    const values = retrievalValues(m, metric);
    return (w) => maskedMean(values, mask, w);
  };
  const classMask = classes.map((_, c) => truth.map((t, i) => t === c && hasRelevant[i]!));
  const aucStat =
    (m: PerModel, c: number): WeightedStatistic =>
    (w) =>
      weightedAuc(m.ranked[c]!, positives[c]!, w);
  const stats: Record<string, WeightedStatistic> = {};
  for (const m of perModel) {
    const id = m.model.id;
    for (const metric of RETRIEVAL_METRICS) stats[`${id}|${metric}`] = retrievalStat(m, metric);
    // The vote tally of a resample, computed once and read by every vote statistic of this model.
    let tallied: { draw: number; tally: VoteTally } | undefined;
    const tally = (w: Float64Array, draw: number): VoteTally => {
      if (tallied?.draw !== draw) tallied = { draw, tally: tallyVotes(m.votes, w, classes.length) };
      return tallied.tally;
    };
    stats[`${id}|accuracy`] = (w, draw) => tallyAccuracy(tally(w, draw));
    stats[`${id}|balancedAccuracy`] = (w, draw) => macroOver(withPositives, (c) => tallySensitivity(tally(w, draw), c));
    stats[`${id}|macroAUC`] = (w, draw) => macroOver(inMacroAuc, (c) => aucStat(m, c)(w, draw));
    classes.forEach((_, c) => {
      stats[`${id}|P@5|${c}`] = retrievalStat(m, 'P@5', classMask[c]);
      stats[`${id}|mAP@10|${c}`] = retrievalStat(m, 'mAP@10', classMask[c]);
      stats[`${id}|sens|${c}`] = (w, draw) => tallySensitivity(tally(w, draw), c);
      stats[`${id}|spec|${c}`] = (w, draw) => tallySpecificity(tally(w, draw), c);
      stats[`${id}|auc|${c}`] = aucStat(m, c);
    });
  }
  const reference = perModel.find((m) => m.model.id === options.reference);
  if (reference !== undefined) {
    for (const m of perModel) {
      if (m === reference) continue;
      for (const metric of RETRIEVAL_METRICS) {
        const a = retrievalStat(m, metric);
        const b = retrievalStat(reference, metric);
        stats[`${m.model.id}-vs-${reference.model.id}|${metric}`] = (w, draw) => {
          const x = a(w, draw);
          const y = b(w, draw);
          return x === undefined || y === undefined ? undefined : x - y;
        };
      }
    }
  }
  const ones = new Float64Array(queries.length).fill(1);
  const intervals = clusterBootstrap(queryGroups, stats, { resamples: options.bootstrap, seed: options.seed });
  const est = (key: string): Estimate => estimate(stats[key]!(ones, -1), intervals[key]);

  const results: Record<string, ModelSubsetResult> = {};
  for (const m of perModel) {
    const id = m.model.id;
    const perClass: Record<string, PerClassResult> = {};
    classes.forEach((cls, c) => {
      perClass[cls] = {
        queries: queriesOf[c]!,
        retrievalQueries: classMask[c]!.filter(Boolean).length,
        'P@5': est(`${id}|P@5|${c}`),
        'mAP@10': est(`${id}|mAP@10|${c}`),
        sensitivity: est(`${id}|sens|${c}`),
        specificity: est(`${id}|spec|${c}`),
        auc: est(`${id}|auc|${c}`),
      };
    });
    results[id] = {
      retrieval: {
        'P@1': est(`${id}|P@1`),
        'P@5': est(`${id}|P@5`),
        'P@10': est(`${id}|P@10`),
        'mAP@10': est(`${id}|mAP@10`),
        curve: Array.from({ length: CURVE_DEPTH }, (_, k) =>
          round(
            maskedMean(
              m.curve.map((c) => c[k]!),
              hasRelevant,
              ones,
            ) ?? 0,
          ),
        ),
      },
      diagnosis: {
        accuracy: est(`${id}|accuracy`),
        balancedAccuracy: est(`${id}|balancedAccuracy`),
        macroAUC: est(`${id}|macroAUC`),
        perClass,
        confusion: { classes, matrix: confusionMatrix(m.votes, classes.length) },
      },
    };
  }
  const differences: SubsetReport['differences'] = {};
  if (reference !== undefined) {
    for (const m of perModel) {
      if (m === reference) continue;
      const key = `${m.model.id}-vs-${reference.model.id}`;
      differences[key] = Object.fromEntries(RETRIEVAL_METRICS.map((metric) => [metric, est(`${key}|${metric}`)])) as Record<RetrievalMetric, Estimate>;
    }
  }
  const withoutRelevant = truth.filter((_, i) => !hasRelevant[i]);
  return {
    id: subset.id,
    kind: subset.kind,
    description: subset.description,
    classes,
    queries: queries.length,
    queryPatientGroups: new Set(queryGroups).size,
    queriesWithoutGallery: subset.queries.length - queries.length,
    retrievalQueries: queries.length - withoutRelevant.length,
    queriesWithoutRelevant: withoutRelevant.length,
    queriesWithoutRelevantPerClass: Object.fromEntries(
      classes.flatMap((cls, c) => (withoutRelevant.includes(c) ? [[cls, withoutRelevant.filter((t) => t === c).length]] : [])),
    ),
    chance: chanceLevels(truth, classes),
    macroAUCClasses: {
      minQueries: MACRO_AUC_MIN_QUERIES,
      included: inMacroAuc.map((c) => classes[c]!),
      excluded: Object.fromEntries(classes.flatMap((cls, c) => (inMacroAuc.includes(c) ? [] : [[cls, queriesOf[c]!]]))),
    },
    galleryImages: subset.gallery.length,
    galleryPatientGroups: galleryGroups.size,
    queriesPerClass: Object.fromEntries(classes.map((cls, c) => [cls, truth.filter((t) => t === c).length])),
    results,
    differences,
  };
}

/** Evaluates every model on every subset (pooled, adult, per collection). */
export function evaluateModels(items: readonly EvalItem[], models: readonly ModelVectors[], options: EvaluateOptions): SubsetReport[] {
  const { subsets, searched } = searchModels(items, models, Math.max(options.k, CURVE_DEPTH));
  return evaluateSearched(items, subsets, searched, options);
}

/** Evaluates models already searched by searchModels (whose neighbours the caller also writes out). */
export function evaluateSearched(
  items: readonly EvalItem[],
  subsets: readonly Subset[],
  searched: readonly SearchedModel[],
  options: EvaluateOptions,
): SubsetReport[] {
  return subsets.map((subset) => evaluateSubset(subset, items, searched, options));
}
