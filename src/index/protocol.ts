// What the index manager (main thread) and the index worker thread say to each other, inside the
// envelope of shared/thread-protocol.ts.
import type { IndexFileMeta, IndexIdentity } from './index-file.js';
import type { BackendName, IndexMode, Neighbour, VectorIndexOptions } from './vector-index.js';

export interface IndexWorkerInit {
  backend: BackendName;
  options: VectorIndexOptions;
}

export type IndexRequest =
  | { op: 'open'; file: string; identity: IndexIdentity }
  | { op: 'reset' }
  | { op: 'add'; keys: BigUint64Array; vectors: Float32Array }
  | { op: 'remove'; keys: bigint[] }
  | { op: 'search'; queries: Float32Array[]; k: number; exclude: bigint[][] }
  | { op: 'save'; file: string; identity: IndexIdentity; seq: number }
  | { op: 'stats' };

export interface IndexStats {
  size: number;
  mode: IndexMode;
  memoryBytes: number;
}

export type OpenReply = ({ loaded: true; seq: number } & IndexStats) | { loaded: false; reason: string };

export interface IndexReplies {
  open: OpenReply;
  reset: IndexStats;
  add: IndexStats;
  remove: IndexStats & { removed: number };
  search: Neighbour[][];
  save: IndexFileMeta;
  stats: IndexStats;
}

export type IndexReply = IndexReplies[keyof IndexReplies];
