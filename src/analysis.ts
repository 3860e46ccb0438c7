// Assembles the analysis side (decode -> embed -> catalog) for both composition roots: `serve`
// (in-process workers) and `worker` (a separate machine sharing Redis and storage).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from './config/schema.js';
import type { Logger } from './shared/log.js';
import type { Catalog } from './shared/catalog.js';
import type { FileStore } from './shared/files.js';
import type { JobQueue } from './shared/types.js';
import { createStudyAnalysis, studyJobHandler, type StudyAnalysis } from './jobs/index.js';
import { createBullQueue, createInProcessQueue } from './queue/index.js';

export interface AnalysisRuntime {
  /** Model name@version and device, for readiness reporting. */
  describe(): string;
  close(): Promise<void>;
}

export function createQueue(config: Config, log: Logger): JobQueue {
  const retry = { attempts: config.queue.attempts, backoffSeconds: config.queue.backoffSeconds };
  if (config.queue.redisUrl) {
    return createBullQueue({ ...retry, redisUrl: config.queue.redisUrl, prefix: config.queue.prefix, concurrency: config.workers.concurrency, lockSeconds: config.queue.lockSeconds, log });
  }
  return createInProcessQueue({ ...retry, concurrency: config.workers.concurrency, log });
}

export function modelPresent(config: Config): boolean {
  return existsSync(join(resolve(config.model.dir), 'model.onnx'));
}

/**
 * Registers the study worker on `queue`. With `analyze` given (tests), that function is the work;
 * otherwise the real pipeline is built from config.model and config.inference.
 */
export async function startAnalysis(
  config: Config,
  log: Logger,
  deps: { catalog: Catalog; files: FileStore; queue: JobQueue; now: () => number; analyze?: StudyAnalysis },
): Promise<AnalysisRuntime> {
  let analyze = deps.analyze;
  let close = async (): Promise<void> => undefined;
  let description = 'injected analysis';
  if (!analyze) {
    // Loaded only when a model is used: a node without one never pays for ONNX Runtime and codecs.
    const [{ createImageDecoder }, { createEmbedder }] = await Promise.all([import('./decode/index.js'), import('./embed/index.js')]);
    const embedder = await createEmbedder({
      modelDir: resolve(config.model.dir),
      device: config.inference.device,
      ...(config.inference.threads > 0 ? { threads: config.inference.threads } : {}),
      batchSize: config.inference.batchSize,
      workers: config.inference.workerThreads,
      log: log.child({ component: 'embed' }),
    });
    analyze = createStudyAnalysis({ catalog: deps.catalog, decoder: createImageDecoder(), embedder, resolvePath: (p) => deps.files.absolute(p), now: deps.now });
    close = () => embedder.close();
    description = `${embedder.card.name}@${embedder.card.version} on ${embedder.device}`;
  }
  deps.queue.process(studyJobHandler({ catalog: deps.catalog, log: log.child({ component: 'worker' }), analyze, now: deps.now }));
  log.info({ analysis: description, queue: deps.queue.backend, concurrency: config.workers.concurrency }, 'analysis workers started');
  return { describe: () => description, close };
}
