// Entry of an embedding worker thread: owns one ONNX Runtime session, whose run() blocks this thread
// instead of the node's event loop. It runs one batch at a time, in the order they arrive (the pool
// posts the next while one runs, so that it is at hand the moment the first is done), and reports
// failures as replies (shared/thread-worker.ts); only a real crash ends the thread.
import { workerData } from 'node:worker_threads';
import { env } from 'onnxruntime-node';
import type { EmbeddingResult } from '../shared/analysis.js';
import { serveThreadRequests, type Answer } from '../shared/thread-worker.js';
import { embedBatch, emptyStageTimes, openModel, warmUp, type OpenedModel } from './session.js';
import type { EmbedReady, EmbedReply, EmbedRequest, WorkerInit } from './protocol.js';

const init = workerData as WorkerInit;
// A failed CUDA probe makes ONNX Runtime print a multi-line error on stderr through its process-wide
// logger (a session's logSeverityLevel does not cover it), although the same error reaches us as an
// exception that we log once. That logger's level is read once, when the process's first session is
// made, which is normally in a worker: set it to fatal-only in every worker, whichever device it uses,
// so that a later worker's probe stays quiet too. Runtime failures still surface as exceptions.
env.logLevel = 'fatal';

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

async function handle(request: EmbedRequest): Promise<Answer<EmbedReply>> {
  if (request.op === 'crash-on-next-run') {
    crashOnNextRun = true;
    return { value: null };
  }
  if (crashOnNextRun) {
    // Thrown outside the request's promise, so that it is uncaught and ends the thread (a failed
    // request would only be a reply).
    setImmediate(() => {
      throw new Error('injected worker crash (test hook)');
    });
    return new Promise(() => undefined);
  }
  if (!model) throw new Error('the worker has no session');
  const times = emptyStageTimes();
  const results = await embedBatch(
    model,
    request.images.map((im) => ({ ...im, notes: [] })),
    times,
  );
  return { value: { results, times }, transfer: transferList(results) };
}

await serveThreadRequests<EmbedRequest, EmbedReply, EmbedReady>(handle, {
  init: async () => {
    model = await openModel(init.modelDir, init.device, init.threads);
    await warmUp(model);
    const ready: EmbedReady = { device: model.device };
    if (model.fallbackReason !== undefined) ready.fallbackReason = model.fallbackReason;
    return ready;
  },
  uncoded: 'INFERENCE_FAILED',
  uncodedStartup: 'MODEL_INVALID',
});
