// Backend selection (index.backend).
import { createFaissIndex, loadFaissIndex } from './faiss.js';
import { createUsearchIndex, loadUsearchIndex } from './usearch.js';
import type { BackendName, IndexMode, VectorIndex, VectorIndexOptions } from './vector-index.js';

export function createVectorIndex(backend: BackendName, options: VectorIndexOptions): VectorIndex {
  return backend === 'faiss' ? createFaissIndex(options) : createUsearchIndex(options);
}

export function loadVectorIndex(backend: BackendName, path: string, options: VectorIndexOptions, mode: IndexMode): VectorIndex {
  if (backend === 'faiss') return loadFaissIndex(path, options);
  return loadUsearchIndex(path, options, mode);
}
