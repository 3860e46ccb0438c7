// The k-nearest-neighbour vote as a diagnosis aid, and its classification metrics.
//
// Vote: the k nearest neighbours of other patient groups each vote for their class with weight
// max(similarity, 0); p(class) = summed weight of the class / total weight (equal weights when every
// similarity is <= 0). Prediction: the class with the largest p; ties go to the larger summed
// similarity, then to the class that comes first in the class list.
import type { Neighbour } from './retrieval.js';

export function voteProbabilities(neighbours: readonly Neighbour[], labels: readonly string[], classes: readonly string[]): number[] {
  const weights = new Array<number>(classes.length).fill(0);
  const position = new Map(classes.map((c, i) => [c, i]));
  let total = 0;
  for (const n of neighbours) total += Math.max(n.similarity, 0);
  for (const n of neighbours) {
    const c = position.get(labels[n.index] ?? '');
    if (c === undefined) continue;
    weights[c]! += total > 0 ? Math.max(n.similarity, 0) : 1;
  }
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => (sum > 0 ? w / sum : 0));
}

/** Index of the predicted class (see the tie rule above); -1 without neighbours. */
export function predictedClass(
  neighbours: readonly Neighbour[],
  labels: readonly string[],
  classes: readonly string[],
  probabilities: readonly number[],
): number {
  if (neighbours.length === 0) return -1;
  const similarity = new Array<number>(classes.length).fill(0);
  const position = new Map(classes.map((c, i) => [c, i]));
  for (const n of neighbours) {
    const c = position.get(labels[n.index] ?? '');
    if (c !== undefined) similarity[c]! += n.similarity;
  }
  let best = 0;
  for (let c = 1; c < classes.length; c++) {
    const p = probabilities[c]!;
    const b = probabilities[best]!;
    if (p > b || (p === b && similarity[c]! > similarity[best]!)) best = c;
  }
  return best;
}

/** One query's vote: true class, predicted class and per-class probabilities (indices into `classes`). */
export interface VoteOutcome {
  truth: number;
  predicted: number;
  probabilities: number[];
}

/** Weighted counts from which every vote metric follows (one pass over the queries). */
export interface VoteTally {
  total: number;
  correct: number;
  /** Per class: weight of queries of the class, of queries voted the class, of both. */
  positives: Float64Array;
  predicted: Float64Array;
  truePositives: Float64Array;
}

export function tallyVotes(outcomes: readonly VoteOutcome[], weights: ArrayLike<number>, nClasses: number): VoteTally {
  const t: VoteTally = {
    total: 0,
    correct: 0,
    positives: new Float64Array(nClasses),
    predicted: new Float64Array(nClasses),
    truePositives: new Float64Array(nClasses),
  };
  for (let i = 0; i < outcomes.length; i++) {
    const w = weights[i] ?? 0;
    if (w === 0) continue;
    const o = outcomes[i]!;
    t.total += w;
    t.positives[o.truth]! += w;
    if (o.predicted >= 0) t.predicted[o.predicted]! += w;
    if (o.predicted === o.truth) {
      t.correct += w;
      t.truePositives[o.truth]! += w;
    }
  }
  return t;
}

export function tallyAccuracy(t: VoteTally): number | undefined {
  return t.total > 0 ? t.correct / t.total : undefined;
}

/** Sensitivity of class c: TP / (TP + FN); undefined without positives. */
export function tallySensitivity(t: VoteTally, c: number): number | undefined {
  const p = t.positives[c] ?? 0;
  return p > 0 ? (t.truePositives[c] ?? 0) / p : undefined;
}

/** Specificity of class c: TN / (TN + FP); undefined without negatives. */
export function tallySpecificity(t: VoteTally, c: number): number | undefined {
  const negatives = t.total - (t.positives[c] ?? 0);
  const falsePositives = (t.predicted[c] ?? 0) - (t.truePositives[c] ?? 0);
  return negatives > 0 ? (negatives - falsePositives) / negatives : undefined;
}

const classCount = (outcomes: readonly VoteOutcome[]): number => Math.max(0, ...outcomes.map((o) => Math.max(o.truth, o.predicted) + 1));

export function accuracy(outcomes: readonly VoteOutcome[], weights: ArrayLike<number>): number | undefined {
  return tallyAccuracy(tallyVotes(outcomes, weights, classCount(outcomes)));
}

export function sensitivity(outcomes: readonly VoteOutcome[], weights: ArrayLike<number>, c: number): number | undefined {
  return tallySensitivity(tallyVotes(outcomes, weights, Math.max(c + 1, classCount(outcomes))), c);
}

export function specificity(outcomes: readonly VoteOutcome[], weights: ArrayLike<number>, c: number): number | undefined {
  return tallySpecificity(tallyVotes(outcomes, weights, Math.max(c + 1, classCount(outcomes))), c);
}

/** Mean sensitivity over the classes that have positives. */
export function balancedAccuracy(outcomes: readonly VoteOutcome[], weights: ArrayLike<number>, nClasses: number): number | undefined {
  const t = tallyVotes(outcomes, weights, nClasses);
  const values: number[] = [];
  for (let c = 0; c < nClasses; c++) {
    const s = tallySensitivity(t, c);
    if (s !== undefined) values.push(s);
  }
  return values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : undefined;
}

/** Rows: true class, columns: predicted class (unweighted counts). */
export function confusionMatrix(outcomes: readonly VoteOutcome[], nClasses: number): number[][] {
  const m = Array.from({ length: nClasses }, () => new Array<number>(nClasses).fill(0));
  for (const o of outcomes) if (o.predicted >= 0) m[o.truth]![o.predicted]! += 1;
  return m;
}
