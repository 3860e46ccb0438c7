// usearch's native binding, loaded through require: its ESM entry recurses forever while looking for
// the native build (usearch 2.26), the CommonJS one finds the bundled prebuild. The binding reads a
// typed array from the start of its buffer, ignoring byteOffset (measured: a subarray query searched
// for row 0), so every array passed in is made dense here first.
import { createRequire } from 'node:module';

export interface UsearchMatches {
  keys: BigUint64Array;
  distances: Float32Array;
}

export interface UsearchIndex {
  add(keys: BigUint64Array, vectors: Float32Array, threads: number): void;
  search(vector: Float32Array, k: number, threads: number): UsearchMatches;
  contains(keys: BigUint64Array): boolean[];
  remove(keys: BigUint64Array): number[];
  size(): number;
  dimensions(): number;
  save(path: string): void;
  load(path: string): void;
}

export interface UsearchConfig {
  dimensions: number;
  metric: 'cos';
  quantization: 'f32' | 'f16';
  connectivity: number;
  expansion_add: number;
  expansion_search: number;
  multi: boolean;
}

interface UsearchModule {
  Index: new (config: UsearchConfig) => UsearchIndex;
  exactSearch(dataset: Float32Array, queries: Float32Array, dimensions: number, count: number, metric: 'cos', threads: number): UsearchMatches;
}

let loaded: UsearchModule | undefined;
const binding = (): UsearchModule => (loaded ??= createRequire(import.meta.url)('usearch') as UsearchModule);

/** The array itself when it starts at its buffer's beginning, else a copy that does. */
export function dense<T extends Float32Array | BigUint64Array>(a: T): T {
  return a.byteOffset === 0 ? a : (a.slice() as T);
}

export function newUsearchIndex(config: UsearchConfig): UsearchIndex {
  const index = new (binding().Index)(config);
  return {
    add: (keys, vectors, threads) => index.add(dense(keys), dense(vectors), threads),
    search: (vector, k, threads) => index.search(dense(vector), k, threads),
    contains: (keys) => index.contains(dense(keys)),
    remove: (keys) => index.remove(dense(keys)),
    size: () => index.size(),
    dimensions: () => index.dimensions(),
    save: (path) => index.save(path),
    load: (path) => index.load(path),
  };
}

export function exactSearch(dataset: Float32Array, query: Float32Array, dimensions: number, count: number): UsearchMatches {
  return binding().exactSearch(dense(dataset), dense(query), dimensions, count, 'cos', 1);
}
