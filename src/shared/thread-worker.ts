// The worker side of thread-pool.ts: answers each request with `handle`, after `init` (e.g. compiling
// WebAssembly once per thread, before the first request rather than during it).
import { parentPort, type TransferListItem } from 'node:worker_threads';
import { isPrecedentError } from './errors.js';
import type { ThreadReply, ThreadRequest } from './thread-pool.js';

export interface Answer<Res> {
  value: Res;
  /** Buffers made for this answer only: moved to the pool's thread instead of copied. */
  transfer?: TransferListItem[];
}

export async function serveThreadRequests<Req, Res>(handle: (request: Req) => Promise<Answer<Res>>, init?: () => Promise<void>): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('this script runs only as a worker thread');
  const post = (msg: ThreadReply<Res>, transfer: readonly TransferListItem[] = []): void => port.postMessage(msg, transfer);
  await init?.();
  port.on('message', ({ id, request }: ThreadRequest<Req>) => {
    handle(request).then(
      ({ value, transfer }) => post({ type: 'done', id, value }, transfer),
      (err: unknown) =>
        post(
          isPrecedentError(err)
            ? { type: 'failed', id, code: err.code, message: err.message, details: [...err.details] }
            : { type: 'failed', id, code: undefined, message: err instanceof Error ? err.message : String(err), details: [] },
        ),
    );
  });
  post({ type: 'ready' });
}
