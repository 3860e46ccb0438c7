// One subset, every model: retrieval (P@k, mAP@10) and the neighbour vote (accuracy, sensitivity,
// specificity, AUC) with cluster-bootstrap intervals drawn once per subset, so that all models (and
// their differences from the raw-pixel baseline) are judged on the same resamples.
import { rankScores, weightedAuc } from './auc.js';
import { clusterBootstrap, weightedMean, type Interval, type WeightedStatistic } from './bootstrap.js';
import type { EvalItem } from './dataset.js';
import { confusionMatrix, predictedClass, tallyAccuracy, tallySensitivity, tallySpecificity, tallyVotes, voteProbabilities, type VoteOutcome, type VoteTally } from './diagnosis.js';
import { averagePrecisionAt, cosineSimilarity, l2normalised, precisionAt, relevance, searchNeighbours, type QueryResult } from './retrieval.js';
import { defineSubsets, type Subset } from './subsets.js';
import type { Estimate, ModelVectors, SubsetReport, ModelSubsetResult, PerClassResult } from './types.js';

export const RETRIEVAL_METRICS = ['P@1', 'P@5', 'P@10', 'mAP@10'] as const;
export type RetrievalMetric = (typeof RETRIEVAL_METRICS)[number];
/** Depth of the P@k curve and of AP. */
export const CURVE_DEPTH = 10;

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
 * Mean over the classes that have positives and negatives among all the subset's queries; undefined in a
 * resample that lacks one of them, so every resample averages the same classes (a resample without a
 * rare class would otherwise average fewer, easier classes).
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

/** The subset's answerable queries: those with a searchable image outside their own patient group. */
function answerable(subset: Subset, groups: readonly string[]): { queries: number[]; galleryGroups: Map<string, number> } {
  const galleryGroups = new Map<string, number>();
  for (const g of subset.gallery) galleryGroups.set(groups[g]!, (galleryGroups.get(groups[g]!) ?? 0) + 1);
  const queries = subset.queries.filter((q) => subset.gallery.length - (galleryGroups.get(groups[q]!) ?? 0) > 0);
  return { queries, galleryGroups };
}

function evaluateSubset(subset: Subset, items: readonly EvalItem[], models: readonly SearchedModel[], options: EvaluateOptions): SubsetReport {
  const labels = items.map((it) => it.label);
  const groups = items.map((it) => it.patientGroup);
  const classes = [...new Set([...subset.queries, ...subset.gallery].map((i) => labels[i]!))].sort(byteOrder);
  // Queries whose every gallery image is of their own patient group cannot be answered: left out
  // (the same for every model, since it depends on groups only).
  const { queries, galleryGroups } = answerable(subset, groups);
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
  const withPositives = classes.map((_, c) => c).filter((c) => truth.includes(c));
  const withBoth = withPositives.filter((c) => truth.some((t) => t !== c));
  const retrievalStat = (m: PerModel, metric: RetrievalMetric): WeightedStatistic => {
    const values = metric === 'mAP@10' ? m.ap : m.curve.map((c) => c[Number(metric.slice(2)) - 1]!);
    return (w) => weightedMean(values, w);
  };
  const aucStat = (m: PerModel, c: number): WeightedStatistic => (w) => weightedAuc(m.ranked[c]!, positives[c]!, w);
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
    stats[`${id}|macroAUC`] = (w, draw) => macroOver(withBoth, (c) => aucStat(m, c)(w, draw));
    classes.forEach((_, c) => {
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
        queries: truth.filter((t) => t === c).length,
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
        curve: Array.from({ length: CURVE_DEPTH }, (_, k) => round(weightedMean(m.curve.map((c) => c[k]!), ones) ?? 0)),
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
  const firstModel = perModel[0];
  return {
    id: subset.id,
    kind: subset.kind,
    description: subset.description,
    classes,
    queries: queries.length,
    queryPatientGroups: new Set(queryGroups).size,
    queriesWithoutGallery: subset.queries.length - queries.length,
    queriesWithoutRelevant: firstModel ? firstModel.results.filter((r) => r.relevant === 0).length : 0,
    galleryImages: subset.gallery.length,
    galleryPatientGroups: galleryGroups.size,
    queriesPerClass: Object.fromEntries(classes.map((cls, c) => [cls, truth.filter((t) => t === c).length])),
    results,
    differences,
  };
}

interface SearchedModel {
  model: ModelVectors;
  /** Per subset id: the neighbours of its answerable queries. */
  results: Map<string, QueryResult[]>;
}

/** Evaluates every model on every subset (pooled, adult, per collection). */
export function evaluateModels(items: readonly EvalItem[], models: readonly ModelVectors[], options: EvaluateOptions): SubsetReport[] {
  for (const m of models) {
    if (m.vectors.length !== items.length) throw new Error(`${m.id}: ${m.vectors.length} vectors for ${items.length} images`);
  }
  const subsets = defineSubsets(items);
  const labels = items.map((it) => it.label);
  const groups = items.map((it) => it.patientGroup);
  const depth = Math.max(options.k, CURVE_DEPTH);
  // One model at a time: its similarity matrix is shared by all subsets, then dropped.
  const searched: SearchedModel[] = models.map((model) => {
    const similarity = cosineSimilarity(model.vectors.map((v) => l2normalised(v)));
    const results = new Map(subsets.map((s) => [s.id, searchNeighbours({ similarity, groups, labels }, answerable(s, groups).queries, s.gallery, depth)]));
    return { model, results };
  });
  return subsets.map((subset) => evaluateSubset(subset, items, searched, options));
}
