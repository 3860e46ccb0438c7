// Same-host workers without configuration. A node whose workers.token is unset still serves its
// worker API, on loopback only, with a token it generates at each start; it writes where and how to
// reach it into this file (0600) under its data directory. A `precedent worker` started with the same
// configuration file and no worker.nodeUrl / worker.token reads it there before each request, so a
// restarted node's new port and token are picked up. That one small file is all such a worker reads of
// the node's data directory; a worker on another machine is configured with worker.nodeUrl and
// worker.token instead and reads nothing of the node's.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrecedentError } from '../shared/errors.js';

export const LOCAL_ENDPOINT_FILE = 'worker-api.json';

export interface WorkerEndpoint {
  nodeUrl: string;
  token: string;
}

export function writeLocalEndpoint(dataDir: string, endpoint: WorkerEndpoint): void {
  const file = join(dataDir, LOCAL_ENDPOINT_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(endpoint), { mode: 0o600 });
  renameSync(temp, file);
}

export function readLocalEndpoint(dataDir: string): WorkerEndpoint {
  const file = join(dataDir, LOCAL_ENDPOINT_FILE);
  let parsed: Partial<WorkerEndpoint>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<WorkerEndpoint>;
  } catch (cause) {
    throw new PrecedentError(
      'NODE_UNREACHABLE',
      `no worker.nodeUrl/worker.token configured and the node's local worker API file (${file}) cannot be read: is \`precedent serve\` running on this machine with the same storage.dataDir?`,
      { cause },
    );
  }
  if (typeof parsed.nodeUrl !== 'string' || typeof parsed.token !== 'string')
    throw new PrecedentError('NODE_UNREACHABLE', `${file} is not a worker API endpoint`);
  return { nodeUrl: parsed.nodeUrl, token: parsed.token };
}
