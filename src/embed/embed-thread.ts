// Entry of an embedding worker thread: owns one ONNX Runtime session, whose run() blocks this thread
// instead of the node's event loop. It runs one batch at a time, in the order they arrive (the pool
// posts the next while one runs, so that it is at hand the moment the first is done), and reports
// failures as messages; only a real crash ends the thread.
import { parentPort, workerData } from 'node:worker_threads';
import { env } from 'onnxruntime-node';
import { isPrecedentError, type ErrorCode } from '../shared/errors.js';
import type { EmbeddingResult } from '../shared/analysis.js';
import { embedBatch, emptyStageTimes, openModel, warmUp, type OpenedModel } from './session.js';
import type { FromWorker, ToWorker, WireImage, WorkerInit } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('embed/embed-thread.js runs only as a worker thread');
const init = workerData as WorkerInit;
// A failed CUDA probe makes ONNX Runtime print a multi-line error on stderr through its process-wide
// logger (a session's logSeverityLevel does not cover it), although the same error reaches us as an
// exception that we log once. That logger's level is read once, when the process's first session is
// made, which is normally in a worker: set it to fatal-only in every worker, whichever device it uses,
// so that a later worker's probe stays quiet too. Runtime failures still surface as exceptions.
env.logLevel = 'fatal';

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(msg, transfer);
}

function codeOf(err: unknown, fallback: ErrorCode): { code: ErrorCode; message: string; details: string[] } {
  if (isPrecedentError(err)) return { code: err.code, message: err.message, details: [...err.details] };
  return { code: fallback, message: err instanceof Error ? err.message : String(err), details: [] };
}

/** The result buffers go back by transfer: each was allocated for this one result. */
function transferList(results: EmbeddingResult[]): ArrayBuffer[] {
  const list: ArrayBuffer[] = [];
  for (const r of results) {
    list.push(r.vector.buffer as ArrayBuffer);
    if (r.attention) list.push(r.attention.data.buffer as ArrayBuffer);
  }
  return list;
}

let model: OpenedModel | undefined;
let crashOnNextRun = false;
// Runs are chained so that images of the next batch, arriving mid-run, wait their turn.
let chain: Promise<void> = Promise.resolve();

async function run(id: number, images: WireImage[]): Promise<void> {
  try {
    if (!model) throw new Error('the worker has no session');
    const times = emptyStageTimes();
    const results = await embedBatch(
      model,
      images.map((im) => ({ ...im, notes: [] })),
      times,
    );
    post({ type: 'result', id, results, times }, transferList(results));
  } catch (err) {
    const { code, message } = codeOf(err, 'INFERENCE_FAILED');
    post({ type: 'failed', id, code, message });
  }
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'crash-on-next-run') {
    crashOnNextRun = true;
  } else {
    if (crashOnNextRun) throw new Error('injected worker crash (test hook)');
    chain = chain.then(() => run(msg.id, msg.images));
  }
});

try {
  model = await openModel(init.modelDir, init.device, init.threads);
  await warmUp(model);
  const ready: FromWorker = { type: 'ready', device: model.device };
  if (model.fallbackReason !== undefined) ready.fallbackReason = model.fallbackReason;
  post(ready);
} catch (err) {
  post({ type: 'startup-failed', ...codeOf(err, 'MODEL_INVALID') });
}
