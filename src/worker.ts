// Composition root for `precedent worker`: analysis workers alone, for GPU machines, against the same
// Redis and shared storage (data dir and catalog) as `precedent serve`.
import { mkdirSync } from 'node:fs';
import { PHI_DIR_MODE } from './shared/files.js';
import { join, resolve } from 'node:path';
import type { Config } from './config/schema.js';
import type { Logger } from './shared/log.js';
import { PrecedentError } from './shared/errors.js';
import { openCatalog, openFileStore } from './store/index.js';
import { checkRedis } from './queue/index.js';
import { createQueue, modelPresent, startAnalysis, type AnalysisRuntime } from './analysis.js';
import { createPromMetrics } from './ops/index.js';
import { createWorkerSurfaces } from './surfaces.js';

export interface PrecedentWorker {
  start(): Promise<void>;
  /** Finishes active jobs, then closes. */
  stop(): Promise<void>;
}

export function buildWorker(config: Config, log: Logger): PrecedentWorker {
  const redisUrl = config.queue.redisUrl;
  if (!redisUrl) throw new PrecedentError('CONFIG_INVALID', 'precedent worker needs queue.redisUrl (the in-process queue lives inside `precedent serve`)');
  if (!modelPresent(config)) throw new PrecedentError('MODEL_INVALID', `no model.onnx in model.dir (${resolve(config.model.dir)})`);
  const dataDir = resolve(config.storage.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: PHI_DIR_MODE });
  const files = openFileStore(dataDir);
  const catalog = openCatalog(join(dataDir, 'catalog.sqlite'));
  const queue = createQueue(config, log.child({ component: 'queue' }));
  let analysis: AnalysisRuntime | undefined;
  // Analysis metrics and /healthz, /readyz, /metrics on ops.workerPort (when set).
  const metrics = createPromMetrics({ process: 'worker' });
  const surfaces = createWorkerSurfaces(config, log, { metrics, catalog, files, queue, analysis: () => analysis });
  return {
    async start() {
      await checkRedis(redisUrl, log);
      analysis = await startAnalysis(config, log, { catalog, files, queue, now: Date.now, metrics });
      const opsPort = await surfaces.start();
      log.info({ dataDir, analysis: analysis.describe(), opsPort }, 'Precedent worker started');
    },
    async stop() {
      await surfaces.stop();
      await queue.close();
      await analysis?.close();
      catalog.close();
      log.info('Precedent worker stopped');
    },
  };
}
