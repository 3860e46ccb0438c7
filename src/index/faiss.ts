// The optional FAISS backend (index.backend: faiss): exact search with faiss's IndexFlatIP (the
// vectors are L2-normalised, so inner product is cosine), through faiss-node's N-API binding built
// against Debian's libfaiss-dev by scripts/build-faiss-node.sh (faiss-node's own npm install needs
// GitHub). faiss-node takes plain arrays, numbers its rows 0..n-1 (no add-with-ids: IDMap.add aborts
// the process) and its toBuffer() crashed the process here. So this class keeps the key of every FAISS
// row itself, and a copy of the vectors (FlatVectors) for save/load: twice the vector memory of the
// usearch exact tier. It is an independent second implementation for sites that standardise on FAISS
// and a cross-check for usearch, not a faster path (see `npm run bench`).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrecedentError } from '../shared/errors.js';
import { FlatVectors } from './flat.js';
import { candidateCount, rankNeighbours, type IndexMode, type Neighbour, type VectorIndex, type VectorIndexOptions } from './vector-index.js';

interface FaissFlatIndex {
  ntotal(): number;
  add(vectors: number[]): void;
  search(query: number[], k: number): { distances: number[]; labels: number[] };
  removeIds(rows: number[]): number;
}

interface FaissBinding {
  IndexFlatIP: new (dimensions: number) => FaissFlatIndex;
}

const RELATIVE = join('vendor', 'faiss-node', 'faiss-node.node');
/** Rows handed to faiss per add() call: it copies a plain array, so a million rows at once would be GBs. */
const ADD_SLICE = 8192;

/** The built binding: PRECEDENT_FAISS_NODE, else vendor/faiss-node/ of the project (found upwards from here). */
export function faissBinaryPath(): string | undefined {
  const fromEnv = process.env['PRECEDENT_FAISS_NODE'];
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  // src/index, dist/index and .bench-build/src/index all lie below the project root.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 5; up++) {
    const candidate = join(dir, RELATIVE);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

let binding: FaissBinding | undefined;

function loadBinding(): FaissBinding {
  if (binding) return binding;
  const path = faissBinaryPath();
  if (!path) {
    throw new PrecedentError(
      'INDEX_UNAVAILABLE',
      'index.backend is faiss but faiss-node is not built: install libfaiss-dev and run scripts/build-faiss-node.sh (or use index.backend: usearch)',
    );
  }
  try {
    binding = createRequire(import.meta.url)(path) as FaissBinding;
  } catch (err) {
    throw new PrecedentError('INDEX_UNAVAILABLE', `faiss-node at ${path} cannot be loaded: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  return binding;
}

export function faissAvailable(): boolean {
  try {
    loadBinding();
    return true;
  } catch {
    return false;
  }
}

class FaissFlatVectorIndex implements VectorIndex {
  readonly backend = 'faiss' as const;
  readonly dimensions: number;
  private index: FaissFlatIndex;
  /** Key of each FAISS row, in FAISS's order (removeIds keeps the order of the rows that stay). */
  private rowKeys: bigint[] = [];

  constructor(
    options: VectorIndexOptions,
    private readonly vectors: FlatVectors,
  ) {
    this.dimensions = options.dimensions;
    this.index = new (loadBinding().IndexFlatIP)(options.dimensions);
    for (const slice of vectors.slices(ADD_SLICE)) this.append(slice.keys, slice.vectors);
  }

  private append(keys: BigUint64Array, vectors: Float32Array): void {
    this.index.add(Array.from(vectors));
    for (const key of keys) this.rowKeys.push(key);
  }

  mode(): IndexMode {
    return 'exact';
  }

  size(): number {
    return this.rowKeys.length;
  }

  has(key: bigint): boolean {
    return this.vectors.has(key);
  }

  add(keys: BigUint64Array, vectors: Float32Array): void {
    if (keys.length === 0) return;
    const d = this.dimensions;
    if (vectors.length !== keys.length * d) throw new Error(`${keys.length} keys need ${keys.length * d} values, got ${vectors.length}`);
    // Replacing is remove + add; within one call the last vector of a key wins.
    const last = new Map<bigint, number>();
    keys.forEach((k, i) => last.set(k, i));
    this.remove([...last.keys()].filter((k) => this.vectors.has(k)));
    const rows = [...last.values()].sort((a, b) => a - b);
    const uniqueKeys = BigUint64Array.from(rows.map((r) => keys[r] as bigint));
    const unique = rows.length === keys.length ? vectors : new Float32Array(rows.length * d);
    if (unique !== vectors) rows.forEach((r, i) => unique.set(vectors.subarray(r * d, (r + 1) * d), i * d));
    this.vectors.add(uniqueKeys, unique);
    for (let at = 0; at < uniqueKeys.length; at += ADD_SLICE) {
      this.append(uniqueKeys.subarray(at, at + ADD_SLICE), unique.subarray(at * d, Math.min(uniqueKeys.length, at + ADD_SLICE) * d));
    }
  }

  remove(keys: readonly bigint[]): number {
    const gone = new Set(keys.filter((k) => this.vectors.has(k)));
    if (gone.size === 0) return 0;
    const rows: number[] = [];
    this.rowKeys.forEach((k, row) => {
      if (gone.has(k)) rows.push(row);
    });
    const removed = this.index.removeIds(rows);
    if (removed !== rows.length) throw new Error(`faiss removed ${removed} of ${rows.length} rows`);
    this.rowKeys = this.rowKeys.filter((k) => !gone.has(k));
    this.vectors.remove([...gone]);
    return gone.size;
  }

  search(query: Float32Array, k: number, exclude?: ReadonlySet<bigint>): Neighbour[] {
    if (query.length !== this.dimensions) throw new Error(`query has ${query.length} dimensions, the index ${this.dimensions}`);
    const count = candidateCount(k, exclude, this.size());
    if (count === 0) return [];
    const found = this.index.search(Array.from(query), count);
    const candidates: Neighbour[] = [];
    found.labels.forEach((row, i) => {
      const key = row >= 0 ? this.rowKeys[row] : undefined;
      // Inner product of unit vectors; clamped against rounding like the usearch backend.
      if (key !== undefined) candidates.push({ key, similarity: Math.max(-1, Math.min(1, found.distances[i] ?? -1)) });
    });
    return rankNeighbours(candidates, k, exclude);
  }

  /** The vectors and keys in FlatVectors' file format: loading rebuilds the FAISS index from them. */
  save(path: string): void {
    this.vectors.save(path);
  }

  memoryBytes(): number {
    // FAISS's own copy of the vectors plus ours, and the row keys.
    return this.vectors.memoryBytes() + this.size() * (this.dimensions * 4 + 8);
  }
}

export function createFaissIndex(options: VectorIndexOptions): VectorIndex {
  return new FaissFlatVectorIndex(options, new FlatVectors(options.dimensions));
}

/** Loads a file written by save() (FlatVectors format) and rebuilds the FAISS index from it. */
export function loadFaissIndex(path: string, options: VectorIndexOptions): VectorIndex {
  loadBinding();
  return new FaissFlatVectorIndex(options, FlatVectors.load(path, options.dimensions));
}
