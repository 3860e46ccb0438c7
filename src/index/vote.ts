// The diagnosis aid: a similarity-weighted vote of the k nearest cases into per-label probabilities
// (Zhong et al., Med Image Anal 2021: k-NN over the learned embedding). Weighting:
//   similarity: w = max(similarity, 0) (equal weights when every similarity is <= 0), as `precedent eval`;
//   uniform:    w = 1 (a plain majority vote);
//   softmax:    w = exp((similarity - best) / temperature).
// A case with several labels splits its weight among them; unlabelled cases do not vote.
import type { LabelProbability, SimilarCase } from '../shared/cases.js';

export interface VoteOptions {
  weighting: 'similarity' | 'uniform' | 'softmax';
  /** softmax only. */
  temperature: number;
}

function weights(similarities: number[], o: VoteOptions): number[] {
  if (o.weighting === 'uniform') return similarities.map(() => 1);
  if (o.weighting === 'softmax') {
    const best = Math.max(...similarities);
    return similarities.map((s) => Math.exp((s - best) / o.temperature));
  }
  const clipped = similarities.map((s) => Math.max(s, 0));
  return clipped.some((w) => w > 0) ? clipped : similarities.map(() => 1);
}

export function knnVote(neighbours: readonly SimilarCase[], o: VoteOptions): LabelProbability[] {
  const voters = neighbours.filter((n) => n.case.labels.length > 0);
  if (voters.length === 0) return [];
  const w = weights(
    voters.map((n) => n.similarity),
    o,
  );
  const byLabel = new Map<string, number>();
  voters.forEach((n, i) => {
    const labels = [...new Set(n.case.labels)];
    for (const label of labels) byLabel.set(label, (byLabel.get(label) ?? 0) + (w[i] ?? 0) / labels.length);
  });
  const total = [...byLabel.values()].reduce((a, b) => a + b, 0);
  return [...byLabel.entries()]
    .map(([label, sum]) => ({ label, probability: total > 0 ? sum / total : 0 }))
    .sort((a, b) => b.probability - a.probability || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}
