// The analysis pipeline end to end with a real (test) ONNX model: DICOM in every transfer syntax ->
// decode -> worker-thread inference -> embeddings in the catalog, through both queue backends, with a
// remote `precedent worker` process killed mid-job.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { remoteSetup, startWorkerProcess } from './helpers/remote.js';
import { join } from 'node:path';
import { buildFixtures, type Fixture, type FixtureSpec, type SyntaxName, SYNTAX_NAMES } from './fixtures/build.js';
import { startTestNode, tempDir, type TestNode } from './helpers/node.js';
import { sample } from './helpers/stow.js';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { testModelDir } from './helpers/model-fixture.js';
import { run } from './helpers/tools.js';
import { STORED_ATTENTION_SIZE } from '../src/jobs/index.js';
import { waitFor } from './helpers/wait.js';

const SYNTAXES = SYNTAX_NAMES;

let modelDir: string;
let redis: TestRedis;
let node: TestNode | undefined;
const children: ChildProcess[] = [];

beforeAll(async () => {
  modelDir = testModelDir();
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await redis.stop();
});
afterEach(async () => {
  await node?.stop();
  node = undefined;
});

async function study(n: number, syntaxes: readonly SyntaxName[], base: number): Promise<Fixture[]> {
  const uid = `2.25.${Date.now()}${base}`;
  const specs = Array.from({ length: n }, (_, i) => {
    const syntax = syntaxes[i % syntaxes.length] as SyntaxName;
    return { variant: syntax === 'jpeg-baseline' ? 'dx8' : 'dx12', syntax, imageIndex: base + i, studyInstanceUID: uid } as FixtureSpec;
  });
  return buildFixtures(specs, tempDir('precedent-pipe-'));
}

async function send(port: number, files: Fixture[]): Promise<void> {
  const r = await run('dcmsend', ['-aet', 'PIPE', '-aec', 'PRECEDENT', '-nh', '127.0.0.1', String(port), ...files.map((f) => f.path)]);
  expect(r.code).toBe(0);
}

function expectEmbedded(n: TestNode, files: Fixture[]): void {
  const uid = files[0]?.studyInstanceUID ?? '';
  const card = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')) as { version: string; embeddingDimension: number };
  const embeddings = n.node.catalog.embeddings(uid, card.version);
  expect(embeddings.map((e) => e.SOPInstanceUID).sort()).toEqual(files.map((f) => f.sopInstanceUID).sort());
  for (const e of embeddings) {
    expect(e.vector.length).toBe(card.embeddingDimension);
    expect(Math.abs(Math.hypot(...e.vector) - 1)).toBeLessThan(1e-4);
    expect(e.attention).not.toBeNull();
    expect(Math.max(e.attention?.width ?? 0, e.attention?.height ?? 0)).toBeLessThanOrEqual(STORED_ATTENTION_SIZE);
  }
}

describe('analysis pipeline', () => {
  it('embeds a study sent in every transfer syntax (in-process queue)', async () => {
    const files = await study(SYNTAXES.length, SYNTAXES, 700);
    node = await startTestNode({ studies: { completeAfterSeconds: 0.5 }, model: { dir: modelDir }, inference: { device: 'cpu', batchSize: 4 } });
    await send(node.port, files);
    const n = node;
    await waitFor(() => n.node.catalog.study(files[0]?.studyInstanceUID ?? '')?.state === 'done', 60_000);
    expectEmbedded(n, files);
    // The embedder's per-stage time, as measured inside its workers, reaches Prometheus.
    const scrape = async (): Promise<string> => (await fetch(`http://127.0.0.1:${n.opsPort ?? 0}/metrics`)).text();
    const first = await scrape();
    expect(sample(first, 'precedent_embedded_images_total')).toBe(files.length);
    for (const stage of ['preprocess', 'inference', 'postprocess']) expect(sample(first, 'precedent_embed_stage_seconds_total', { stage })).toBeGreaterThan(0);
    // Counters: a second scrape without new work adds nothing.
    const second = await scrape();
    expect(sample(second, 'precedent_embedded_images_total')).toBe(files.length);
    expect(sample(second, 'precedent_embed_stage_seconds_total', { stage: 'inference' })).toBe(
      sample(first, 'precedent_embed_stage_seconds_total', { stage: 'inference' }),
    );
  });

  it('fails an undecodable image once with a clear reason and does not retry it', async () => {
    const [f] = await study(1, ['jpeg-baseline'], 720);
    if (!f) throw new Error('no fixture');
    // Break the JPEG stream (SOI marker) but keep the DICOM structure valid: ingest accepts it.
    const bytes = readFileSync(f.path);
    const soi = bytes.lastIndexOf(Buffer.from([0xff, 0xd8, 0xff]));
    expect(soi).toBeGreaterThan(0);
    bytes.fill(0x00, soi, soi + 3);
    writeFileSync(f.path, bytes);
    node = await startTestNode({
      studies: { completeAfterSeconds: 0.3 },
      model: { dir: modelDir },
      inference: { device: 'cpu' },
      queue: { attempts: 3, backoffSeconds: 0.1 },
    });
    await send(node.port, [f]);
    const n = node;
    await waitFor(() => n.node.catalog.study(f.studyInstanceUID)?.state === 'failed', 30_000);
    await new Promise((r) => setTimeout(r, 600));
    expect(n.node.catalog.study(f.studyInstanceUID)?.reason).toMatch(/decod/i);
    expect(n.logs.filter((l) => l.includes('"msg":"study analysis failed"'))).toHaveLength(1);
    expect(n.logs.some((l) => l.includes('will retry'))).toBe(false);
  });

  it('remote `precedent worker`s (BullMQ, no shared files): one killed with SIGKILL mid-job, another takes the job over', async () => {
    // lockSeconds 3: a killed worker's job is taken over within seconds, while a live worker on a loaded CI
    // machine still renews its lock in time (at 1 s it was once declared stalled twice and failed).
    const setup = await remoteSetup({ redisUrl: redis.url, modelDir, prefix: `pipe${process.pid}` });
    node = await startTestNode(setup.node);
    const startWorker = () => {
      const p = startWorkerProcess(setup.worker);
      children.push(p.child);
      return { child: p.child, out: p.output, ready: p.ready };
    };

    const first = startWorker();
    await first.ready;
    const n = node;
    // Kill the first worker while it works on a study of many images.
    let killedMidJob: Fixture[] | undefined;
    for (let attempt = 0; attempt < 3 && !killedMidJob; attempt++) {
      const files = await study(16, ['ele', 'jpegls', 'rle'], 740 + attempt * 20);
      const uid = files[0]?.studyInstanceUID ?? '';
      await send(n.port, files);
      await waitFor(() => ['decoding', 'embedded', 'done'].includes(n.node.catalog.study(uid)?.state ?? ''), 30_000);
      if (n.node.catalog.study(uid)?.state !== 'done') {
        first.child.kill('SIGKILL');
        if (n.node.catalog.study(uid)?.state !== 'done') killedMidJob = files;
      }
    }
    expect(killedMidJob).toBeDefined();
    const files = killedMidJob ?? [];
    const uid = files[0]?.studyInstanceUID ?? '';
    expect(n.node.catalog.study(uid)?.state).not.toBe('done');

    const second = startWorker();
    await second.ready;
    await waitFor(() => n.node.catalog.study(uid)?.state === 'done', 60_000);
    expectEmbedded(n, files);
    // The node, the only writer, wrote the results of what the remote worker embedded.
    expect(readdirSync(join(n.dataDir, 'results', uid)).filter((f) => f.endsWith('.dcm')).length).toBeGreaterThanOrEqual(files.length);
    expect(second.out()).toContain('result handed to the node');
    expect(await n.node.queue.failed()).toEqual([]);
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.on('exit', r));
    expect(second.out()).toContain('Precedent worker stopped');
  });
});
