// For commands: a configuration error ends the process with status 2 and every problem listed.
import { isPrecedentError } from '../shared/errors.js';
import { loadConfig } from './load.js';
import type { Config } from './schema.js';

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
