// The default backend: usearch. Below `exactBelow` vectors it searches exactly (brute force over a
// dense f32 matrix: exact answers, cheap at that size); when an add reaches `exactBelow` the vectors
// move into an HNSW graph (f32 or f16), which answers in about log(n). A shrinking index stays HNSW
// until it is rebuilt.
import { FlatVectors } from './flat.js';
import { newUsearchIndex, type UsearchIndex } from './usearch-binding.js';
import { candidateCount, rankNeighbours, toSimilarity, type IndexMode, type Neighbour, type VectorIndex, type VectorIndexOptions } from './vector-index.js';

const PROMOTE_SLICE = 65536;

function newGraph(o: VectorIndexOptions): UsearchIndex {
  return newUsearchIndex({
    dimensions: o.dimensions,
    metric: 'cos',
    quantization: o.dtype,
    connectivity: o.connectivity,
    expansion_add: o.expansionAdd,
    expansion_search: o.expansionSearch,
    multi: false,
  });
}

class UsearchVectorIndex implements VectorIndex {
  readonly backend = 'usearch' as const;
  readonly dimensions: number;
  private flat: FlatVectors | undefined;
  private graph: UsearchIndex | undefined;

  constructor(
    private readonly options: VectorIndexOptions,
    start: { flat?: FlatVectors; graph?: UsearchIndex },
  ) {
    this.dimensions = options.dimensions;
    this.flat = start.flat;
    this.graph = start.graph;
    if (!this.flat && !this.graph) this.flat = new FlatVectors(options.dimensions);
  }

  mode(): IndexMode {
    return this.graph ? 'hnsw' : 'exact';
  }

  size(): number {
    return this.graph ? this.graph.size() : (this.flat?.size() ?? 0);
  }

  has(key: bigint): boolean {
    if (this.graph) return this.graph.contains(new BigUint64Array([key]))[0] === true;
    return this.flat?.has(key) ?? false;
  }

  add(keys: BigUint64Array, vectors: Float32Array): void {
    if (keys.length === 0) return;
    if (vectors.length !== keys.length * this.dimensions) {
      throw new Error(`${keys.length} keys need ${keys.length * this.dimensions} values, got ${vectors.length}`);
    }
    if (this.flat) {
      this.flat.add(keys, vectors);
      if (this.flat.size() >= this.options.exactBelow) this.promote();
      return;
    }
    const graph = this.graph as UsearchIndex;
    // usearch refuses a key twice: replacing is remove + add.
    const present = graph.contains(keys).flatMap((p, i) => (p ? [keys[i] as bigint] : []));
    if (present.length > 0) graph.remove(BigUint64Array.from(present));
    // Duplicates within one call: the last vector wins, as in the exact tier.
    const last = new Map<bigint, number>();
    keys.forEach((k, i) => last.set(k, i));
    if (last.size === keys.length) {
      graph.add(keys, vectors, this.options.threads);
      return;
    }
    const rows = [...last.values()].sort((a, b) => a - b);
    const d = this.dimensions;
    const unique = new Float32Array(rows.length * d);
    rows.forEach((r, i) => unique.set(vectors.subarray(r * d, (r + 1) * d), i * d));
    graph.add(BigUint64Array.from(rows.map((r) => keys[r] as bigint)), unique, this.options.threads);
  }

  /** Exact tier -> HNSW graph (once the index reaches exactBelow). */
  private promote(): void {
    const flat = this.flat as FlatVectors;
    const graph = newGraph(this.options);
    for (const slice of flat.slices(PROMOTE_SLICE)) graph.add(slice.keys, slice.vectors, this.options.threads);
    this.graph = graph;
    this.flat = undefined;
  }

  remove(keys: readonly bigint[]): number {
    if (keys.length === 0) return 0;
    if (this.flat) return this.flat.remove(keys);
    const counts = (this.graph as UsearchIndex).remove(BigUint64Array.from(keys));
    return counts.reduce((a, b) => a + Number(b), 0);
  }

  search(query: Float32Array, k: number, exclude?: ReadonlySet<bigint>): Neighbour[] {
    if (query.length !== this.dimensions) throw new Error(`query has ${query.length} dimensions, the index ${this.dimensions}`);
    if (this.flat) return this.flat.search(query, k, exclude);
    const graph = this.graph as UsearchIndex;
    const count = candidateCount(k, exclude, graph.size());
    if (count === 0) return [];
    const found = graph.search(query, count, 1);
    const candidates: Neighbour[] = [];
    for (let i = 0; i < found.keys.length; i++) candidates.push({ key: found.keys[i] as bigint, similarity: toSimilarity(found.distances[i] ?? 2) });
    return rankNeighbours(candidates, k, exclude);
  }

  save(path: string): void {
    if (this.flat) this.flat.save(path);
    else (this.graph as UsearchIndex).save(path);
  }

  memoryBytes(): number {
    if (this.flat) return this.flat.memoryBytes();
    const scalar = this.options.dtype === 'f16' ? 2 : 4;
    // Vectors, level-0 neighbour lists (2M slots of 4 bytes), upper levels (~1/M of nodes), key maps.
    return this.size() * (this.dimensions * scalar + this.options.connectivity * 2 * 4 + 64);
  }
}

export function createUsearchIndex(options: VectorIndexOptions): VectorIndex {
  return new UsearchVectorIndex(options, {});
}

/** Loads a file written by save(); `mode` says which tier wrote it (kept beside it in the meta file). */
export function loadUsearchIndex(path: string, options: VectorIndexOptions, mode: IndexMode): VectorIndex {
  if (mode === 'exact') return new UsearchVectorIndex(options, { flat: FlatVectors.load(path, options.dimensions) });
  const graph = newGraph(options);
  graph.load(path);
  if (graph.dimensions() !== options.dimensions) throw new Error(`index file has ${graph.dimensions()} dimensions, expected ${options.dimensions}`);
  return new UsearchVectorIndex(options, { graph });
}
