// Cluster bootstrap over patient groups: each resample draws as many groups as there are, with
// replacement, and weights every query by how often its group was drawn. Images of one patient are
// not independent (follow-up films, duplicates), so resampling images would understate the spread.
// All statistics of one call share the same draws, so differences between models are paired.

/** A small seeded PRNG (mulberry32): the same seed gives the same draws on every platform. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Linear-interpolated quantile (numpy's default, "type 7") of sorted values. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  const a = sorted[lo] ?? NaN;
  const b = sorted[hi] ?? NaN;
  return a + (h - lo) * (b - a);
}

/**
 * A statistic of per-query values under per-query weights; undefined where it is not defined.
 * `draw` numbers the resample (0, 1, ...; -1 for the point estimate), so that statistics sharing one
 * costly intermediate (e.g. a vote tally) can compute it once per resample.
 */
export type WeightedStatistic = (weights: Float64Array, draw: number) => number | undefined;

export interface Interval {
  lo: number;
  hi: number;
  /** Resamples in which the statistic was defined. */
  resamples: number;
}

/**
 * 95 % (or `level`) percentile intervals of each statistic over `resamples` cluster-bootstrap draws of
 * the queries' groups. `groups[i]` is query i's patient group. Returns null for a statistic that was
 * defined in fewer than half of the resamples (or when resamples is 0).
 */
export function clusterBootstrap(
  groups: readonly string[],
  statistics: Record<string, WeightedStatistic>,
  options: { resamples: number; seed: number; level?: number },
): Record<string, Interval | null> {
  const names = Object.keys(statistics);
  const out: Record<string, Interval | null> = Object.fromEntries(names.map((n) => [n, null]));
  if (options.resamples <= 0 || groups.length === 0) return out;
  const ids = new Map<string, number>();
  const groupOf = Int32Array.from(groups, (g) => {
    let id = ids.get(g);
    if (id === undefined) ids.set(g, (id = ids.size));
    return id;
  });
  const nGroups = ids.size;
  const random = seededRandom(options.seed);
  const counts = new Float64Array(nGroups);
  const weights = new Float64Array(groups.length);
  const values: number[][] = names.map(() => []);
  for (let b = 0; b < options.resamples; b++) {
    counts.fill(0);
    for (let j = 0; j < nGroups; j++) counts[Math.floor(random() * nGroups)]! += 1;
    for (let i = 0; i < weights.length; i++) weights[i] = counts[groupOf[i]!]!;
    names.forEach((name, s) => {
      const v = statistics[name]!(weights, b);
      if (v !== undefined && Number.isFinite(v)) values[s]!.push(v);
    });
  }
  const alpha = (1 - (options.level ?? 0.95)) / 2;
  names.forEach((name, s) => {
    const v = values[s]!;
    if (v.length * 2 < options.resamples) return;
    const sorted = Float64Array.from(v).sort();
    out[name] = { lo: quantileSorted(sorted, alpha), hi: quantileSorted(sorted, 1 - alpha), resamples: v.length };
  });
  return out;
}

/** Weighted mean of per-query values; undefined when all weights are 0. */
export function weightedMean(values: ArrayLike<number>, weights: ArrayLike<number>): number | undefined {
  let sum = 0;
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    const w = weights[i] ?? 0;
    sum += w * (values[i] ?? 0);
    total += w;
  }
  return total > 0 ? sum / total : undefined;
}
