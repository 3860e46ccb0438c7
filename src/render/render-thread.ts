// Entry of a result-drawing thread (pool.ts): decodes and draws in this thread, sends back bytes.
import { serveThreadRequests } from '../shared/thread-worker.js';
import { createImageDecoder, initCodecs } from '../decode/index.js';
import { renderResults, type RenderOutput, type RenderRequest } from './render.js';

/** The bytes in a buffer of their own, so that they can be moved rather than copied. */
function own(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

const decoder = createImageDecoder();
await serveThreadRequests<RenderRequest, RenderOutput>(
  async (request) => {
    const output = await renderResults(request, decoder);
    const objects = output.objects.map((r) => ({ ...r, bytes: own(r.bytes) }));
    return { value: { ...output, objects }, transfer: objects.map((r) => r.bytes.buffer as ArrayBuffer) };
  },
  { init: initCodecs },
);
