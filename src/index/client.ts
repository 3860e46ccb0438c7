// The main-thread side of the index worker: typed requests, answered in order. A crashed worker fails
// every pending request and marks the client dead; the manager then starts a new one.
import { Worker } from 'node:worker_threads';
import { PrecedentError, type ErrorCode } from '../shared/errors.js';
import type { FromIndexWorker, IndexReplies, IndexRequest, IndexWorkerInit } from './protocol.js';
import { workerScriptUrl } from '../shared/worker-url.js';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

export class IndexClient {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private deadReason: string | undefined;

  constructor(init: IndexWorkerInit) {
    this.worker = new Worker(workerScriptUrl(import.meta.url, 'index'), { workerData: init });
    this.worker.on('message', (msg: FromIndexWorker) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new PrecedentError(msg.code as ErrorCode, msg.message));
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
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, request }, transfer);
    });
  }

  async close(): Promise<void> {
    this.deadReason ??= 'closed';
    await this.worker.terminate();
  }
}
