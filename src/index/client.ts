// The main-thread side of the index worker: typed requests, answered in order. A crashed worker fails
// every pending request and marks the client dead; the manager then starts a new one (the index lives
// in the thread, so a fresh thread must load the file again: a pool that restarts threads on its own
// would not know that). The messages are shared/thread-protocol.ts's.
import { Worker } from 'node:worker_threads';
import { PrecedentError } from '../shared/errors.js';
import { failureError, type ThreadReply, type ThreadRequest } from '../shared/thread-protocol.js';
import type { IndexReplies, IndexReply, IndexRequest, IndexWorkerInit } from './protocol.js';
import { workerScriptUrl } from '../shared/worker-url.js';

interface Pending {
  resolve: (value: IndexReply) => void;
  reject: (err: Error) => void;
}

export class IndexClient {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private deadReason: string | undefined;

  constructor(init: IndexWorkerInit) {
    // Requests need not wait for 'ready': the thread reads them from its port once it listens.
    this.worker = new Worker(workerScriptUrl(import.meta.url, 'index'), { workerData: init });
    this.worker.on('message', (msg: ThreadReply<IndexReply>) => {
      if (msg.type === 'ready') return;
      if (msg.type === 'startup-failed') {
        this.fail(`index worker cannot start: ${msg.message}`);
        return;
      }
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.type === 'done') p.resolve(msg.value);
      else p.reject(failureError(msg));
    });
    this.worker.on('error', (err) => this.fail(`index worker crashed: ${err.message}`));
    this.worker.on('exit', (code) => this.fail(`index worker exited (${code})`));
  }

  get dead(): boolean {
    return this.deadReason !== undefined;
  }

  private fail(reason: string): void {
    this.deadReason ??= reason;
    for (const p of this.pending.values()) p.reject(new PrecedentError('INDEX_FAILED', reason));
    this.pending.clear();
  }

  request<R extends IndexRequest>(request: R, transfer: ArrayBuffer[] = []): Promise<IndexReplies[R['op']]> {
    if (this.deadReason !== undefined) return Promise.reject(new PrecedentError('INDEX_FAILED', this.deadReason));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: IndexReply) => void, reject });
      this.worker.postMessage({ id, request } satisfies ThreadRequest<IndexRequest>, transfer);
    });
  }

  async close(): Promise<void> {
    this.deadReason ??= 'closed';
    await this.worker.terminate();
  }
}
