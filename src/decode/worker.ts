// Entry of a decoding thread (pool.ts). The pixels it returns are in shared memory: nothing to move.
import { serveThreadRequests } from '../shared/thread-worker.js';
import type { DecodedImage } from '../shared/analysis.js';
import { initCodecs } from './codecs.js';
import { createImageDecoder } from './decoder.js';

const decoder = createImageDecoder();
await serveThreadRequests<string, DecodedImage>(async (path) => ({ value: await decoder.decodeFile(path) }), initCodecs);
