// The decoder the node's analysis uses: the same ImageDecoder, on worker threads. Decoding is CPU-bound
// WebAssembly and JavaScript (a 2,500 x 2,600 radiograph on one core here: about 0.2 s uncompressed,
// 0.3 s JPEG-LS, 1.2 s JPEG 2000); on the main thread it would stop DIMSE and STOW-RS from being
// answered for that long. The pixels come back in shared memory, so nothing is copied.
import type { DecodedImage, ImageDecoder } from '../shared/analysis.js';
import type { Logger } from '../shared/log.js';
import { createThreadPool } from '../shared/thread-pool.js';
import { workerScriptUrl } from '../shared/worker-url.js';

export interface DecoderPool extends ImageDecoder {
  readonly threads: number;
  close(): Promise<void>;
}

export function createDecoderPool(options: { threads: number; log: Logger }): DecoderPool {
  const pool = createThreadPool<string, DecodedImage>({ script: workerScriptUrl(import.meta.url, 'decode'), name: 'decode', ...options });
  return {
    threads: pool.threads,
    decodeFile: (path) => pool.run(path),
    close: () => pool.close(),
  };
}
