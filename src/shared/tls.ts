// PEM files named in the configuration, read when a listener or connection is set up. A missing or
// unreadable file is a configuration error that names the key.
import { readFileSync } from 'node:fs';
import { PrecedentError } from './errors.js';

export interface TlsFiles {
  key?: string | undefined;
  cert?: string | undefined;
  ca?: string | undefined;
}

export interface TlsMaterial {
  key?: Buffer;
  cert?: Buffer;
  ca?: Buffer;
}

export function readTlsFiles(files: TlsFiles, where = 'tls'): TlsMaterial {
  const out: TlsMaterial = {};
  for (const name of ['key', 'cert', 'ca'] as const) {
    const file = files[name];
    if (file === undefined) continue;
    try {
      out[name] = readFileSync(file);
    } catch (cause) {
      throw new PrecedentError('CONFIG_INVALID', `${where}.${name}: cannot read ${file}`, { cause, details: [`${where}.${name}: cannot read ${file}`] });
    }
  }
  return out;
}
