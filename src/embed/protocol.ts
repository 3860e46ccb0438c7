// What the embedder (main thread) and its worker threads say to each other, inside the envelope of
// shared/thread-protocol.ts. Plain data only. Images come in shared memory (SharedArrayBuffer: the
// embedder copies them there in slices, so posting copies nothing); results go back by transfer
// (fresh buffers the worker no longer needs).
import type { EmbeddingResult } from '../shared/analysis.js';
import type { StageTimes } from './session.js';

/** workerData of every embedding worker. */
export interface WorkerInit {
  modelDir: string;
  device: 'cpu' | 'cuda' | 'auto';
  threads: number;
}

/** The 'ready' payload: the device the worker's session runs on, and why not CUDA if it was asked for. */
export interface EmbedReady {
  device: 'cpu' | 'cuda';
  fallbackReason?: string;
}

export interface WireImage {
  width: number;
  height: number;
  pixels: Float32Array;
}

export type EmbedRequest =
  /** Embed one batch (its pixels are in shared memory, so posting it copies no pixels). */
  | { op: 'embed'; images: WireImage[] }
  /** Test hook: the next batch throws an uncaught error in the worker, as a runtime crash would. */
  | { op: 'crash-on-next-run' };

export interface EmbedReplies {
  embed: { results: EmbeddingResult[]; times: StageTimes };
  'crash-on-next-run': null;
}

export type EmbedReply = EmbedReplies[keyof EmbedReplies];
