// A node with workers.inProcess off and its remote `precedent worker`s: in this process (buildWorker,
// logs captured) or as real processes (bin/precedent.js worker) that a test can kill.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/shared/log.js';
import { buildWorker, type PrecedentWorker } from '../../src/app/worker.js';
import { freePort, startPrecedent, type PrecedentProcess } from './process.js';
import { tempDir } from './node.js';

export const WORKER_TOKEN = 'test-worker-token-0123456789';

export interface RemoteSetup {
  /** Overrides for startTestNode. */
  node: Record<string, unknown>;
  /** What every worker of this node is configured with (plain JSON, as in a worker's config file). */
  worker: Record<string, unknown>;
  apiPort: number;
}

export async function remoteSetup(options: {
  redisUrl: string;
  modelDir: string;
  prefix: string;
  lockSeconds?: number;
  attempts?: number;
}): Promise<RemoteSetup> {
  const apiPort = await freePort();
  const queue = {
    redisUrl: options.redisUrl,
    prefix: options.prefix,
    lockSeconds: options.lockSeconds ?? 3,
    backoffSeconds: 0.2,
    ...(options.attempts ? { attempts: options.attempts } : {}),
  };
  const model = { dir: options.modelDir };
  const inference = { device: 'cpu' as const, batchSize: 1 };
  return {
    apiPort,
    node: {
      queue,
      model,
      inference,
      studies: { completeAfterSeconds: 0.3 },
      workers: { inProcess: false, token: WORKER_TOKEN, apiHost: '127.0.0.1', apiPort },
    },
    worker: {
      queue,
      model,
      inference,
      worker: { nodeUrl: `http://127.0.0.1:${apiPort}`, token: WORKER_TOKEN, fetchAttempts: 2, fetchBackoffSeconds: 0.1 },
      log: { level: 'debug' },
    },
  };
}

/** Merges `over` into the worker config, one level deep (sections). */
export function workerConfig(base: Record<string, unknown>, over: Record<string, Record<string, unknown>> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = { ...(base[k] as Record<string, unknown> | undefined), ...v };
  return out;
}

export interface LocalWorker {
  worker: PrecedentWorker;
  logs: string[];
}

export async function startLocalWorker(config: Record<string, unknown>): Promise<LocalWorker> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const parsed = parseConfig(config);
  const worker = buildWorker(parsed, createLogger(parsed.log.level, sink));
  await worker.start();
  return { worker, logs };
}

/** A real `precedent worker` process (needs `npm run build`). */
export function startWorkerProcess(config: Record<string, unknown>): PrecedentProcess {
  const file = join(tempDir('precedent-worker-conf-'), 'worker.json');
  writeFileSync(file, JSON.stringify(config));
  return startPrecedent('worker', file, 'Precedent worker started');
}
