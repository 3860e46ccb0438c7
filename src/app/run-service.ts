// Runs a long-lived process (`precedent serve`, `precedent worker`): load config, build, start, stop on SIGTERM/SIGINT.
import { loadConfigOrExit } from '../config/index.js';
import { createLogger, type Logger } from '../shared/log.js';
import { describeError, isPrecedentError } from '../shared/errors.js';
import type { Config } from '../config/schema.js';

export interface Service {
  start(): Promise<unknown>;
  stop(): Promise<void>;
}

export async function runService(file: string | undefined, build: (config: Config, log: Logger) => Service): Promise<void> {
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
