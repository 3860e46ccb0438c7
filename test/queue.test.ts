// Both queue backends, driven through a real node: retries with backoff, no retry for permanent
// failures, failed jobs listable, and (BullMQ) a Redis restart mid-run loses no job.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { buildFixtures, type Fixture, type FixtureSpec } from './fixtures/build.js';
import { startTestNode, tempDir, type TestNode } from './helpers/node.js';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { run } from './helpers/tools.js';
import { PrecedentError } from '../src/shared/errors.js';
import type { StudyAnalysis } from '../src/jobs/index.js';
import type { AnalyzeStudyJob } from '../src/shared/types.js';
import { waitFor } from './helpers/wait.js';

let redis: TestRedis;
let fixtures: Fixture[];
let node: TestNode | undefined;
let prefixNo = 0;

beforeAll(async () => {
  redis = await startRedis();
  fixtures = await buildFixtures(
    Array.from({ length: 6 }, (_, i) => ({ variant: 'dx8', syntax: 'ele', imageIndex: 600 + i }) as FixtureSpec),
    tempDir('precedent-queue-fix-'),
  );
});
afterAll(async () => redis.stop());
afterEach(async () => {
  await node?.stop();
  node = undefined;
});

async function send(n: TestNode, f: Fixture): Promise<void> {
  expect((await run('storescu', ['-aet', 'Q', '-aec', 'PRECEDENT', '127.0.0.1', String(n.port), f.path])).code).toBe(0);
}

const backends = ['in-process', 'bullmq'] as const;

function queueConfig(backend: (typeof backends)[number], attempts = 3) {
  prefixNo++;
  return {
    studies: { completeAfterSeconds: 0.3, checkIntervalSeconds: 0.1 },
    queue: { attempts, backoffSeconds: 0.1, ...(backend === 'bullmq' ? { redisUrl: redis.url, prefix: `t${process.pid}x${prefixNo}` } : {}) },
  };
}

describe.each(backends)('%s queue', (backend) => {
  it('retries a transient failure with backoff and then completes the study', async () => {
    const calls: number[] = [];
    const analyze: StudyAnalysis = async () => {
      calls.push(Date.now());
      if (calls.length === 1) throw new PrecedentError('INFERENCE_FAILED', 'runtime hiccup');
    };
    node = await startTestNode(queueConfig(backend), { analyze });
    const f = fixtures[0] as Fixture;
    await send(node, f);
    await waitFor(() => node?.node.catalog.study(f.studyInstanceUID)?.state === 'done', 10_000);
    expect(calls).toHaveLength(2);
    expect((calls[1] ?? 0) - (calls[0] ?? 0)).toBeGreaterThanOrEqual(90);
    expect(node.logs.some((l) => l.includes('will retry'))).toBe(true);
  });

  it('fails an undecodable study once, with its reason, and never retries it', async () => {
    let calls = 0;
    const analyze: StudyAnalysis = async () => {
      calls++;
      throw new PrecedentError('DECODE_FAILED', 'pixel data cannot be decoded: truncated JPEG stream');
    };
    node = await startTestNode(queueConfig(backend), { analyze });
    const f = fixtures[1] as Fixture;
    await send(node, f);
    await waitFor(() => node?.node.catalog.study(f.studyInstanceUID)?.state === 'failed', 10_000);
    await new Promise((r) => setTimeout(r, 500)); // a retry would come after 100 ms
    expect(calls).toBe(1);
    expect(node.node.catalog.study(f.studyInstanceUID)?.reason).toMatch(/truncated JPEG stream/);
    const n = node;
    await waitFor(async () => (await n.node.queue.failed()).length === 1, 5000);
    const [failed] = await n.node.queue.failed();
    expect(failed?.job.StudyInstanceUID).toBe(f.studyInstanceUID);
    expect(failed?.reason).toMatch(/truncated JPEG stream/);
  });

  it('marks a study failed after the last attempt of a transient failure', async () => {
    let calls = 0;
    const analyze: StudyAnalysis = async () => {
      calls++;
      throw new PrecedentError('INFERENCE_FAILED', 'device lost');
    };
    node = await startTestNode(queueConfig(backend, 2), { analyze });
    const f = fixtures[2] as Fixture;
    await send(node, f);
    await waitFor(() => node?.node.catalog.study(f.studyInstanceUID)?.state === 'failed', 10_000);
    expect(calls).toBe(2);
  });

  it('puts off a study that hits a full disk (ENOSPC) without using up its attempts, and completes it', async () => {
    let calls = 0;
    const analyze: StudyAnalysis = async () => {
      calls++;
      if (calls <= 3) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    // One attempt: any other failure would fail the study at once.
    node = await startTestNode(queueConfig(backend, 1), { analyze });
    const f = fixtures[3] as Fixture;
    await send(node, f);
    await waitFor(() => node?.node.catalog.study(f.studyInstanceUID)?.state === 'done', 15_000);
    expect(calls).toBe(4);
    expect(await node.node.queue.failed()).toEqual([]);
    expect(node.logs.filter((l) => l.includes('study analysis deferred'))).toHaveLength(3);
  });
});

describe('bullmq queue', () => {
  it('loses no job when Redis restarts mid-run', async () => {
    const done: AnalyzeStudyJob[] = [];
    const analyze: StudyAnalysis = async (job) => {
      await new Promise((r) => setTimeout(r, 300));
      done.push(job);
    };
    node = await startTestNode(queueConfig('bullmq', 5), { analyze });
    const batch = fixtures.slice(3, 6);
    for (const f of batch) await send(node, f);
    const n = node;
    await waitFor(() => batch.some((f) => n.node.catalog.study(f.studyInstanceUID)?.state !== 'receiving'), 5000);
    await redis.restart();
    await waitFor(() => batch.every((f) => n.node.catalog.study(f.studyInstanceUID)?.state === 'done'), 30_000);
    expect(new Set(done.map((j) => j.StudyInstanceUID))).toEqual(new Set(batch.map((f) => f.studyInstanceUID)));
    expect(await n.node.queue.failed()).toEqual([]);
  });
});
