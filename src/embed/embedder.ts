// The Embedder: a queue on the main thread feeding N worker threads, each with its own ONNX Runtime
// session. The main thread only queues, posts one message per batch and settles promises (decoders
// deliver pixels in shared memory; other callers' pixels are copied there in slices first). Everything
// that costs CPU (resize, normalisation, session.run, the attention map) happens in a worker, so the
// event loop that answers DICOM associations never waits for a model. (The brief said "send
// tensors"; preprocessing a radiograph costs 25-40 ms, so it moved into the worker too.)
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { PrecedentError } from '../shared/errors.js';
import type { DecodedImage, Embedder, EmbeddingResult, ModelCard } from '../shared/analysis.js';
import type { Logger } from '../shared/log.js';
import { loadModelCard } from './card.js';
import type { EmbedReady, EmbedReplies, EmbedReply, EmbedRequest, WireImage, WorkerInit } from './protocol.js';
import { emptyStageTimes, type RequestedDevice, type StageTimes } from './session.js';
import { failureError, type ThreadReply, type ThreadRequest } from '../shared/thread-protocol.js';
import { workerScriptUrl } from '../shared/worker-url.js';

type FromWorker = ThreadReply<EmbedReply, EmbedReady>;

export interface EmbedderOptions {
  modelDir: string;
  device: RequestedDevice;
  /** Intra-op threads per worker; default: the machine's cores shared among the workers. */
  threads?: number;
  /** Images per session.run; capped by a fixed batch size in the card. */
  batchSize: number;
  /** Worker threads, each with its own session (memory: one copy of the weights each). Default 1. */
  workers?: number;
  log: Logger;
  /**
   * Level of the "CUDA unavailable: running on CPU" line (default warn). The node warns once, when it
   * starts; a CLI command on a CPU-only host logs it at debug, rather than on every run.
   */
  fallbackLevel?: 'warn' | 'debug';
}

/** The Embedder plus what operations and tests need to see. */
export interface WorkerEmbedder extends Embedder {
  readonly workers: number;
  /** Worker threads alive now (0 after close()). */
  readonly running: number;
  /** Workers started again after a crash. */
  readonly restarts: number;
  /** Batches posted to workers and not answered yet (at most 2 per worker: the one running and the next). */
  readonly inFlight: number;
  /**
   * Stage times summed over every batch the workers answered, as measured inside them; the wall time
   * of embed() beyond preprocess + inference + postprocess is the cost of the worker hand-off.
   */
  readonly stages: Readonly<StageTimes>;
  /** Test hook: the next batch worker 0 receives makes it throw an uncaught error, as a runtime crash would. */
  crashNextBatchForTest(): void;
}

interface Pending {
  image: DecodedImage;
  resolve: (r: EmbeddingResult) => void;
  reject: (e: Error) => void;
}

interface Batch {
  id: number;
  items: Pending[];
}

interface Slot {
  index: number;
  worker?: Worker;
  state: 'starting' | 'ready' | 'down';
  /** Posted and not yet answered, oldest first (the worker answers in order). */
  batches: Batch[];
  lastError?: Error;
}

/**
 * Batches a worker holds at once: the one running and the next, already in its message queue, so that
 * it starts the next the moment the first is done instead of waiting for this thread to receive the
 * answer and post again (two thread wake-ups, about 0.4 ms, more than the run of a small model).
 */
const IN_FLIGHT = 2;

/** 1 Mi floats (4 MiB) per slice: a few ms of copying between two turns of the event loop. */
const COPY_SLICE = 1 << 20;

/**
 * The pixels in shared memory, copied a slice at a time with a turn of the event loop between slices
 * (none before the first: a typical image is one or two slices, and every turn is latency).
 */
async function shared(pixels: Float32Array): Promise<Float32Array> {
  if (pixels.buffer instanceof SharedArrayBuffer) return pixels;
  const out = new Float32Array(new SharedArrayBuffer(pixels.byteLength));
  for (let at = 0; at < pixels.length; at += COPY_SLICE) {
    if (at > 0) await new Promise((resolve) => setImmediate(resolve));
    out.set(pixels.subarray(at, at + COPY_SLICE), at);
  }
  return out;
}

function failed(message: string, cause?: unknown): PrecedentError {
  return new PrecedentError('INFERENCE_FAILED', message, cause === undefined ? {} : { cause });
}

class Pool implements WorkerEmbedder {
  readonly card: ModelCard;
  device: 'cpu' | 'cuda' = 'cpu';
  restarts = 0;
  readonly stages = emptyStageTimes();
  private readonly queue: Pending[] = [];
  private readonly slots: Slot[];
  private readonly script = workerScriptUrl(import.meta.url, 'embed');
  private readonly batchSize: number;
  private nextId = 1;
  private closed = false;
  private dispatchQueued = false;

  constructor(private readonly options: Required<EmbedderOptions>) {
    this.card = loadModelCard(options.modelDir);
    const fixed = this.card.input.shape[0];
    this.batchSize = Math.max(1, fixed === -1 ? options.batchSize : Math.min(options.batchSize, fixed));
    this.slots = Array.from({ length: options.workers }, (_, index): Slot => ({ index, state: 'down', batches: [] }));
  }

  get workers(): number {
    return this.slots.length;
  }

  get inFlight(): number {
    return this.slots.reduce((n, s) => n + s.batches.length, 0);
  }

  get running(): number {
    return this.slots.filter((s) => s.worker !== undefined).length;
  }

  /** The first worker probes the device; the others start with what it found, so a CUDA fallback warns once. */
  async start(): Promise<void> {
    const [first, ...rest] = this.slots;
    if (!first) throw failed('an embedder needs at least one worker');
    try {
      const ready = await this.spawn(first, this.options.device);
      this.device = ready.device;
      if (ready.fallbackReason !== undefined) {
        this.options.log[this.options.fallbackLevel](
          { requested: this.options.device, reason: ready.fallbackReason },
          'CUDA execution provider unavailable: running on CPU',
        );
      }
      await Promise.all(rest.map((slot) => this.spawn(slot, this.device)));
    } catch (err) {
      await this.close();
      throw err;
    }
    this.options.log.info(
      { model: this.card.name, version: this.card.version, device: this.device, workers: this.slots.length, batchSize: this.batchSize },
      'embedder ready',
    );
  }

  private spawn(slot: Slot, device: RequestedDevice): Promise<EmbedReady> {
    const init: WorkerInit = { modelDir: this.options.modelDir, device, threads: this.options.threads };
    const worker = new Worker(this.script, { workerData: init, name: `embed-${slot.index}` });
    slot.worker = worker;
    slot.state = 'starting';
    delete slot.lastError;
    return new Promise((resolve, reject) => {
      worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'ready') {
          slot.state = 'ready';
          resolve(msg.payload);
          this.dispatch();
        } else if (msg.type === 'startup-failed') {
          reject(failureError(msg));
          void worker.terminate();
        } else {
          this.settle(slot, msg);
        }
      });
      worker.on('error', (err) => {
        slot.lastError = err;
      });
      worker.on('exit', (code) => {
        if (slot.worker !== worker) return;
        const was = slot.state;
        slot.state = 'down';
        delete slot.worker;
        const why = slot.lastError?.message ?? `exit code ${code}`;
        if (was === 'starting') reject(failed(`embedding worker ${slot.index} stopped while starting: ${why}`, slot.lastError));
        if (this.closed || was === 'starting') return;
        this.crashed(slot, why);
      });
    });
  }

  /** A worker died with work in hand: fail that work (the caller may retry) and start a fresh worker. */
  private crashed(slot: Slot, why: string): void {
    const items = slot.batches.splice(0).flatMap((b) => b.items);
    this.options.log.error({ worker: slot.index, images: items.length, reason: why }, 'embedding worker crashed: restarting it');
    for (const p of items) p.reject(failed(`embedding worker ${slot.index} crashed: ${why}`, slot.lastError));
    this.restarts++;
    this.restart(slot);
  }

  private restart(slot: Slot): void {
    this.spawn(slot, this.device).catch((err: unknown) => {
      if (this.closed) return;
      this.options.log.error({ worker: slot.index, err }, 'embedding worker failed to restart');
      // With no worker left to serve it, queued work would wait forever: fail it now. A later embed()
      // tries to start the workers again.
      if (this.slots.every((s) => s.state === 'down')) {
        for (const p of this.queue.splice(0)) p.reject(failed('no embedding worker is running', err));
      }
    });
  }

  private settle(slot: Slot, msg: Extract<FromWorker, { type: 'done' | 'failed' }>): void {
    const at = slot.batches.findIndex((b) => b.id === msg.id);
    const batch = slot.batches[at];
    if (!batch) return;
    slot.batches.splice(at, 1);
    if (msg.type === 'done') {
      // Only batches are tracked (the test hook's answer has no batch), so this is an 'embed' answer.
      const { results, times } = msg.value as EmbedReplies['embed'];
      for (const key of Object.keys(this.stages) as Array<keyof StageTimes>) this.stages[key] += times[key];
      batch.items.forEach((p, i) => (results[i] ? p.resolve(results[i]) : p.reject(failed('missing result'))));
    } else {
      batch.items.forEach((p) => p.reject(failureError(msg)));
    }
    this.dispatch();
  }

  /**
   * Hands queued images to ready workers, up to batchSize per message: first one batch to every worker
   * that has none, then a second to each (IN_FLIGHT), so that work spreads over the workers before
   * any of them queues.
   */
  private dispatch(): void {
    if (this.closed) return;
    for (let depth = 0; depth < IN_FLIGHT; depth++) {
      for (const slot of this.slots) {
        if (this.queue.length === 0) return;
        if (slot.state === 'down') this.restart(slot);
        if (slot.state !== 'ready' || !slot.worker || slot.batches.length !== depth) continue;
        const items = this.queue.splice(0, this.batchSize);
        const id = this.nextId++;
        slot.batches.push({ id, items });
        void this.send(slot, slot.worker, id, items);
      }
    }
  }

  /**
   * Posts a batch as one message. The pixels are first copied into shared memory a slice at a time,
   * yielding to the event loop between slices: the caller keeps its image (e.g. to draw the heatmap
   * on), and a copy of a whole radiograph in one go (structured clone) stalls this thread for 30-50 ms
   * on a busy machine, a batch of them for several hundred. Already shared pixels are not copied.
   * One message per batch, not per image: each message wakes the worker, which costs about as much
   * as the model run of a small model.
   */
  private async send(slot: Slot, worker: Worker, id: number, items: Pending[]): Promise<void> {
    const images: WireImage[] = [];
    for (const { image } of items) images.push({ width: image.width, height: image.height, pixels: await shared(image.pixels) });
    // The worker crashed or the embedder closed meanwhile: the batch has already been failed.
    if (slot.worker === worker && slot.batches.some((b) => b.id === id)) {
      worker.postMessage({ id, request: { op: 'embed', images } } satisfies ThreadRequest<EmbedRequest>);
    }
  }

  embed(images: DecodedImage[]): Promise<EmbeddingResult[]> {
    if (this.closed) return Promise.reject(failed('the embedder is closed'));
    for (const [i, im] of images.entries()) {
      if (!(im.width > 0 && im.height > 0 && im.pixels.length === im.width * im.height)) {
        return Promise.reject(failed(`image ${i}: ${im.width} x ${im.height} does not match its ${im.pixels.length} pixels`));
      }
    }
    const all = images.map((image) => new Promise<EmbeddingResult>((resolve, reject) => this.queue.push({ image, resolve, reject })));
    // Dispatch after the current tick, so that calls made together share batches.
    if (!this.dispatchQueued) {
      this.dispatchQueued = true;
      queueMicrotask(() => {
        this.dispatchQueued = false;
        this.dispatch();
      });
    }
    return Promise.all(all);
  }

  crashNextBatchForTest(): void {
    // Worker 0 only: dispatch() serves workers without a batch first, in order, so the next batch goes to it.
    this.slots[0]?.worker?.postMessage({ id: this.nextId++, request: { op: 'crash-on-next-run' } } satisfies ThreadRequest<EmbedRequest>);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = failed('the embedder was closed');
    for (const p of this.queue.splice(0)) p.reject(err);
    for (const slot of this.slots) for (const p of slot.batches.splice(0).flatMap((b) => b.items)) p.reject(err);
    await Promise.all(
      this.slots.map(async (slot) => {
        await slot.worker?.terminate();
        delete slot.worker;
      }),
    );
  }
}

/**
 * Starts the workers (each loads and checks the model and runs a warm-up) and resolves when all are
 * ready. Rejects with MODEL_INVALID when the model folder does not honour its card.
 */
export async function createEmbedder(options: EmbedderOptions): Promise<WorkerEmbedder> {
  const workers = Math.max(1, Math.floor(options.workers ?? 1));
  const threads = Math.max(1, Math.floor(options.threads ?? availableParallelism() / workers));
  const pool = new Pool({ fallbackLevel: 'warn', ...options, workers, threads, batchSize: Math.max(1, Math.floor(options.batchSize)) });
  await pool.start();
  return pool;
}
