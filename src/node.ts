// The composition root: the only module that knows every capability. Everything is built from the
// config passed in; nothing reads globals.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from './config/schema.js';
import type { Logger } from './shared/log.js';
import type { AnalyzeStudyHandler, IngestOutcome } from './shared/types.js';
import type { Catalog } from './shared/catalog.js';
import { openCatalog, openFileStore } from './store/index.js';
import { createIngest } from './ingest/index.js';
import { createDimseServer } from './dimse/server.js';
import { createInProcessQueue } from './queue/index.js';
import { createStudyScheduler, studyJobHandler } from './jobs/index.js';

export interface NodeOptions {
  /** The analysis of one study (the pipeline of a later issue); when absent, complete studies wait queued. */
  analyze?: AnalyzeStudyHandler;
  now?: () => number;
  onStored?: (outcome: IngestOutcome) => void;
}

export interface PrecedentNode {
  readonly catalog: Catalog;
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
  const queue = createInProcessQueue({ concurrency: 1, log: log.child({ component: 'queue' }) });
  const scheduler = createStudyScheduler({ catalog, queue, studies: config.studies, log: log.child({ component: 'studies' }), now });
  if (options.analyze) {
    queue.process(studyJobHandler({ catalog, log: log.child({ component: 'worker' }), analyze: options.analyze, now }));
  }

  return {
    catalog,
    dataDir,
    async start() {
      const swept = files.sweepTemp();
      if (swept > 0) log.warn({ swept }, 'removed partial transfers left by a previous run (none was acknowledged)');
      if (!options.analyze) log.warn('no analysis pipeline in this build: complete studies are queued and wait for it');
      const { requeued } = await scheduler.start();
      const dimsePort = await dimse.listen();
      log.info({ dataDir, dimsePort, instances: catalog.instanceCount() }, 'Precedent node started');
      return { dimsePort, requeued };
    },
    async stop(graceMs = 5000) {
      await dimse.close(graceMs);
      scheduler.stop();
      await queue.close();
      catalog.close();
      log.info('Precedent node stopped');
    },
    checkStudies: () => scheduler.tick(),
  };
}
