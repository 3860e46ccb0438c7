// Entry of the index worker thread: owns the VectorIndex, so that searches, bulk adds (an HNSW graph of
// a million vectors takes minutes) and file hashing never run on the event loop that answers DICOM
// associations. Requests are answered one at a time, in order (shared/thread-worker.ts).
import { workerData } from 'node:worker_threads';
import { serveThreadRequests } from '../shared/thread-worker.js';
import { createVectorIndex } from './backends.js';
import { loadIndexFile, saveIndexFile } from './index-file.js';
import type { IndexReply, IndexRequest, IndexStats, IndexWorkerInit } from './protocol.js';
import type { VectorIndex } from './vector-index.js';

const init = workerData as IndexWorkerInit;
let index: VectorIndex | undefined;

function current(): VectorIndex {
  index ??= createVectorIndex(init.backend, init.options);
  return index;
}

function stats(i: VectorIndex): IndexStats {
  return { size: i.size(), mode: i.mode(), memoryBytes: i.memoryBytes() };
}

function handle(request: IndexRequest): IndexReply {
  switch (request.op) {
    case 'open': {
      const outcome = loadIndexFile(request.file, request.identity, init.options);
      if ('reason' in outcome) return { loaded: false, reason: outcome.reason };
      index = outcome.index;
      return { loaded: true, seq: outcome.meta.seq, ...stats(index) };
    }
    case 'reset':
      index = createVectorIndex(init.backend, init.options);
      return stats(index);
    case 'add':
      current().add(request.keys, request.vectors);
      return stats(current());
    case 'remove': {
      const removed = current().remove(request.keys);
      return { removed, ...stats(current()) };
    }
    case 'search':
      return request.queries.map((q, i) => current().search(q, request.k, new Set(request.exclude[i] ?? [])));
    case 'save':
      return saveIndexFile(current(), request.file, request.identity, request.seq);
    case 'stats':
      return stats(current());
  }
}

// A backend's own exception (not a PrecedentError) reaches the manager as INDEX_FAILED.
await serveThreadRequests<IndexRequest, IndexReply>(async (request) => ({ value: handle(request) }), { uncoded: 'INDEX_FAILED' });
