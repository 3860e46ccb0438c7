// The one message protocol between the main thread and every worker thread of the node (decode,
// render, embed, index): each capability defines only its request and reply payloads, and the
// envelope, the start-up handshake and the way a failure crosses the boundary are the same for all.
// The worker side is serveThreadRequests() (thread-worker.ts); the main side is thread-pool.ts, or a
// capability's own scheduling where a pool of interchangeable threads does not fit (the embedder's
// batches over shared memory, the index thread that holds state).
import { isPrecedentError, PrecedentError, type ErrorCode } from './errors.js';

/** Main thread -> worker: request `id` (ids are unique per thread, chosen by the main side). */
export interface ThreadRequest<Req> {
  id: number;
  request: Req;
}

/**
 * A failure as it crosses the boundary. A PrecedentError keeps its code and details, so that a
 * permanent failure (DECODE_FAILED) is not retried as if it were a crash; `code` is undefined for an
 * unexpected exception that the worker does not classify (the main side makes it a plain Error).
 */
export interface ThreadFailure {
  code: ErrorCode | undefined;
  message: string;
  details: string[];
}

/** Worker -> main thread. */
export type ThreadReply<Res, Ready = void> =
  /** Started (once, before any answer); `payload` is what its start-up found (e.g. the embedder's device). */
  | { type: 'ready'; payload: Ready }
  /** Could not start (e.g. MODEL_INVALID); it answers nothing and waits to be terminated. */
  | ({ type: 'startup-failed' } & ThreadFailure)
  | { type: 'done'; id: number; value: Res }
  | ({ type: 'failed'; id: number } & ThreadFailure);

/** What a worker sends for `err`; `uncoded` is the code of exceptions that are not PrecedentErrors, if any. */
export function threadFailure(err: unknown, uncoded?: ErrorCode): ThreadFailure {
  if (isPrecedentError(err)) return { code: err.code, message: err.message, details: [...err.details] };
  return { code: uncoded, message: err instanceof Error ? err.message : String(err), details: [] };
}

/** The error a main thread raises for a failure reply: coded when the worker coded it, else a plain (retryable) Error. */
export function failureError(failure: ThreadFailure, message: string = failure.message): Error {
  return failure.code === undefined ? new Error(message) : new PrecedentError(failure.code, message, { details: failure.details });
}
