// The WADO-RS pixel jobs a decoding thread answers (decode-thread.ts), and the PixelService that sends
// them there (shared/pixels.ts). The threads start on the first request: a node whose DICOMweb
// callers never ask for pixels keeps no codecs loaded for them.
import type { Logger } from '../shared/log.js';
import type { FrameAnswer, FrameRequest, PixelService, RenderRequest } from '../shared/pixels.js';
import { createThreadPool, type ThreadPool } from '../shared/thread-pool.js';
import { workerScriptUrl } from '../shared/worker-url.js';
import { readFrames, transcodeFile } from './pixels.js';
import { renderFile } from './rendered.js';

export type PixelJob = ({ op: 'frames' } & FrameRequest) | { op: 'transcode'; path: string; transferSyntaxUID: string } | ({ op: 'render' } & RenderRequest);
export type PixelJobResult = FrameAnswer | Uint8Array;

export async function handlePixelJob(job: PixelJob): Promise<PixelJobResult> {
  switch (job.op) {
    case 'frames':
      return readFrames(job);
    case 'transcode':
      return transcodeFile(job.path, job.transferSyntaxUID);
    case 'render':
      return renderFile(job);
  }
}

export interface PixelPool extends PixelService {
  close(): Promise<void>;
}

export function createPixelPool(options: { threads: number; log: Logger }): PixelPool {
  let pool: ThreadPool<PixelJob, PixelJobResult> | undefined;
  const run = (job: PixelJob): Promise<PixelJobResult> => {
    pool ??= createThreadPool<PixelJob, PixelJobResult>({ script: workerScriptUrl(import.meta.url, 'decode'), name: 'pixels', ...options });
    return pool.run(job);
  };
  return {
    frames: async (request) => (await run({ op: 'frames', ...request })) as FrameAnswer,
    transcode: async (path, transferSyntaxUID) => (await run({ op: 'transcode', path, transferSyntaxUID })) as Uint8Array,
    render: async (request) => (await run({ op: 'render', ...request })) as Uint8Array,
    close: async () => {
      await pool?.close();
    },
  };
}
