// A pool of worker threads that answer one request at a time each: for CPU-bound steps (decoding,
// drawing result pictures) that must not run on the event loop that answers DICOM associations and
// STOW-RS. One request per thread, so that a thread that dies takes only the request it was on; a
// coded failure (PrecedentError) keeps its code across the thread boundary. The messages are
// thread-protocol.ts's; the worker side is serveThreadRequests() in thread-worker.ts.
import { Worker } from 'node:worker_threads';
import type { Logger } from './log.js';
import { failureError, type ThreadReply, type ThreadRequest } from './thread-protocol.js';

export interface ThreadPoolOptions {
  /** The worker script (see worker-url.ts). */
  script: URL;
  /** For thread names and log lines, e.g. 'decode'. */
  name: string;
  threads: number;
  log: Logger;
}

export interface ThreadPool<Req, Res> {
  readonly threads: number;
  /** Threads started again after one stopped. */
  readonly restarts: number;
  run(request: Req): Promise<Res>;
  /** Fails what waits and stops the threads (what is running is abandoned). */
  close(): Promise<void>;
}

interface Pending<Req, Res> {
  id: number;
  request: Req;
  resolve: (value: Res) => void;
  reject: (err: Error) => void;
}

interface Slot<Req, Res> {
  index: number;
  worker?: Worker;
  ready: boolean;
  current?: Pending<Req, Res>;
  lastError?: Error;
  /** What the thread reported when it could not start ('startup-failed'). */
  startupFailure?: Error;
}

class Pool<Req, Res> implements ThreadPool<Req, Res> {
  restarts = 0;
  private readonly slots: Slot<Req, Res>[];
  private readonly queue: Pending<Req, Res>[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: ThreadPoolOptions) {
    this.slots = Array.from({ length: Math.max(1, Math.floor(options.threads)) }, (_, index) => ({ index, ready: false }));
    for (const slot of this.slots) this.spawn(slot);
  }

  get threads(): number {
    return this.slots.length;
  }

  run(request: Req): Promise<Res> {
    if (this.closed) return Promise.reject(new Error(`the ${this.options.name} threads are closed`));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, request, resolve, reject });
      this.dispatch();
    });
  }

  private spawn(slot: Slot<Req, Res>): void {
    const worker = new Worker(this.options.script, { name: `${this.options.name}-${slot.index}` });
    slot.worker = worker;
    slot.ready = false;
    delete slot.lastError;
    delete slot.startupFailure;
    worker.on('message', (msg: ThreadReply<Res, unknown>) => {
      if (msg.type === 'ready') {
        slot.ready = true;
      } else if (msg.type === 'startup-failed') {
        // The thread waits to be ended: exited() then fails what waits with this error, without restarting it.
        slot.lastError = new Error(msg.message);
        slot.startupFailure = failureError(msg, `${this.options.name} thread ${slot.index} cannot start: ${msg.message}`);
        void worker.terminate();
        return;
      } else {
        const pending = slot.current;
        if (pending?.id !== msg.id) return;
        delete slot.current;
        if (msg.type === 'done') pending.resolve(msg.value);
        // Uncoded failures stay plain Errors: retryable, like any unexpected exception.
        else pending.reject(failureError(msg));
      }
      this.dispatch();
    });
    worker.on('error', (err) => {
      slot.lastError = err;
    });
    worker.on('exit', (code) => this.exited(slot, worker, code));
  }

  private exited(slot: Slot<Req, Res>, worker: Worker, code: number): void {
    if (slot.worker !== worker) return;
    const wasReady = slot.ready;
    delete slot.worker;
    slot.ready = false;
    if (this.closed) return;
    const why = slot.lastError?.message ?? `exit code ${code}`;
    const pending = slot.current;
    delete slot.current;
    const { name, log } = this.options;
    log.error({ thread: `${name}-${slot.index}`, reason: why, busy: pending !== undefined }, 'worker thread stopped: restarting it');
    // Not a permanent failure: the thread may have died of something other than this request
    // (memory pressure), so the job's retries get their chance.
    pending?.reject(new Error(`${name} thread ${slot.index} stopped: ${why}`));
    if (!wasReady) {
      // It could not even start (a broken install): failing what waits beats restarting forever. The
      // next request tries again.
      const err = slot.startupFailure ?? new Error(`${name} thread ${slot.index} cannot start: ${why}`);
      for (const p of this.queue.splice(0)) p.reject(err);
      return;
    }
    this.restarts++;
    this.spawn(slot);
  }

  private dispatch(): void {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.worker) this.spawn(slot);
      if (!slot.ready || slot.current || !slot.worker) continue;
      const pending = this.queue.shift();
      if (!pending) return;
      slot.current = pending;
      slot.worker.postMessage({ id: pending.id, request: pending.request } satisfies ThreadRequest<Req>);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new Error(`the ${this.options.name} threads were closed`);
    for (const p of this.queue.splice(0)) p.reject(err);
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.current?.reject(err);
        delete slot.current;
        await slot.worker?.terminate();
        delete slot.worker;
      }),
    );
  }
}

/** Starts the threads now; requests made before they are ready wait for them. */
export function createThreadPool<Req, Res>(options: ThreadPoolOptions): ThreadPool<Req, Res> {
  return new Pool<Req, Res>(options);
}
