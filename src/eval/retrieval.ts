// Exact cosine retrieval with own-patient-group exclusion, and the retrieval metrics.
//
// Relevance: a neighbour is relevant when it has the query's class. For one query with ranked
// neighbours rel_1..rel_n (1 relevant, 0 not) and R relevant images in its searchable gallery:
//   P@k   = (rel_1 + ... + rel_k) / k                       (k in the denominator even when fewer
//                                                           than k images are searchable)
//   AP@10 = sum_{k<=10} P@k * rel_k / min(10, R)            (0 when R = 0)
//   mAP@10 = mean of AP@10 over the queries.

export interface Neighbour {
  /** Index into the evaluation items. */
  index: number;
  /** Cosine similarity in [-1, 1]. */
  similarity: number;
}

export interface QueryResult {
  /** Index into the evaluation items. */
  index: number;
  /** Best first; ties broken by the lower item index, so the order is deterministic. */
  neighbours: Neighbour[];
  /** Searchable images (outside the query's patient group). */
  searchable: number;
  /** Searchable images with the query's class (R). */
  relevant: number;
}

/** Returns v / |v| (a zero vector stays zero: its cosine with anything is 0). */
export function l2normalised(v: ArrayLike<number>): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += (v[i] ?? 0) ** 2;
  const norm = Math.sqrt(sum);
  const out = new Float32Array(v.length);
  if (norm > 0) for (let i = 0; i < v.length; i++) out[i] = (v[i] ?? 0) / norm;
  return out;
}

/** Cosine similarity of items q and g (both indices into the evaluation items). */
export type Similarity = (q: number, g: number) => number;

/** A full item x item matrix up to this many entries (Float32: 144 MB); beyond, computed per pair. */
const MATRIX_LIMIT = 36_000_000;

/**
 * Cosine similarity of L2-normalised vectors. Vectors are packed into one Float64Array (and the dot
 * product unrolled) because this is the hot loop of an evaluation; for up to ~6,000 images the whole
 * symmetric matrix is computed once, so the pooled search and every subset's search share it.
 */
export function cosineSimilarity(vectors: readonly Float32Array[]): Similarity {
  const n = vectors.length;
  const d = vectors[0]?.length ?? 0;
  const packed = new Float64Array(n * d);
  vectors.forEach((v, i) => {
    if (v.length !== d) throw new Error(`vector ${i} has ${v.length} dimensions, not ${d}`);
    packed.set(v, i * d);
  });
  const dot = (a: number, b: number): number => {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    const ao = a * d;
    const bo = b * d;
    let i = 0;
    for (; i + 3 < d; i += 4) {
      s0 += packed[ao + i]! * packed[bo + i]!;
      s1 += packed[ao + i + 1]! * packed[bo + i + 1]!;
      s2 += packed[ao + i + 2]! * packed[bo + i + 2]!;
      s3 += packed[ao + i + 3]! * packed[bo + i + 3]!;
    }
    for (; i < d; i++) s0 += packed[ao + i]! * packed[bo + i]!;
    return s0 + s1 + s2 + s3;
  };
  // Float32 either way, so that ties (and their order) do not depend on the path taken.
  if (n * n > MATRIX_LIMIT) return (a, b) => Math.fround(dot(a, b));
  const matrix = new Float32Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      const s = dot(a, b);
      matrix[a * n + b] = s;
      matrix[b * n + a] = s;
    }
  }
  return (q, g) => matrix[q * n + g]!;
}

export interface SearchInput {
  similarity: Similarity;
  groups: readonly string[];
  labels: readonly string[];
}

/**
 * For every query, its `depth` most cosine-similar gallery items among OTHER patient groups
 * (exhaustive search: every similarity is computed, nothing is approximated).
 */
export function searchNeighbours(input: SearchInput, queries: readonly number[], gallery: readonly number[], depth: number): QueryResult[] {
  return queries.map((q) => {
    const group = input.groups[q];
    const label = input.labels[q];
    const top: Neighbour[] = [];
    let searchable = 0;
    let relevant = 0;
    for (const g of gallery) {
      if (input.groups[g] === group) continue;
      searchable++;
      if (input.labels[g] === label) relevant++;
      const similarity = input.similarity(q, g);
      if (top.length === depth && !better(similarity, g, top[depth - 1]!)) continue;
      let at = Math.min(top.length, depth - 1);
      if (top.length < depth) top.push({ index: g, similarity });
      while (at > 0 && better(similarity, g, top[at - 1]!)) {
        top[at] = top[at - 1]!;
        at--;
      }
      top[at] = { index: g, similarity };
    }
    return { index: q, neighbours: top, searchable, relevant };
  });
}

function better(similarity: number, index: number, than: Neighbour): boolean {
  return similarity > than.similarity || (similarity === than.similarity && index < than.index);
}

/** rel_1..rel_n of a query's ranked neighbours. */
export function relevance(result: QueryResult, labels: readonly string[]): boolean[] {
  const label = labels[result.index];
  return result.neighbours.map((n) => labels[n.index] === label);
}

/** P@k = (relevant among the first k) / k. */
export function precisionAt(rel: readonly boolean[], k: number): number {
  let hits = 0;
  for (let i = 0; i < k && i < rel.length; i++) if (rel[i]) hits++;
  return hits / k;
}

/** AP@n = sum_{k<=n} P@k * rel_k / min(n, R); 0 when R (relevant searchable images) is 0. */
export function averagePrecisionAt(rel: readonly boolean[], relevantTotal: number, n = 10): number {
  const denominator = Math.min(n, relevantTotal);
  if (denominator <= 0) return 0;
  let hits = 0;
  let sum = 0;
  for (let k = 1; k <= n && k <= rel.length; k++) {
    if (rel[k - 1]) {
      hits++;
      sum += hits / k;
    }
  }
  return sum / denominator;
}
