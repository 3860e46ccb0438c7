// The operations API on its own port, read with fetch after known traffic: health, readiness (200
// and 503 with the failing checks named), Prometheus metrics values, study status, and
// `precedent status --json` reading the same facts from the catalog.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFixtures, newUid, type Fixture, type FixtureSpec } from './fixtures/build.js';
import { startTestNode, tempDir, type TestNode } from './helpers/node.js';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { run } from './helpers/tools.js';
import { fileParts, sample, stow } from './helpers/stow.js';
import type { StudyAnalysis } from '../src/jobs/index.js';
import type { NodeStatus, StudyStatus } from '../src/shared/node-status.js';
import { parseConfig } from '../src/config/index.js';
import { createLogger } from '../src/shared/log.js';
import { createInProcessQueue } from '../src/queue/index.js';
import { createPromMetrics } from '../src/ops/index.js';
import { createWorkerSurfaces } from '../src/app/surfaces.js';
import { waitFor } from './helpers/wait.js';

const TOKEN = 'ops-test-token-0123456789';
let dir: string;
let chest: Fixture[];
let lateral: Fixture;
let node: TestNode | undefined;
let redis: TestRedis | undefined;

const ops = (n: TestNode, path: string): Promise<Response> => fetch(`http://127.0.0.1:${n.opsPort}${path}`);

interface Readiness {
  ready: boolean;
  lifecycle: string;
  failing: string[];
  checks: Array<{ name: string; ok: boolean; detail: string }>;
}

beforeAll(async () => {
  dir = tempDir('precedent-ops-');
  const study = newUid();
  const series = newUid();
  chest = await buildFixtures(
    Array.from(
      { length: 4 },
      (_, i) => ({ variant: 'dx8', syntax: 'ele', imageIndex: 200 + i, maxSize: 64, studyInstanceUID: study, seriesInstanceUID: series }) as FixtureSpec,
    ),
    join(dir, 'chest'),
  );
  [lateral] = (await buildFixtures(
    [{ variant: 'dx8', syntax: 'ele', imageIndex: 210, maxSize: 64, studyInstanceUID: study, viewPosition: 'LL' }],
    join(dir, 'lateral'),
  )) as [Fixture];
});

afterEach(async () => {
  await node?.stop();
  node = undefined;
});
afterAll(async () => redis?.stop());

describe('operations API', () => {
  it('reports health, readiness, metrics and study status that match the traffic sent', async () => {
    const analyze: StudyAnalysis = async () => new Promise((r) => setTimeout(r, 50));
    node = await startTestNode(
      {
        studies: { completeAfterSeconds: 1, checkIntervalSeconds: 0.1 },
        dicomweb: { enabled: true, port: 0, host: '127.0.0.1', auth: { type: 'bearer', tokens: [TOKEN] } },
      },
      { analyze },
    );
    const n = node;
    expect(n.opsPort).toBeGreaterThan(0);
    const health = await ops(n, '/healthz');
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', lifecycle: 'running' });
    const ready = await ops(n, '/readyz');
    expect(ready.status).toBe(200);
    const readyJson = (await ready.json()) as Readiness;
    expect(readyJson.ready).toBe(true);
    expect(readyJson.checks.map((c) => c.name).sort()).toEqual(['catalog', 'disk', 'model', 'queue', 'reports']);
    expect(readyJson.checks.find((c) => c.name === 'model')?.detail).toMatch(/loaded: injected analysis/);

    // Known traffic: 4 frontal chest images from METRICSSCU, the same 4 again (duplicates), one
    // lateral view (ignored), and over STOW-RS one good part plus one garbage part (failed).
    const paths = chest.map((f) => f.path);
    const scu = ['-aet', 'METRICSSCU', '-aec', 'PRECEDENT', '127.0.0.1', String(n.port)];
    expect((await run('storescu', [...scu, ...paths.slice(0, 3)])).code).toBe(0);
    expect((await run('storescu', [...scu, ...paths.slice(0, 3)])).code).toBe(0);
    expect((await run('storescu', [...scu, lateral.path])).code).toBe(0);
    const web = await stow(`http://127.0.0.1:${n.dicomwebPort}/dicomweb/studies`, [...fileParts([paths[3] ?? '']), { bytes: Buffer.from('garbage') }], {
      token: TOKEN,
    });
    expect(web.status).toBe(202);

    const study = chest[0]?.studyInstanceUID ?? '';
    await waitFor(() => n.node.catalog.study(study)?.state === 'done', 10_000);

    const metrics = await (await ops(n, '/metrics')).text();
    const received = (calling_ae: string, protocol: string, outcome: string) =>
      sample(metrics, 'precedent_objects_received_total', { calling_ae, protocol, outcome });
    expect(received('METRICSSCU', 'dimse', 'stored')).toBe(3);
    expect(received('METRICSSCU', 'dimse', 'duplicate')).toBe(3);
    expect(received('METRICSSCU', 'dimse', 'ignored')).toBe(1);
    expect(received('STOW', 'dicomweb', 'stored')).toBe(1);
    expect(received('STOW', 'dicomweb', 'failed')).toBeUndefined(); // the garbage part never reached ingest
    // One completion per analysed round (a slow machine may split the traffic into two rounds).
    const rounds = n.node.catalog.study(study)?.generation ?? 0;
    expect(rounds).toBeGreaterThanOrEqual(1);
    expect(sample(metrics, 'precedent_studies_completed_total', { outcome: 'done' })).toBe(rounds);
    expect(sample(metrics, 'precedent_analysis_duration_seconds_count')).toBe(rounds);
    expect(sample(metrics, 'precedent_analysis_duration_seconds_sum')).toBeGreaterThan(0.04);
    expect(sample(metrics, 'precedent_queue_depth')).toBe(0);
    expect(sample(metrics, 'precedent_disk_free_bytes')).toBeGreaterThan(0);
    expect(sample(metrics, 'precedent_studies', { state: 'done' })).toBe(1);
    expect(sample(metrics, 'precedent_process_cpu_user_seconds_total')).toBeGreaterThan(0);

    const status = await ops(n, `/studies/${study}`);
    expect(status.status).toBe(200);
    const s = (await status.json()) as StudyStatus;
    expect(s).toMatchObject({ StudyInstanceUID: study, state: 'done', reason: null, embeddings: 0 });
    expect(s.instances).toMatchObject({ received: 5, accepted: 4, ignored: 1, byCallingAETitle: { METRICSSCU: 4, STOW: 1 } });
    expect(s.ignored).toEqual([{ reason: 'View Position LL is not frontal (PA/AP)', count: 1 }]);
    expect(s.exports.byState).toEqual({ pending: 0, sent: 0, failed: 0 });
    expect((await ops(n, `/studies/${newUid()}`)).status).toBe(404);
    expect((await ops(n, '/studies/not-a-uid')).status).toBe(400);

    // The CLI reads the same facts from the catalog, while the node runs.
    const config = join(dir, 'status.yaml');
    writeFileSync(config, `storage:\n  dataDir: ${n.dataDir}\n`);
    const one = await run('node', ['bin/precedent.js', 'status', '--config', config, '--study', study, '--json']);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toEqual(s);
    const all = await run('node', ['bin/precedent.js', 'status', '--config', config, '--json']);
    expect(all.code).toBe(0);
    const summary = JSON.parse(all.stdout) as NodeStatus;
    expect(summary.instances).toEqual({ received: 5, accepted: 4, ignored: 1 });
    expect(summary.studies.done).toBe(1);
    expect(summary.recentStudies.map((r) => r.StudyInstanceUID)).toEqual([study]);
    const text = await run('node', ['bin/precedent.js', 'status', '--config', config, '--study', study]);
    expect(text.stdout).toContain('state:       done');
    expect(text.stdout).toContain('1 × View Position LL is not frontal (PA/AP)');
    const unknown = await run('node', ['bin/precedent.js', 'status', '--config', config, '--study', '1.2.3.4']);
    expect(unknown.code).toBe(1);
  });

  it('is not ready (503) below the free-disk watermark, naming the disk check', async () => {
    node = await startTestNode({ storage: { minFreeBytes: Number.MAX_SAFE_INTEGER } });
    const ready = await ops(node, '/readyz');
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as Readiness;
    expect(body.failing).toEqual(['disk']);
    expect(body.checks.find((c) => c.name === 'disk')?.detail).toMatch(/objects are refused/);
    expect(body.checks.find((c) => c.name === 'model')?.ok).toBe(true);
    expect((await ops(node, '/healthz')).status).toBe(200);
  });

  it('is not ready (503) while Redis is down, and ready again when it is back', async () => {
    redis = await startRedis();
    const r = redis;
    node = await startTestNode({ queue: { redisUrl: r.url, prefix: `ops${process.pid}` }, ops: { readinessTimeoutSeconds: 0.5 } });
    expect((await ops(node, '/readyz')).status).toBe(200);
    await r.stop();
    const down = await ops(node, '/readyz');
    expect(down.status).toBe(503);
    const body = (await down.json()) as Readiness;
    expect(body.failing).toContain('queue');
    expect(body.failing).not.toContain('disk');
    await r.restart();
    const n = node;
    await waitFor(async () => (await ops(n, '/readyz')).status === 200, 15_000);
    expect((await ops(n, '/readyz')).status).toBe(200);
  });

  it('answers 503 (lifecycle stopping) once shutdown has begun', async () => {
    node = await startTestNode();
    const n = node;
    const stopping = n.stop();
    node = undefined;
    const during = await ops(n, '/readyz').catch(() => undefined);
    // Either the stopping answer or the port already closed: never "ready".
    expect(during === undefined || during.status === 503).toBe(true);
    await stopping;
  });

  it('`precedent worker` serves health, readiness (model loaded) and its own metrics on ops.workerPort, with no catalog', async () => {
    const config = parseConfig({ ops: { workerPort: 0 } });
    const log = createLogger('silent');
    const queue = createInProcessQueue({ attempts: 1, backoffSeconds: 1, concurrency: 1, log });
    const metrics = createPromMetrics({ process: 'worker' });
    const state: { analysis?: { describe(): string } } = {};
    const surfaces = createWorkerSurfaces(config, log, { metrics, queue, analysis: () => state.analysis });
    const port = await surfaces.start();
    expect(port).toBeGreaterThan(0);
    const get = (path: string) => fetch(`http://127.0.0.1:${port ?? 0}${path}`);
    expect((await get('/healthz')).status).toBe(200);
    const before = (await (await get('/readyz')).json()) as Readiness;
    expect(before.failing).toEqual(['model']);
    state.analysis = { describe: () => 'test-model@1 on cpu' };
    const after = await get('/readyz');
    expect(after.status).toBe(200);
    expect(((await after.json()) as Readiness).checks.find((c) => c.name === 'model')?.detail).toBe('loaded: test-model@1 on cpu');
    metrics.studyCompleted('done');
    const text = await (await get('/metrics')).text();
    expect(sample(text, 'precedent_studies_completed_total', { outcome: 'done', process: 'worker' })).toBe(1);
    expect((await get('/studies/1.2.3')).status).toBe(404);
    await surfaces.stop();
    await queue.close();
  });
});
