// Messages between the embedder (main thread) and its worker threads. Plain data only. Images come in
// shared memory (SharedArrayBuffer: the embedder copies them there in slices, so posting copies
// nothing); results go back by transfer (fresh buffers the worker no longer needs).
import type { ErrorCode } from '../shared/errors.js';
import type { EmbeddingResult } from '../shared/analysis.js';
import type { StageTimes } from './session.js';

/** workerData of every embedding worker. */
export interface WorkerInit {
  modelDir: string;
  device: 'cpu' | 'cuda' | 'auto';
  threads: number;
}

export interface WireImage {
  width: number;
  height: number;
  pixels: Float32Array;
}

export type ToWorker =
  /** Run batch `id` (its pixels are in shared memory, so posting it copies no pixels). */
  | { type: 'run'; id: number; images: WireImage[] }
  /** Test hook: the next 'run' throws an uncaught error in the worker, as a runtime crash would. */
  | { type: 'crash-on-next-run' };

export type FromWorker =
  | { type: 'ready'; device: 'cpu' | 'cuda'; fallbackReason?: string }
  | { type: 'startup-failed'; code: ErrorCode; message: string; details: string[] }
  | { type: 'result'; id: number; results: EmbeddingResult[]; times: StageTimes }
  | { type: 'failed'; id: number; code: ErrorCode; message: string };
