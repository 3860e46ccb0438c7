// Entry of a decoding thread (pool.ts, pixel-pool.ts). Decoded images come back in shared memory
// (nothing to move); WADO-RS pixels in buffers of their own, moved rather than copied.
import type { TransferListItem } from 'node:worker_threads';
import { serveThreadRequests, type Answer } from '../shared/thread-worker.js';
import type { DecodedImage } from '../shared/analysis.js';
import { initCodecs } from './codecs.js';
import { createImageDecoder } from './decoder.js';
import { handlePixelJob, type PixelJob, type PixelJobResult } from './pixel-jobs.js';

const decoder = createImageDecoder();
await serveThreadRequests<string | PixelJob, DecodedImage | PixelJobResult>(
  async (request): Promise<Answer<DecodedImage | PixelJobResult>> => {
    if (typeof request === 'string') return { value: await decoder.decodeFile(request) };
    const value = await handlePixelJob(request);
    const buffers: TransferListItem[] =
      value instanceof Uint8Array ? [value.buffer as ArrayBuffer] : value.ok ? value.frames.map((f) => f.buffer as ArrayBuffer) : [];
    return { value, transfer: buffers };
  },
  { init: initCodecs },
);
