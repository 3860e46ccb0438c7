// The composition root: the only module that knows every capability. Everything is built from the
// config passed in; nothing reads globals.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from './config/schema.js';
import type { Logger } from './shared/log.js';
import type { IngestOutcome, JobQueue } from './shared/types.js';
import type { Catalog } from './shared/catalog.js';
import { openCatalog, openFileStore } from './store/index.js';
import { createIngest } from './ingest/index.js';
import { createDimseServer } from './dimse/server.js';
import { checkRedis } from './queue/index.js';
import { createStudyScheduler, type StudyAnalysis } from './jobs/index.js';
import { createQueue, modelPresent, startAnalysis, type AnalysisRuntime } from './analysis.js';

export interface NodeOptions {
  /** Replaces the decode/embed pipeline (tests); otherwise it is built from config.model. */
  analyze?: StudyAnalysis;
  now?: () => number;
  onStored?: (outcome: IngestOutcome) => void;
}

export interface PrecedentNode {
  readonly catalog: Catalog;
  readonly queue: JobQueue;
  readonly dataDir: string;
  start(): Promise<{ dimsePort: number; requeued: number }>;
  /** Graceful: stop accepting, let open associations finish (up to graceMs), finish running jobs. */
  stop(graceMs?: number): Promise<void>;
  /** For tests: check for complete studies now instead of waiting for the next pass. */
  checkStudies(): Promise<number>;
}

export function buildNode(config: Config, log: Logger, options: NodeOptions = {}): PrecedentNode {
  const now = options.now ?? Date.now;
  const dataDir = resolve(config.storage.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const files = openFileStore(dataDir);
  const catalog = openCatalog(join(dataDir, 'catalog.sqlite'));
  const ingest = createIngest({ catalog, files, storage: config.storage, now });
  const dimse = createDimseServer({
    config: config.dimse,
    aeTitles: [config.dimse.aeTitle],
    ingest,
    log: log.child({ component: 'dimse' }),
    ...(options.onStored ? { onStored: options.onStored } : {}),
  });
  const queue = createQueue(config, log.child({ component: 'queue' }));
  const scheduler = createStudyScheduler({ catalog, queue, studies: config.studies, log: log.child({ component: 'studies' }), now });
  let analysis: AnalysisRuntime | undefined;

  return {
    catalog,
    queue,
    dataDir,
    async start() {
      const swept = files.sweepTemp();
      if (swept > 0) log.warn({ swept }, 'removed partial transfers left by a previous run (none was acknowledged)');
      if (config.queue.redisUrl) await checkRedis(config.queue.redisUrl, log);
      if (!config.workers.inProcess) {
        log.info('workers.inProcess is off: complete studies are queued for `precedent worker` processes');
      } else if (options.analyze || modelPresent(config)) {
        analysis = await startAnalysis(config, log, { catalog, files, queue, now, ...(options.analyze ? { analyze: options.analyze } : {}) });
      } else {
        log.warn({ modelDir: config.model.dir }, 'no model at model.dir: complete studies are queued and wait until a model is installed');
      }
      const { requeued } = await scheduler.start();
      const dimsePort = await dimse.listen();
      log.info({ dataDir, dimsePort, instances: catalog.instanceCount() }, 'Precedent node started');
      return { dimsePort, requeued };
    },
    async stop(graceMs = 5000) {
      await dimse.close(graceMs);
      scheduler.stop();
      await queue.close();
      await analysis?.close();
      catalog.close();
      log.info('Precedent node stopped');
    },
    checkStudies: () => scheduler.tick(),
  };
}
