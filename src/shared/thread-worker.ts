// The worker side of thread-protocol.ts, for every worker thread of the node: runs `init` (e.g.
// compiling WebAssembly or opening a model once per thread, before the first request rather than
// during it), says 'ready' with what it returned or 'startup-failed', then answers each request with
// `handle`, one at a time in the order they arrive (a main side may post the next request while one
// runs, so that it is at hand the moment the first is done).
import { parentPort, type TransferListItem } from 'node:worker_threads';
import type { ErrorCode } from './errors.js';
import { threadFailure, type ThreadReply, type ThreadRequest } from './thread-protocol.js';

export interface Answer<Res> {
  value: Res;
  /** Buffers made for this answer only: moved to the main thread instead of copied. */
  transfer?: TransferListItem[];
}

export interface ServeOptions<Ready> {
  /** Runs before the first request; its value goes with 'ready'. */
  init?: () => Promise<Ready>;
  /** The code of failures that are not PrecedentErrors (default: none, a retryable plain Error on the main side). */
  uncoded?: ErrorCode;
  /** The code of a start-up failure that is not a PrecedentError (default: `uncoded`). */
  uncodedStartup?: ErrorCode;
}

export async function serveThreadRequests<Req, Res, Ready = void>(
  handle: (request: Req) => Promise<Answer<Res>>,
  options: ServeOptions<Ready> = {},
): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('this script runs only as a worker thread');
  const post = (msg: ThreadReply<Res, Ready>, transfer: readonly TransferListItem[] = []): void => port.postMessage(msg, transfer);
  let payload: Ready;
  try {
    payload = (await options.init?.()) as Ready;
  } catch (err) {
    const failure = threadFailure(err, options.uncodedStartup ?? options.uncoded);
    post({ type: 'startup-failed', ...failure });
    // Listening keeps the thread (and so the message above) alive until the main side terminates it;
    // a request sent meanwhile gets the same failure.
    port.on('message', ({ id }: ThreadRequest<Req>) => post({ type: 'failed', id, ...failure }));
    return;
  }
  let turn: Promise<void> = Promise.resolve();
  const answer = async (id: number, request: Req): Promise<void> => {
    let reply: Answer<Res>;
    try {
      reply = await handle(request);
    } catch (err) {
      post({ type: 'failed', id, ...threadFailure(err, options.uncoded) });
      return;
    }
    post({ type: 'done', id, value: reply.value }, reply.transfer);
  };
  port.on('message', ({ id, request }: ThreadRequest<Req>) => {
    turn = turn.then(() => answer(id, request));
  });
  post({ type: 'ready', payload });
}
