// The small interface every vector search backend implements (usearch by default; FAISS where it can
// be built). Cosine similarity on L2-normalised embeddings; 64-bit keys are case keys.

export interface Neighbour {
  key: bigint;
  /** Cosine similarity, 1 - cosine distance. */
  similarity: number;
}

export type IndexMode = 'exact' | 'hnsw';
export type BackendName = 'usearch' | 'faiss';

export interface VectorIndexOptions {
  dimensions: number;
  /** Exact search below this many vectors, HNSW from it on. */
  exactBelow: number;
  connectivity: number;
  expansionAdd: number;
  expansionSearch: number;
  /** Storage of the HNSW tier. */
  dtype: 'f32' | 'f16';
  /** Threads for bulk adds (0: all cores). Searches are single-threaded: one query per call. */
  threads: number;
}

export interface VectorIndex {
  readonly backend: BackendName;
  readonly dimensions: number;
  mode(): IndexMode;
  size(): number;
  has(key: bigint): boolean;
  /** Adds `keys.length` vectors (row-major in `vectors`); a key already present is replaced. */
  add(keys: BigUint64Array, vectors: Float32Array): void;
  /** Returns how many of the keys were present. */
  remove(keys: readonly bigint[]): number;
  /**
   * The k most similar vectors that are not in `exclude`, most similar first; ties go to the smaller
   * key, so equal data give equal answers whatever order they were added in.
   */
  search(query: Float32Array, k: number, exclude?: ReadonlySet<bigint>): Neighbour[];
  /** Writes the whole index to `path` (the caller makes it atomic). */
  save(path: string): void;
  /** Bytes the vectors and graph occupy (estimate). */
  memoryBytes(): number;
}

/** Cosine distance (usearch 'cos') to similarity, clamped against rounding. */
export function toSimilarity(distance: number): number {
  return Math.max(-1, Math.min(1, 1 - distance));
}

/** Sorts by similarity (desc) then key (asc), drops excluded keys and cuts to k. */
export function rankNeighbours(candidates: Neighbour[], k: number, exclude?: ReadonlySet<bigint>): Neighbour[] {
  const kept = exclude && exclude.size > 0 ? candidates.filter((c) => !exclude.has(c.key)) : candidates;
  kept.sort((a, b) => b.similarity - a.similarity || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return kept.slice(0, k);
}

/**
 * How many candidates to ask a backend for: k plus every excluded key (each could be among the
 * nearest) plus a few, so that ties at the k-th place are resolved by key, not by storage order.
 */
export function candidateCount(k: number, exclude: ReadonlySet<bigint> | undefined, size: number): number {
  return Math.min(size, k + (exclude?.size ?? 0) + 8);
}
