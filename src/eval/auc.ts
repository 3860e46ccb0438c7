// ROC AUC as the Mann-Whitney statistic: the probability that a random positive scores above a random
// negative, ties counting one half. Weighted (for the bootstrap) and computed from one sort of the
// scores, so each resample costs O(n).

export interface RankedScores {
  /** Query indices sorted by ascending score. */
  order: Int32Array;
  /** Start offsets of runs of equal scores in `order`, plus order.length at the end. */
  tieStarts: Int32Array;
}

export function rankScores(scores: ArrayLike<number>): RankedScores {
  const order = Int32Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => (scores[a] ?? 0) - (scores[b] ?? 0) || a - b);
  const starts: number[] = [];
  for (let i = 0; i < order.length; i++) {
    if (i === 0 || scores[order[i]!] !== scores[order[i - 1]!]) starts.push(i);
  }
  starts.push(order.length);
  return { order, tieStarts: Int32Array.from(starts) };
}

/** Weighted AUC of `positive` vs the rest; undefined when either side has no weight. */
export function weightedAuc(ranked: RankedScores, positive: ArrayLike<boolean>, weights: ArrayLike<number>): number | undefined {
  let below = 0;
  let sum = 0;
  let pos = 0;
  let neg = 0;
  const { order, tieStarts } = ranked;
  for (let t = 0; t + 1 < tieStarts.length; t++) {
    let p = 0;
    let n = 0;
    for (let j = tieStarts[t]!; j < tieStarts[t + 1]!; j++) {
      const i = order[j]!;
      const w = weights[i] ?? 0;
      if (positive[i]) p += w;
      else n += w;
    }
    sum += p * (below + 0.5 * n);
    below += n;
    pos += p;
    neg += n;
  }
  return pos > 0 && neg > 0 ? sum / (pos * neg) : undefined;
}

/** Unweighted AUC of scores for the positives. */
export function auc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number | undefined {
  return weightedAuc(rankScores(scores), positive, new Float64Array(scores.length).fill(1));
}
