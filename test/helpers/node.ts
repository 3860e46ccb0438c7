// Starts a real node in this process: port 0, a fresh data dir, logs captured for assertions.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseConfig } from '../../src/config/index.js';
import type { Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/shared/log.js';
import { buildNode, type NodeOptions, type PrecedentNode } from '../../src/app/serve.js';

export interface TestNode {
  node: PrecedentNode;
  port: number;
  /** Set when dicomweb.enabled / ops.enabled. */
  dicomwebPort: number | undefined;
  opsPort: number | undefined;
  /** Set when reports.mllp.port is. */
  mllpPort: number | undefined;
  dataDir: string;
  config: Config;
  logs: string[];
  stop(): Promise<void>;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

export function tempDir(prefix = 'precedent-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function testConfig(overrides: DeepPartial<Config> = {}, dataDir = tempDir()): Config {
  return parseConfig({
    ...overrides,
    dimse: { port: 0, host: '127.0.0.1', ...overrides.dimse },
    storage: { dataDir, minFreeBytes: 0, ...overrides.storage },
    studies: { completeAfterSeconds: 1, checkIntervalSeconds: 0.2, ...overrides.studies },
    // Tests opt in to a model (testModelDir() or models/default); by default none, as on a bare install.
    model: { dir: join(dataDir, 'no-model'), ...overrides.model },
    log: { level: 'debug', ...overrides.log },
    // The starter reference archive too (400 cases to embed): only where a test asks for it.
    archive: { reference: false, ...overrides.archive },
    // Never the fixed default port: test nodes run side by side.
    ops: { port: 0, ...overrides.ops },
  });
}

export async function startTestNode(overrides: DeepPartial<Config> = {}, options: NodeOptions & { dataDir?: string } = {}): Promise<TestNode> {
  const config = testConfig(overrides, options.dataDir ?? tempDir());
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const log = createLogger(config.log.level, sink);
  const node = buildNode(config, log, options);
  const { dimsePort, dicomwebPort, opsPort, mllpPort } = await node.start();
  return { node, port: dimsePort, dicomwebPort, opsPort, mllpPort, dataDir: node.dataDir, config, logs, stop: () => node.stop(1000) };
}

/** Stops a node and returns everything it logged, for the no-patient-data-in-logs assertions. */
export async function stopAndCollectLogs(node: TestNode): Promise<string> {
  const logs = node.logs.join('\n');
  await node.stop();
  return logs;
}
