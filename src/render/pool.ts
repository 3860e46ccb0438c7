// Result objects drawn on worker threads, so that the event loop answering associations never waits
// for a heatmap or a page of thumbnails (measured on one core here: decoding and drawing the results
// for one 2,500 x 2,600 radiograph held it up for 0.5 s, plus 1.1 s to decode it from JPEG 2000).
import type { Logger } from '../shared/log.js';
import { createThreadPool } from '../shared/thread-pool.js';
import { workerScriptUrl } from '../shared/worker-url.js';
import type { RenderOutput, RenderRequest } from './render.js';

export interface ResultRenderer {
  render(request: RenderRequest): Promise<RenderOutput>;
  close(): Promise<void>;
}

export function createResultRenderer(options: { threads: number; log: Logger }): ResultRenderer {
  const pool = createThreadPool<RenderRequest, RenderOutput>({ script: workerScriptUrl(import.meta.url, 'render'), name: 'render', ...options });
  return { render: (request) => pool.run(request), close: () => pool.close() };
}
