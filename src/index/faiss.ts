// The optional FAISS backend: an interface point, not an implementation. faiss-node cannot be
// installed here (its install downloads a prebuilt binary or clones faiss from GitHub); on a host with
// Debian's libfaiss-dev its source build works offline. To plug it in: implement VectorIndex
// (vector-index.ts) with faiss-node's IndexFlatIP (exact; vectors are L2-normalised, so inner product
// is cosine) or IndexHNSWFlat, keep a key <-> row map in JS (faiss-node has no add-with-ids and
// IDMap.add aborts the process), pass plain arrays (it takes no typed arrays), and return it below.
// Until then, `index.backend: faiss` fails at start-up with this error instead of silently falling back.
import { createRequire } from 'node:module';
import { PrecedentError } from '../shared/errors.js';
import type { VectorIndex, VectorIndexOptions } from './vector-index.js';

export function faissAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve('faiss-node');
    return true;
  } catch {
    return false;
  }
}

export function createFaissIndex(_options: VectorIndexOptions): VectorIndex {
  if (!faissAvailable()) {
    throw new PrecedentError('INDEX_UNAVAILABLE', 'index.backend is faiss but faiss-node is not installed (it cannot install offline; use index.backend: usearch)');
  }
  throw new PrecedentError('INDEX_UNAVAILABLE', 'faiss-node is installed but the faiss backend is not implemented yet (see src/index/faiss.ts); use index.backend: usearch');
}
