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
import { createEmbedder, openModel, preprocess, runTensor, tensorLength, writeTensor } from '../src/embed/index.js';
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
  const specs = Array.from(
    { length: IMAGES },
    (_, i) => ({ variant: 'dx12', syntax: i % 2 ? 'jpegls' : 'ele', imageIndex: i * 47, maxSize: 512 }) as FixtureSpec,
  );
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
  const tensors = images.map((img) => preprocess(img, card).tensor);
  const log = pino({ level: 'silent' });
  const rows: string[][] = [];
  const streamRows: string[][] = [];
  const perImage = (ms: number[], batch: number) => median(ms) / batch;
  for (const batch of [1, 8]) {
    const batches = Math.floor(images.length / batch);
    const stacked = Array.from({ length: batches }, (_, b) => {
      const t = new Float32Array(tensorLength(card) * batch);
      for (let i = 0; i < batch; i++) t.set(tensors[b * batch + i] ?? new Float32Array(0), i * tensorLength(card));
      return t;
    });
    const embedder = await createEmbedder({ modelDir, device: 'cpu', threads: THREADS, batchSize: batch, workers: 1, log });
    await runTensor(bare, stacked[0] ?? new Float32Array(0), batch); // warm-up
    await embedder.embed(images.slice(0, batch));
    // Interleaved, batch by batch, so that both see the same moments of a noisy machine. Each embed()
    // call also reports what its worker spent per stage, so its own preprocessing is subtracted, not
    // a separate measurement's.
    const bareMs: number[] = [];
    const stage = { pre: [] as number[], run: [] as number[], post: [] as number[], handoff: [] as number[], overhead: [] as number[], wall: [] as number[] };
    for (let r = 0; r < REPEATS; r++) {
      for (let b = 0; b < batches; b++) {
        const bareRun = (await time(() => runTensor(bare, stacked[b] ?? new Float32Array(0), batch))).ms;
        const before = { ...embedder.stages };
        const wall = (await time(() => embedder.embed(images.slice(b * batch, (b + 1) * batch)))).ms;
        const s = embedder.stages;
        const pre = s.preprocessMs - before.preprocessMs;
        const run = s.inferenceMs - before.inferenceMs;
        const post = s.postprocessMs - before.postprocessMs;
        bareMs.push(bareRun);
        stage.pre.push(pre);
        stage.run.push(run);
        stage.post.push(post);
        stage.wall.push(wall);
        stage.handoff.push(wall - pre - run - post);
        // The target's overhead: everything embed() costs beyond preprocessing and a bare run of the
        // same tensor (so a slower session.run inside the worker counts against the pipeline too).
        stage.overhead.push((wall - pre - bareRun) / bareRun);
      }
    }
    // A stream: every batch of the set submitted at once, as a burst of studies (or
    // workers.concurrency > 1) feeds the embedder; the worker holds the next batch while one runs, so
    // hand-offs overlap model runs. Next to it, in turn, the same work without the pipeline:
    // preprocess and a bare session.run of each batch on this thread, one after another (so that the
    // bare runs, like the worker's, follow preprocessing and find ONNX Runtime's threads asleep).
    // Overhead as above: the stream's wall time beyond its own preprocessing and the bare runs.
    const stream = { directWall: [] as number[], bareRun: [] as number[], pre: [] as number[], wall: [] as number[], overhead: [] as number[] };
    const chunks = Array.from({ length: batches }, (_, b) => images.slice(b * batch, (b + 1) * batch));
    for (let r = 0; r < REPEATS; r++) {
      const direct = await time(async () => {
        let runMs = 0;
        for (const chunk of chunks) {
          const t = new Float32Array(tensorLength(card) * batch);
          chunk.forEach((img, i) => writeTensor(img, card, t, i * tensorLength(card)));
          runMs += (await time(() => runTensor(bare, t, batch))).ms;
        }
        return runMs;
      });
      const before = embedder.stages.preprocessMs;
      const wall = (await time(() => Promise.all(chunks.map((c) => embedder.embed(c))))).ms;
      const pre = embedder.stages.preprocessMs - before;
      stream.directWall.push(direct.ms);
      stream.bareRun.push(direct.value);
      stream.pre.push(pre);
      stream.wall.push(wall);
      stream.overhead.push((wall - pre - direct.value) / direct.value);
    }
    const count = batches * batch;
    const each = (ms: number[]): string => (median(ms) / count).toFixed(2);
    const rate = (ms: number[]): string => ((count * 1000) / median(ms)).toFixed(1);
    streamRows.push([
      String(batch),
      String(count),
      each(stream.pre),
      each(stream.bareRun),
      each(stream.wall),
      rate(stream.directWall),
      rate(stream.wall),
      `${(median(stream.overhead) * 100).toFixed(0)}%`,
    ]);
    await embedder.close();
    const per = (ms: number[]): string => perImage(ms, batch).toFixed(2);
    rows.push([
      String(batch),
      median(decodeMs).toFixed(2),
      per(stage.pre),
      per(bareMs),
      per(stage.run),
      per(stage.post),
      per(stage.handoff),
      per(stage.wall),
      `${(median(stage.overhead) * 100).toFixed(0)}%`,
      (1000 / (median(decodeMs) + perImage(stage.wall, batch))).toFixed(1),
    ]);
  }
  await bare.session.release();
  console.log(
    `\n## Analysis pipeline — ${IMAGES} shared radiographs as 512-px DICOM (ELE and JPEG-LS), model ${card.name}@${card.version} (${modelDir === shipped ? 'shipped' : 'test model'}), CPU, ${THREADS} intra-op threads, medians per image of ${REPEATS} repeats; bare and pipeline runs interleaved\n`,
  );
  printTable(
    [
      'batch',
      'decode ms',
      'preprocess ms (worker)',
      'bare session.run ms',
      'session.run in worker ms',
      'postprocess ms',
      'hand-off ms',
      'embedder.embed ms',
      'overhead beyond preprocess + bare run (% of run)',
      'images/s (decode+embed)',
    ],
    rows,
  );
  console.log(
    `\n### Streams — the ${IMAGES} images submitted at once (one embed() call per batch), in turn with preprocess + bare session.run of the same batches on one thread; medians of ${REPEATS} repeats\n`,
  );
  printTable(
    [
      'batch',
      'images',
      'preprocess ms/image (worker)',
      'bare session.run ms/image',
      'embedder.embed ms/image',
      'preprocess + bare run on one thread, images/s',
      'embedder.embed images/s',
      'overhead beyond preprocess + bare run (% of run)',
    ],
    streamRows,
  );
}
