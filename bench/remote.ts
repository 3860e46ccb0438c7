// npm run bench, remote section (BENCH_ONLY=remote): images/s of the in-process pipeline against the
// node with 1 and 2 remote `precedent worker` processes (Redis, worker API over HTTP), and the bytes
// that move between node and worker per image: the stored instance as received (compressed), the
// vectors and attention maps back, next to what decoded float32 pixels would have cost.
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildFixtures, type Fixture, type FixtureSpec } from '../test/fixtures/build.js';
import { startTestNode, tempDir, type TestNode } from '../test/helpers/node.js';
import { startRedis } from '../test/helpers/redis.js';
import { remoteSetup, startWorkerProcess } from '../test/helpers/remote.js';
import type { PrecedentProcess } from '../test/helpers/process.js';
import { run } from '../test/helpers/tools.js';
import { printTable } from './table.js';

const STUDIES = Number(process.env.BENCH_REMOTE_STUDIES ?? 4);
const IMAGES = Number(process.env.BENCH_REMOTE_IMAGES ?? 4);
const SIZE = Number(process.env.BENCH_REMOTE_SIZE ?? 1024);
// From .bench-build/ the shipped rules are not two folders up (src/reports/rules.ts DEFAULT_RULES_FILE).
const reports = { rulesFile: resolve('config/report-rules.yaml') };

interface Outcome {
  label: string;
  imagesPerSecond: number;
  fetched?: number;
  returned?: number;
}

async function studies(round: number): Promise<Fixture[][]> {
  const specs = (s: number): FixtureSpec[] =>
    Array.from(
      { length: IMAGES },
      (_, i) =>
        ({
          variant: 'dx12',
          syntax: 'jpegls',
          imageIndex: round * 100 + s * IMAGES + i,
          studyInstanceUID: `2.25.${Date.now()}${round}${s}`,
          maxSize: SIZE,
        }) as FixtureSpec,
    );
  return Promise.all(Array.from({ length: STUDIES }, (_, s) => buildFixtures(specs(s), tempDir('precedent-bench-remote-'))));
}

/** Sends every study, then waits for all of them: images per second from first C-STORE to last done. */
async function throughput(node: TestNode, all: Fixture[][]): Promise<number> {
  const t0 = performance.now();
  for (const files of all) {
    const r = await run('dcmsend', ['-aet', 'BENCH', '-aec', 'PRECEDENT', '-nh', '127.0.0.1', String(node.port), ...files.map((f) => f.path)], {
      env: { ...process.env, TCP_NODELAY: '1' },
    });
    if (r.code !== 0) throw new Error(`dcmsend failed: ${r.stderr.slice(-300)}`);
  }
  const uids = all.map((f) => f[0]?.studyInstanceUID ?? '');
  const deadline = performance.now() + 600_000;
  while (!uids.every((u) => ['done', 'failed'].includes(node.node.catalog.study(u)?.state ?? ''))) {
    if (performance.now() > deadline) throw new Error('studies not analysed within 10 minutes');
    await new Promise((r) => setTimeout(r, 20));
  }
  const failed = uids.filter((u) => node.node.catalog.study(u)?.state === 'failed');
  if (failed.length > 0) throw new Error(`${failed.length} studies failed: ${node.node.catalog.study(failed[0] ?? '')?.reason ?? ''}`);
  return (STUDIES * IMAGES) / ((performance.now() - t0) / 1000);
}

/** fetchedBytes and resultBytes from the workers' "result handed to the node" log lines. */
function movedBytes(outputs: string[]): { fetched: number; returned: number } {
  let fetched = 0;
  let returned = 0;
  for (const line of outputs.join('\n').split('\n')) {
    if (!line.includes('result handed to the node')) continue;
    const entry = JSON.parse(line) as { fetchedBytes: number; resultBytes: number };
    fetched += entry.fetchedBytes;
    returned += entry.resultBytes;
  }
  return { fetched, returned };
}

async function remote(redisUrl: string, modelDir: string, workers: number, round: number): Promise<Outcome> {
  const setup = await remoteSetup({ redisUrl, modelDir, prefix: `bench${process.pid}w${workers}` });
  const node = await startTestNode({ ...setup.node, reports, studies: { completeAfterSeconds: 0.2, checkIntervalSeconds: 0.05 }, log: { level: 'warn' } });
  const procs: PrecedentProcess[] = [];
  try {
    const config = { ...setup.worker, log: { level: 'info' }, inference: { device: 'cpu', batchSize: IMAGES } };
    for (let i = 0; i < workers; i++) procs.push(startWorkerProcess(config));
    await Promise.all(procs.map((p) => p.ready));
    const imagesPerSecond = await throughput(node, await studies(round));
    const { fetched, returned } = movedBytes(procs.map((p) => p.output()));
    return {
      label: `remote, ${workers} worker${workers > 1 ? 's' : ''}`,
      imagesPerSecond,
      fetched: fetched / (STUDIES * IMAGES),
      returned: returned / (STUDIES * IMAGES),
    };
  } finally {
    for (const p of procs) p.child.kill('SIGTERM');
    await node.stop();
  }
}

export async function benchRemote(): Promise<void> {
  const modelDir = resolve('models/default');
  const redis = await startRedis();
  try {
    const local = await startTestNode({
      reports,
      model: { dir: modelDir },
      inference: { device: 'cpu', batchSize: IMAGES },
      studies: { completeAfterSeconds: 0.2, checkIntervalSeconds: 0.05 },
      log: { level: 'warn' },
    });
    let inProcess: number;
    try {
      inProcess = await throughput(local, await studies(0));
    } finally {
      await local.stop();
    }
    const rows: Outcome[] = [
      { label: 'in-process', imagesPerSecond: inProcess },
      await remote(redis.url, modelDir, 1, 1),
      await remote(redis.url, modelDir, 2, 2),
    ];
    const floats = SIZE * SIZE * 4;
    console.log(`\n## Remote workers — ${STUDIES} studies x ${IMAGES} images (${SIZE}-px JPEG-LS DX), default model, CPU, node and workers on this machine\n`);
    printTable(
      ['analysis', 'images/s', 'node → worker per image (KB)', 'worker → node per image (KB)', 'decoded float32 per image (KB, ≈, not sent)'],
      rows.map((r) => [
        r.label,
        r.imagesPerSecond.toFixed(2),
        r.fetched === undefined ? '—' : (r.fetched / 1024).toFixed(0),
        r.returned === undefined ? '—' : (r.returned / 1024).toFixed(0),
        (floats / 1024).toFixed(0),
      ]),
    );
  } finally {
    await redis.stop();
  }
}
