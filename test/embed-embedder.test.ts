// The embedder end to end: worker threads running the test ONNX model.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { join } from 'node:path';
import { createEmbedder, preprocess, type WorkerEmbedder } from '../src/embed/index.js';
import type { EmbeddingResult } from '../src/shared/analysis.js';
import { editedModel, readCard, testModelDir } from './helpers/model-fixture.js';
import { loopTurnsDuring } from './helpers/event-loop.js';
import { capturingLogger, maxAbsDiff, norm, range, syntheticImage } from './helpers/model-images.js';

const dir = testModelDir();
let embedder: WorkerEmbedder;

beforeAll(async () => {
  embedder = await createEmbedder({ modelDir: dir, device: 'cpu', threads: 1, batchSize: 8, workers: 1, log: capturingLogger().log });
});
afterAll(async () => {
  await embedder.close();
});

function only(results: EmbeddingResult[]): EmbeddingResult {
  expect(results).toHaveLength(1);
  const [r] = results;
  if (!r) throw new Error('no result');
  return r;
}

describe('embedder', () => {
  it('returns unit-norm vectors of the card dimension, the same vector for the same image', async () => {
    expect(embedder.device).toBe('cpu');
    const images = [syntheticImage(300, 250, 1), syntheticImage(64, 64, 2), syntheticImage(500, 120, 3)];
    const results = await embedder.embed(images);
    expect(results).toHaveLength(3);
    for (const r of results) {
      expect(r.vector).toHaveLength(32);
      expect(Math.abs(norm(r.vector) - 1)).toBeLessThan(1e-5);
    }
    expect(maxAbsDiff(results[0]?.vector ?? [], results[1]?.vector ?? [])).toBeGreaterThan(1e-3);
    const again = await embedder.embed([images[0] ?? syntheticImage(1, 1)]);
    expect(Array.from(only(again).vector)).toEqual(Array.from(results[0]?.vector ?? []));
  });

  it('gives a batch of 5 the same vectors as 5 single calls', async () => {
    const images = [1, 2, 3, 4, 5].map((s) => syntheticImage(200 + s * 30, 180, s));
    const batch = await embedder.embed(images);
    const singles: EmbeddingResult[] = [];
    for (const im of images) singles.push(only(await embedder.embed([im])));
    const diffs = batch.map((r, i) => maxAbsDiff(r.vector, singles[i]?.vector ?? []));
    expect(Math.max(...diffs)).toBeLessThan(1e-5);
  });

  it('reports the time each stage took inside the worker', async () => {
    const before = { ...embedder.stages };
    await embedder.embed([syntheticImage(300, 200, 3), syntheticImage(300, 200, 4)]);
    const after = embedder.stages;
    expect(after.images - before.images).toBe(2);
    expect(after.batches - before.batches).toBeGreaterThanOrEqual(1);
    expect(after.preprocessMs).toBeGreaterThan(before.preprocessMs);
    expect(after.inferenceMs).toBeGreaterThan(before.inferenceMs);
    expect(after.postprocessMs).toBeGreaterThan(before.postprocessMs);
  });

  it('returns the attention map on the image geometry, at most 128 px on the long side, scaled to [0, 1]', async () => {
    const [large, small] = await embedder.embed([syntheticImage(333, 211, 7), syntheticImage(100, 60, 8)]);
    // 333 x 211 scaled by 128/333: 211 * 128 / 333 = 81.1.
    expect([large?.attention?.width, large?.attention?.height]).toEqual([128, 81]);
    expect(large?.attention?.data).toHaveLength(128 * 81);
    expect(range(large?.attention?.data ?? [])).toEqual({ min: 0, max: 1 });
    // Never enlarged: a small image keeps its own grid.
    expect([small?.attention?.width, small?.attention?.height]).toEqual([100, 60]);
  });

  it('matches onnxruntime run directly on the main thread on the same tensor', async () => {
    const card = readCard(dir);
    const im = syntheticImage(640, 480, 11);
    const session = await InferenceSession.create(join(dir, 'model.onnx'), { executionProviders: ['cpu'], intraOpNumThreads: 1 });
    const { tensor } = preprocess(im, card);
    const out = await session.run({ image: new Tensor('float32', tensor, [1, 1, 64, 64]) });
    await session.release();
    const raw = out.embedding?.data as Float32Array;
    const { vector } = only(await embedder.embed([im]));
    // Undo the embedder's normalisation with the direct run's norm: the raw outputs agree.
    const rawNorm = norm(raw);
    expect(
      maxAbsDiff(
        Array.from(vector, (v) => v * rawNorm),
        raw,
      ),
    ).toBeLessThan(1e-6);
  });

  it('does the work of a batch in its worker while the main event loop keeps turning', async () => {
    const base = syntheticImage(2000, 1600, 20);
    const images = Array.from({ length: 16 }, () => ({ ...base, pixels: base.pixels.slice() }));
    const before = { ...embedder.stages };
    const { value: results, turns } = await loopTurnsDuring(() => embedder.embed(images));
    expect(results).toHaveLength(16);
    // The resize, the run and the attention maps were done (and counted) inside the worker ...
    expect(embedder.stages.images - before.images).toBe(16);
    expect(embedder.stages.batches - before.batches).toBe(2);
    // ... and this thread was free meanwhile. How long it may be held up is npm run bench's business.
    expect(turns).toBeGreaterThan(0);
  });

  it('rejects an image whose size does not match its pixels', async () => {
    await expect(embedder.embed([{ width: 10, height: 10, pixels: new Float32Array(50), notes: [] }])).rejects.toMatchObject({
      code: 'INFERENCE_FAILED',
    });
    await expect(embedder.embed([])).resolves.toEqual([]);
  });

  it('posts the next batch while one runs, and answers each batch with its own results', async () => {
    const images = Array.from({ length: 24 }, (_, i) => syntheticImage(120 + i, 100, 40 + i));
    const alone = await Promise.all(images.map(async (im) => only(await embedder.embed([im])).vector));
    const calls = [images.slice(0, 8), images.slice(8, 16), images.slice(16)].map((batch) => embedder.embed(batch));
    // After the dispatch (a microtask) and the posting: two batches with the one worker, the third waits.
    await new Promise((resolve) => setImmediate(resolve));
    expect(embedder.inFlight).toBe(2);
    const together = (await Promise.all(calls)).flat();
    expect(embedder.inFlight).toBe(0);
    together.forEach((r, i) => expect(maxAbsDiff(r.vector, alone[i] ?? new Float32Array(0)), `image ${i}`).toBeLessThan(1e-5));
  });

  it('fails the batches of a crashed worker with INFERENCE_FAILED and restarts the worker', async () => {
    const im = syntheticImage(100, 100, 3);
    const before = only(await embedder.embed([im])).vector;
    embedder.crashNextBatchForTest();
    const eight = Array.from({ length: 8 }, (_, i) => syntheticImage(90, 90, 4 + i));
    // Both batches the worker held fail with it, the one it was running and the next.
    const [first, second] = await Promise.allSettled([embedder.embed(eight), embedder.embed([im, syntheticImage(90, 90, 4)])]);
    expect(first).toMatchObject({ status: 'rejected', reason: { code: 'INFERENCE_FAILED', message: expect.stringMatching(/crashed/) as string } });
    expect(second).toMatchObject({ status: 'rejected', reason: { code: 'INFERENCE_FAILED', message: expect.stringMatching(/crashed/) as string } });
    expect(embedder.restarts).toBe(1);
    const after = only(await embedder.embed([im])).vector;
    expect(Array.from(after)).toEqual(Array.from(before));
  });
});

describe('embedder devices, variants and close', () => {
  it("'auto' falls back to CPU with exactly one warning, whatever the number of workers", async () => {
    const { log, lines } = capturingLogger();
    const e = await createEmbedder({ modelDir: dir, device: 'auto', threads: 1, batchSize: 4, workers: 2, log });
    try {
      expect(e.device).toBe('cpu');
      expect(e.running).toBe(2);
      const warnings = lines.filter((l) => l.level === 40);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.msg).toMatch(/CUDA execution provider unavailable: running on CPU/);
      expect(only(await e.embed([syntheticImage(80, 80, 1)])).vector).toHaveLength(32);
    } finally {
      await e.close();
    }
  });

  it("'auto' on a CPU-only host logs the fallback at debug for CLI commands (the node warns once, at start)", async () => {
    const { log, lines } = capturingLogger();
    log.level = 'debug';
    const e = await createEmbedder({ modelDir: dir, device: 'auto', threads: 1, batchSize: 4, log, fallbackLevel: 'debug' });
    await e.close();
    expect(e.device).toBe('cpu');
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
    expect(lines.filter((l) => l.level === 20 && /CUDA execution provider unavailable/.test(l.msg))).toHaveLength(1);
  });

  it("'cpu' never tries CUDA (no warning)", async () => {
    const { log, lines } = capturingLogger();
    const e = await createEmbedder({ modelDir: dir, device: 'cpu', batchSize: 4, log });
    await e.close();
    expect(e.device).toBe('cpu');
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
  });

  it('close() terminates the workers and fails work still queued or running', async () => {
    const { log } = capturingLogger();
    const e = await createEmbedder({ modelDir: dir, device: 'cpu', threads: 1, batchSize: 2, workers: 2, log });
    expect(e.running).toBe(2);
    // Handled from the start: close() rejects it before the expect below awaits it.
    const pending = e.embed(Array.from({ length: 6 }, (_, i) => syntheticImage(1200, 1000, i))).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 20));
    await e.close();
    expect(await pending).toMatchObject({ code: 'INFERENCE_FAILED', message: /closed/ });
    expect(e.running).toBe(0);
    await expect(e.embed([syntheticImage(10, 10)])).rejects.toMatchObject({ code: 'INFERENCE_FAILED' });
  });

  it('runs a 3-channel letterbox model and a model without attention', async () => {
    const { log } = capturingLogger();
    const rgb = editedModel(testModelDir({ channels: 3 }), (c) => void (c.resize = 'letterbox'));
    const e3 = await createEmbedder({ modelDir: rgb, device: 'cpu', threads: 1, batchSize: 4, log });
    const wide = only(await e3.embed([syntheticImage(400, 100, 5)]));
    await e3.close();
    expect(Math.abs(norm(wide.vector) - 1)).toBeLessThan(1e-5);
    // 400 x 100 on the image's geometry, scaled down to 128 on the long side.
    expect([wide.attention?.width, wide.attention?.height]).toEqual([128, 32]);
    expect(range(wide.attention?.data ?? []).max).toBe(1);

    const plain = await createEmbedder({ modelDir: testModelDir({ attention: false }), device: 'cpu', threads: 1, batchSize: 4, log });
    const r = only(await plain.embed([syntheticImage(100, 100, 5)]));
    await plain.close();
    expect(r.attention).toBeUndefined();
    expect(r.vector).toHaveLength(32);
  });
});
