// Process entry for `precedent serve`: load config, build the node, handle signals. Nothing else.
import { loadConfig } from './config/index.js';
import { createLogger } from './shared/log.js';
import { isPrecedentError } from './shared/errors.js';
import { buildNode } from './node.js';
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

export async function serve(file: string | undefined): Promise<void> {
  const config = loadConfigOrExit(file);
  const log = createLogger(config.log.level);
  const node = buildNode(config, log);
  try {
    await node.start();
  } catch (err) {
    log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'node failed to start');
    process.exit(1);
  }
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    node.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err: err instanceof Error ? err.message : String(err) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
