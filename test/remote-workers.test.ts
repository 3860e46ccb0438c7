// Remote analysis workers (workers.inProcess off): the worker API's authentication and scope, and the
// failure semantics of issue 17: a node the worker cannot reach, a worker on another model version,
// results delivered twice or for a stale round, Redis restarted, and a node restarted while a worker
// holds a job.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { buildFixtures, type Fixture, type FixtureSpec } from './fixtures/build.js';
import { startTestNode, tempDir, type TestNode } from './helpers/node.js';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { editedModel, readCard, testModelDir } from './helpers/model-fixture.js';
import { remoteSetup, startLocalWorker, workerConfig, WORKER_TOKEN, type LocalWorker } from './helpers/remote.js';
import { freePort } from './helpers/process.js';
import { run } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';
import { sample } from './helpers/stow.js';
import { QUEUE_NAME, RESULTS_QUEUE_NAME } from '../src/queue/index.js';
import { encodeAttention, encodeFloats, WORKER_API, type StudyResult } from '../src/shared/remote-analysis.js';

let modelDir: string;
let redis: TestRedis;
let node: TestNode | undefined;
const workers: LocalWorker[] = [];
let seq = 0;

beforeAll(async () => {
  modelDir = testModelDir();
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  for (const w of workers.splice(0)) await w.worker.stop();
  await node?.stop();
  node = undefined;
});

async function study(n: number, base: number): Promise<Fixture[]> {
  const uid = `2.25.${Date.now()}${base}`;
  const specs = Array.from(
    { length: n },
    (_, i) => ({ variant: 'dx12', syntax: i % 2 ? 'jpegls' : 'ele', imageIndex: base + i, studyInstanceUID: uid, maxSize: 256 }) as FixtureSpec,
  );
  return buildFixtures(specs, tempDir('precedent-remote-'));
}

async function send(port: number, files: Fixture[]): Promise<void> {
  const r = await run('dcmsend', ['-aet', 'REMOTE', '-aec', 'PRECEDENT', '-nh', '127.0.0.1', String(port), ...files.map((f) => f.path)], {
    env: { ...process.env, TCP_NODELAY: '1' },
  });
  expect(r.code).toBe(0);
}

const prefix = (): string => `remote${process.pid}x${++seq}`;
const uidOf = (files: Fixture[]): string => files[0]?.studyInstanceUID ?? '';

describe('remote analysis workers', () => {
  it('worker API: bearer token required, instances only under their own study, stored bytes as received', async () => {
    const setup = await remoteSetup({ redisUrl: redis.url, modelDir, prefix: prefix() });
    node = await startTestNode(setup.node);
    const [a, b] = [await study(2, 100), await study(1, 110)];
    await send(node.port, [...a, ...b]);
    const n = node;
    await waitFor(() => n.node.catalog.study(uidOf(a))?.state === 'queued' && n.node.catalog.study(uidOf(b))?.state === 'queued', 20_000);
    const base = `http://127.0.0.1:${setup.apiPort}`;
    const sop = a[0]?.sopInstanceUID ?? '';
    const claim = WORKER_API.claim(uidOf(a), 1);
    expect((await fetch(`${base}${claim}`, { method: 'POST' })).status).toBe(401);
    const wrong = await fetch(`${base}${claim}`, { method: 'POST', headers: { authorization: 'Bearer not-the-worker-token-at-all' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer/);
    // Refused requests reach no route: the round is still unclaimed.
    expect(n.node.catalog.study(uidOf(a))?.state).toBe('queued');
    const auth = { authorization: `Bearer ${WORKER_TOKEN}` };
    const manifest = (await (await fetch(`${base}${claim}`, { method: 'POST', headers: auth })).json()) as {
      model: { name: string; version: string };
      instances: Array<{ SOPInstanceUID: string }>;
    };
    const card = readCard(modelDir);
    expect(manifest.model).toEqual({ name: card.name, version: card.version });
    expect(manifest.instances.map((i) => i.SOPInstanceUID).sort()).toEqual(a.map((f) => f.sopInstanceUID).sort());
    expect(n.node.catalog.study(uidOf(a))?.state).toBe('decoding');
    // A stale generation has nothing to claim.
    expect((await fetch(`${base}${WORKER_API.claim(uidOf(a), 2)}`, { method: 'POST', headers: auth })).status).toBe(409);
    // Study A's instance under study B's path: not found, even with the token.
    expect((await fetch(`${base}${WORKER_API.instance(uidOf(b), sop, 1)}`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${base}${WORKER_API.instance(uidOf(a), sop, 1)}`)).status).toBe(401);
    const got = await fetch(`${base}${WORKER_API.instance(uidOf(a), sop, 1)}`, { headers: auth });
    expect(got.status).toBe(200);
    const stored = n.node.catalog.instanceVersions(sop)[0]?.path ?? '';
    expect(Buffer.from(await got.arrayBuffer()).equals(readFileSync(join(n.dataDir, stored)))).toBe(true);
  });

  it("without tokens, a worker on the node's machine finds the loopback worker API through dataDir/worker-api.json", async () => {
    const setup = await remoteSetup({ redisUrl: redis.url, modelDir, prefix: prefix() });
    const nodeWorkers = { inProcess: false, apiHost: '0.0.0.0', apiPort: setup.apiPort };
    node = await startTestNode({ ...setup.node, workers: nodeWorkers });
    const n = node;
    // The generated endpoint: loopback only, a port of its own (not the configured one), a private file.
    const file = join(n.dataDir, 'worker-api.json');
    const endpoint = JSON.parse(readFileSync(file, 'utf8')) as { nodeUrl: string; token: string };
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(endpoint.nodeUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(endpoint.nodeUrl).not.toBe(`http://127.0.0.1:${setup.apiPort}`);
    expect(endpoint.token.length).toBeGreaterThanOrEqual(32);
    // The worker shares the node's configuration: no worker.nodeUrl, no tokens.
    const shared = Object.fromEntries(Object.entries(setup.worker).filter(([section]) => section !== 'worker'));
    workers.push(await startLocalWorker({ ...shared, storage: { dataDir: n.dataDir } }));
    const files = await study(2, 120);
    await send(n.port, files);
    await waitFor(() => n.node.catalog.study(uidOf(files))?.state === 'done', 60_000);
    expect(n.node.catalog.embeddings(uidOf(files)).length).toBe(2);
    // Only one of the two is given: refused at start, with the reason.
    await expect(startLocalWorker({ ...shared, worker: { nodeUrl: endpoint.nodeUrl } })).rejects.toThrow(/both worker\.nodeUrl and worker\.token/);
  });

  it('a worker that cannot reach the node retries, then the study fails with NODE_UNREACHABLE', async () => {
    const setup = await remoteSetup({ redisUrl: redis.url, modelDir, prefix: prefix(), attempts: 2 });
    node = await startTestNode(setup.node);
    const closed = await freePort();
    workers.push(await startLocalWorker(workerConfig(setup.worker, { worker: { nodeUrl: `http://127.0.0.1:${closed}` } })));
    const files = await study(1, 200);
    await send(node.port, files);
    const n = node;
    await waitFor(() => n.node.catalog.study(uidOf(files))?.state === 'failed', 30_000);
    expect(n.node.catalog.study(uidOf(files))?.reason).toMatch(
      /^NODE_UNREACHABLE: cannot reach the node's worker API at http:\/\/127\.0\.0\.1:\d+ after 2 tries/,
    );
    const logs = workers[0]?.logs.join('\n') ?? '';
    expect(logs).toContain('node worker API not reachable; trying again');
    expect(logs).toContain('will retry');
    expect(n.logs.some((l) => l.includes('study analysis failed on a remote worker'))).toBe(true);
  });

  it('a worker on another model version refuses the job with MODEL_MISMATCH; nothing enters the index', async () => {
    const setup = await remoteSetup({ redisUrl: redis.url, modelDir, prefix: prefix() });
    node = await startTestNode(setup.node);
    const older = editedModel(modelDir, (card) => ({ ...card, version: `${card.version}-old` }));
    workers.push(await startLocalWorker(workerConfig(setup.worker, { model: { dir: older } })));
    const files = await study(1, 300);
    await send(node.port, files);
    const n = node;
    await waitFor(() => n.node.catalog.study(uidOf(files))?.state === 'failed', 30_000);
    const card = readCard(modelDir);
    const reason = n.node.catalog.study(uidOf(files))?.reason ?? '';
    expect(reason).toMatch(/^MODEL_MISMATCH: /);
    expect(reason).toContain(`${card.name}@${card.version}-old`);
    expect(reason).toContain(`node's index is built with ${card.name}@${card.version}`);
    expect(n.node.catalog.embeddings(uidOf(files))).toEqual([]);
    // Refused once (permanent), never retried.
    expect(workers[0]?.logs.some((l) => l.includes('will retry'))).toBe(false);
  });

  it('a job BullMQ fails without a worker result (stalled too often) fails its study with that reason', async () => {
    const setup = await remoteSetup({ redisUrl: redis.url, modelDir, prefix: prefix() });
    node = await startTestNode(setup.node);
    // Stands in for workers killed more often than BullMQ tolerates: the job fails, no result is posted.
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const stalled = new Worker(QUEUE_NAME, () => Promise.reject(new UnrecoverableError('job stalled more than allowable limit')), {
      connection,
      prefix: (setup.node.queue as { prefix: string }).prefix,
    });
    const files = await study(1, 350);
    await send(node.port, files);
    const n = node;
    await waitFor(() => n.node.catalog.study(uidOf(files))?.state === 'failed', 30_000);
    await stalled.close();
    connection.disconnect();
    expect(n.node.catalog.study(uidOf(files))?.reason).toBe('QUEUE_FAILED: job stalled more than allowable limit');
  });

  it('a result delivered twice, or for a stale round, changes nothing', async () => {
    const setup = await remoteSetup({ redisUrl: redis.url, modelDir, prefix: prefix() });
    node = await startTestNode(setup.node);
    workers.push(await startLocalWorker(setup.worker));
    const files = await study(2, 400);
    await send(node.port, files);
    const n = node;
    const uid = uidOf(files);
    await waitFor(() => n.node.catalog.study(uid)?.state === 'done', 60_000);
    const card = readCard(modelDir);
    const before = n.node.catalog.embeddings(uid, card.version);
    expect(before).toHaveLength(2);
    const resultsDir = join(n.dataDir, 'results', uid);
    const written = readdirSync(resultsDir).map((f) => [f, statSync(join(resultsDir, f)).mtimeMs]);
    expect(written.length).toBeGreaterThan(0);
    // The same round again (as a worker whose lock expired would deliver it), under another job id.
    const again: StudyResult = {
      kind: 'embedded',
      StudyInstanceUID: uid,
      generation: 1,
      model: { name: card.name, version: card.version },
      embeddings: before.map((e) => ({
        SOPInstanceUID: e.SOPInstanceUID,
        version: e.version,
        vector: encodeFloats(e.vector.map((v) => -v)),
        attention: encodeAttention(e.attention),
        notes: [],
      })),
      skipped: [],
    };
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const results = new Queue<StudyResult>(RESULTS_QUEUE_NAME, { connection, prefix: (setup.node.queue as { prefix: string }).prefix });
    await results.add('study-result', again, { jobId: 'duplicate-1' });
    await results.add('study-result', { ...again, generation: 0 }, { jobId: 'stale-1' });
    await waitFor(() => n.logs.some((l) => l.includes('delivered twice')) && n.logs.some((l) => l.includes('stale study round')), 30_000);
    await results.close();
    connection.disconnect();
    const after = n.node.catalog.embeddings(uid, card.version);
    expect(after.map((e) => [e.SOPInstanceUID, e.createdAt, Array.from(e.vector)])).toEqual(
      before.map((e) => [e.SOPInstanceUID, e.createdAt, Array.from(e.vector)]),
    );
    expect(readdirSync(resultsDir).map((f) => [f, statSync(join(resultsDir, f)).mtimeMs])).toEqual(written);
    expect(n.node.catalog.study(uid)?.state).toBe('done');
    // Counted once on the node's metrics, as in-process.
    const metrics = await (await fetch(`http://127.0.0.1:${n.opsPort ?? 0}/metrics`)).text();
    expect(sample(metrics, 'precedent_studies_completed_total', { outcome: 'done' })).toBe(1);
  });

  it('Redis restarted between studies and mid-job: node, worker and both queues reconnect and lose nothing', async () => {
    const setup = await remoteSetup({ redisUrl: redis.url, modelDir, prefix: prefix(), attempts: 20 });
    node = await startTestNode(setup.node);
    workers.push(await startLocalWorker(setup.worker));
    const n = node;
    const first = await study(1, 600);
    await send(n.port, first);
    await waitFor(() => n.node.catalog.study(uidOf(first))?.state === 'done', 60_000);
    // And again while the worker holds the next study's job.
    const second = await study(8, 610);
    await send(n.port, second);
    await waitFor(() => n.node.catalog.study(uidOf(second))?.state === 'decoding', 30_000);
    await redis.restart();
    await waitFor(() => n.node.catalog.study(uidOf(second))?.state === 'done', 90_000);
    expect(
      n.node.catalog
        .embeddings(uidOf(second))
        .map((e) => e.SOPInstanceUID)
        .sort(),
    ).toEqual(second.map((f) => f.sopInstanceUID).sort());
    expect(await n.node.queue.failed()).toEqual([]);
  });

  it('the node restarted while a worker holds a job: the study completes once the node is back', async () => {
    const setup = await remoteSetup({ redisUrl: redis.url, modelDir, prefix: prefix(), attempts: 20 });
    const dataDir = tempDir();
    node = await startTestNode(setup.node, { dataDir });
    const worker = await startLocalWorker(workerConfig(setup.worker, { worker: { fetchAttempts: 3 } }));
    workers.push(worker);
    const files = await study(12, 500);
    await send(node.port, files);
    const first = node;
    const uid = uidOf(files);
    // Claimed by the worker: the node goes down under it.
    await waitFor(() => first.node.catalog.study(uid)?.state === 'decoding', 30_000);
    await first.stop();
    node = undefined;
    node = await startTestNode(setup.node, { dataDir });
    const second = node;
    await waitFor(() => second.node.catalog.study(uid)?.state === 'done', 90_000);
    expect(
      second.node.catalog
        .embeddings(uid, readCard(modelDir).version)
        .map((e) => e.SOPInstanceUID)
        .sort(),
    ).toEqual(files.map((f) => f.sopInstanceUID).sort());
    expect(readdirSync(join(dataDir, 'results', uid)).length).toBeGreaterThan(0);
    expect(worker.logs.some((l) => l.includes('result handed to the node'))).toBe(true);
  });
});
