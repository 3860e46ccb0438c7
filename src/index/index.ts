// index/: the similar-case index. A small VectorIndex interface (usearch by default: exact search
// below index.exactBelow, HNSW above; FAISS flat where faiss-node is built), run in a worker thread behind an
// IndexManager that treats the case store as the truth and the index file as a cache; the retriever
// (exclusions, case records) and the neighbour vote.
export { createIndexManager, indexFileName, type IndexManager, type IndexManagerDeps, type IndexModel, type OpenResult } from './manager.js';
export { createRetriever, type QueryImage, type Retriever, type RetrieverDeps } from './retrieval.js';
export { knnVote, type VoteOptions } from './vote.js';
export { createVectorIndex, loadVectorIndex } from './backends.js';
export { createUsearchIndex, loadUsearchIndex } from './usearch.js';
export { createFaissIndex, faissAvailable, faissBinaryPath } from './faiss.js';
export { saveIndexFile, loadIndexFile, metaPath, type IndexFileMeta, type IndexIdentity } from './index-file.js';
export type { Neighbour, VectorIndex, VectorIndexOptions, IndexMode, BackendName } from './vector-index.js';
