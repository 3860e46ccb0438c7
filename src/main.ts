// Process entry for `precedent serve` and `precedent worker`: load config, build, handle signals.
import { loadConfig } from './config/index.js';
import { createLogger, type Logger } from './shared/log.js';
import { describeError, isPrecedentError } from './shared/errors.js';
import { buildNode } from './node.js';
import { buildWorker } from './worker.js';
import type { Config } from './config/schema.js';

/** Loads config or exits with status 2 listing every problem with its path. */
export function loadConfigOrExit(file: string | undefined): Config {
  try {
    return loadConfig(file ? { file } : {});
  } catch (err) {
    if (isPrecedentError(err) && err.code === 'CONFIG_INVALID') {
      process.stderr.write(`precedent: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

interface Service {
  start(): Promise<unknown>;
  stop(): Promise<void>;
}

async function runService(file: string | undefined, build: (config: Config, log: Logger) => Service): Promise<void> {
  const config = loadConfigOrExit(file);
  const log = createLogger(config.log.level);
  let service: Service;
  try {
    service = build(config, log);
    await service.start();
  } catch (err) {
    log.fatal({ err: describeError(err) }, 'failed to start');
    process.exit(isPrecedentError(err) && err.code === 'CONFIG_INVALID' ? 2 : 1);
  }
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    service.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err: describeError(err) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

export const serve = (file: string | undefined): Promise<void> => runService(file, buildNode);
export const work = (file: string | undefined): Promise<void> => runService(file, buildWorker);
