// The similarity a reader sees. Raw cosines of a metric-learning model crowd into a narrow band (the
// 1st and 10th neighbour often differ by 0.006), so "0.99" on every case says nothing. A model card
// may carry a calibration that maps a cosine onto a 0..1 score meaning the same for every query
// (e.g. the percentile of the cosine among archive pairs); this is the one place that applies it.

/**
 * model.json `similarityCalibration`: ascending cosine quantile knots and the score (0..1) at each;
 * a cosine between knots is interpolated linearly, one outside them takes the end score (clamped).
 */
export interface SimilarityCalibration {
  kind: 'percentile';
  cosines: number[];
  scores: number[];
}

/** The displayed match score of a cosine, or null when the model has no calibration. */
export function displayScore(cosine: number, calibration: SimilarityCalibration | undefined): number | null {
  if (!calibration || !Number.isFinite(cosine)) return null;
  const { cosines, scores } = calibration;
  const n = Math.min(cosines.length, scores.length);
  if (n === 0) return null;
  const clamp = (s: number): number => Math.max(0, Math.min(1, s));
  if (cosine <= cosines[0]!) return clamp(scores[0]!);
  if (cosine >= cosines[n - 1]!) return clamp(scores[n - 1]!);
  // Knots are few (tens to hundreds): a linear scan is clearer than a binary search and as fast.
  let i = 1;
  while (i < n - 1 && cosines[i]! < cosine) i++;
  const c0 = cosines[i - 1]!;
  const c1 = cosines[i]!;
  const s0 = scores[i - 1]!;
  const s1 = scores[i]!;
  return clamp(c1 === c0 ? s1 : s0 + ((cosine - c0) / (c1 - c0)) * (s1 - s0));
}

/** Cosines to 3 decimals: 2 would print "0.99" for every neighbour of a collapsed model. */
export const formatCosine = (cosine: number): string => cosine.toFixed(3);

/** Scores to 2 decimals: they spread over 0..1. */
export const formatScore = (score: number): string => score.toFixed(2);

/** "Match score 0.83 (raw cosine 0.991)", or "Cosine similarity 0.991" without a calibration. */
export function similarityPhrase(cosine: number, calibration: SimilarityCalibration | undefined): string {
  const score = displayScore(cosine, calibration);
  return score === null ? `Cosine similarity ${formatCosine(cosine)}` : `Match score ${formatScore(score)} (raw cosine ${formatCosine(cosine)})`;
}
