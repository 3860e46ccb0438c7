// The embedder's options from the config, in one place for `serve`, `worker` and the archive commands.
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from '../shared/log.js';
import type { EmbedderOptions } from './embedder.js';

/** The embedder as config.model and config.inference describe it (node and remote worker alike). */
export function embedderOptions(config: Config, log: Logger): EmbedderOptions {
  return {
    modelDir: resolve(config.model.dir),
    device: config.inference.device,
    ...(config.inference.threads > 0 ? { threads: config.inference.threads } : {}),
    batchSize: config.inference.batchSize,
    workers: config.inference.workerThreads,
    log: log.child({ component: 'embed' }),
  };
}
