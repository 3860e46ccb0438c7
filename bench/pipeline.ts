// npm run bench: the analysis pipeline on real shared radiographs (as DICOM), per stage, next to
// onnxruntime-node's bare session.run on the same tensors in the same run, so the pipeline's
// overhead shows as a ratio. Medians over repeated runs; the machines are noisy.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { buildFixtures, type FixtureSpec } from '../test/fixtures/build.js';
import { testModelDir } from '../test/helpers/model-fixture.js';
import { tempDir } from '../test/helpers/node.js';
import { createImageDecoder } from '../src/decode/index.js';
import { createEmbedder, openModel, preprocess, runTensor, tensorLength } from '../src/embed/index.js';
import type { DecodedImage } from '../src/shared/analysis.js';
import { median, printTable } from './table.js';

const IMAGES = Number(process.env.BENCH_IMAGES ?? 24);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const THREADS = 2;

async function time<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export async function benchPipeline(): Promise<void> {
  const shipped = resolve('models/default');
  const modelDir = existsSync(join(shipped, 'model.onnx')) ? shipped : testModelDir();
  const specs = Array.from({ length: IMAGES }, (_, i) => ({ variant: 'dx12', syntax: i % 2 ? 'jpegls' : 'ele', imageIndex: i * 47, maxSize: 512 }) as FixtureSpec);
  const files = await buildFixtures(specs, tempDir('precedent-bench-'));
  const decoder = createImageDecoder();

  const decodeMs: number[] = [];
  const images: DecodedImage[] = [];
  await decoder.decodeFile(files[0]?.path ?? ''); // codec initialisation is not per image
  for (const f of files) {
    const r = await time(() => decoder.decodeFile(f.path));
    decodeMs.push(r.ms);
    images.push(r.value);
  }

  const bare = await openModel(modelDir, 'cpu', THREADS);
  const { card } = bare;
  const preprocessMs: number[] = [];
  const tensors = images.map((img) => {
    const t0 = performance.now();
    const { tensor } = preprocess(img, card);
    preprocessMs.push(performance.now() - t0);
    return tensor;
  });
  const log = pino({ level: 'silent' });
  const rows: string[][] = [];
  const perImage = (ms: number[], batch: number) => median(ms) / batch;
  for (const batch of [1, 8]) {
    const batches = Math.floor(images.length / batch);
    const stacked = Array.from({ length: batches }, (_, b) => {
      const t = new Float32Array(tensorLength(card) * batch);
      for (let i = 0; i < batch; i++) t.set(tensors[b * batch + i] ?? new Float32Array(0), i * tensorLength(card));
      return t;
    });
    await runTensor(bare, stacked[0] ?? new Float32Array(0), batch); // warm-up
    const bareMs: number[] = [];
    for (let r = 0; r < REPEATS; r++) for (const t of stacked) bareMs.push((await time(() => runTensor(bare, t, batch))).ms);

    const embedder = await createEmbedder({ modelDir, device: 'cpu', threads: THREADS, batchSize: batch, workers: 1, log });
    const embedMs: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      for (let b = 0; b < batches; b++) embedMs.push((await time(() => embedder.embed(images.slice(b * batch, (b + 1) * batch)))).ms);
    }
    await embedder.close();
    const inference = perImage(bareMs, batch);
    const pipeline = perImage(embedMs, batch);
    const pre = median(preprocessMs);
    rows.push([
      String(batch),
      median(decodeMs).toFixed(2),
      pre.toFixed(2),
      inference.toFixed(2),
      pipeline.toFixed(2),
      `${(((pipeline - pre - inference) / inference) * 100).toFixed(0)}%`,
      `${(pipeline / inference).toFixed(2)}x`,
      (1000 / (median(decodeMs) + pipeline)).toFixed(1),
    ]);
  }
  await bare.session.release();
  console.log(`\n## Analysis pipeline — ${IMAGES} shared radiographs as 512-px DICOM (ELE and JPEG-LS), model ${card.name}@${card.version} (${modelDir === shipped ? 'shipped' : 'test model'}), CPU, ${THREADS} intra-op threads, medians per image of ${REPEATS} repeats\n`);
  printTable(
    ['batch', 'decode ms', 'preprocess ms', 'bare session.run ms', 'embedder.embed ms', 'overhead beyond preprocess+run (% of run)', 'embed / bare run', 'images/s (decode+embed)'],
    rows,
  );
}
