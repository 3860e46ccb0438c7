// npm run bench, responsiveness section: how long the event loop that answers DICOM associations and
// STOW-RS is held up while CPU-bound work runs, on this thread (the baseline: what the node would
// suffer without its worker threads) and handed to the worker threads the node uses, in the same
// process and interleaved, so that both see the same moments of a noisy machine. The tests only
// check that the loop turns at all while a worker runs (test/helpers/event-loop.ts); the numbers are
// here, as medians of BENCH_LOOP_REPEATS (default 5) with the worker/this-thread ratio.
import { readFile } from 'node:fs/promises';
import { pino } from 'pino';
import { buildFixture, buildFixtures, type FixtureSpec } from '../test/fixtures/build.js';
import { testModelDir } from '../test/helpers/model-fixture.js';
import { syntheticImage } from '../test/helpers/model-images.js';
import { renderRequestFor, retrievalFor } from '../test/helpers/report-fixtures.js';
import { tempDir } from '../test/helpers/node.js';
import { embeddingLikeVectors } from '../test/helpers/vectors.js';
import { createDecoderPool, createImageDecoder } from '../src/decode/index.js';
import { createEmbedder, loadModelCard, preprocess } from '../src/embed/index.js';
import { createUsearchIndex, type VectorIndexOptions } from '../src/index/index.js';
import { IndexClient } from '../src/index/client.js';
import { indexSchema } from '../src/config/schema.js';
import { createResultRenderer, renderResults, type RenderRequest } from '../src/render/index.js';
import { readSourceImage } from '../src/report/index.js';
import { longestEventLoopGap } from './event-loop.js';
import { median, printTable } from './table.js';

const REPEATS = Number(process.env.BENCH_LOOP_REPEATS ?? 5);

interface Work {
  name: string;
  /** The same work on this thread. */
  here: () => Promise<unknown>;
  /** Handed to the node's worker thread(s). */
  there: () => Promise<unknown>;
}

async function works(): Promise<{ list: Work[]; close: () => Promise<void> }> {
  const log = pino({ level: 'silent' });
  const dir = tempDir('precedent-bench-loop-');

  // Embedding: a batch of 16 detector-size images; on this thread the CPU part is the preprocessing
  // (session.run runs on ONNX Runtime's own threads either way).
  const modelDir = testModelDir();
  const card = loadModelCard(modelDir);
  const embedder = await createEmbedder({ modelDir, device: 'cpu', threads: 1, batchSize: 8, workers: 1, log });
  const base = syntheticImage(2000, 1600, 20);
  const images = Array.from({ length: 16 }, () => ({ ...base, pixels: base.pixels.slice() }));

  // Decoding and drawing the results of a full-size JPEG 2000 radiograph.
  const large = await buildFixture({ variant: 'dx12', syntax: 'j2k', enlargeTo: 2600, imageIndex: 3 }, dir);
  const cases = await buildFixtures(
    [0, 1, 2].map((i) => ({ variant: 'dx12', syntax: 'ele', maxSize: 384, imageIndex: 20 + i }) as FixtureSpec),
    dir,
  );
  const inThread = createImageDecoder();
  const decoder = createDecoderPool({ threads: 1, log });
  const renderer = createResultRenderer({ threads: 1, log });
  const retrieval = retrievalFor(readSourceImage(await readFile(large.path)));
  const casePaths = Object.fromEntries(retrieval.cases.map((c, i) => [c.case.SOPInstanceUID, cases[i % cases.length]?.path ?? '']));
  const request: RenderRequest = renderRequestFor(large.path, retrieval, casePaths, 'BENCH');

  // An HNSW graph of 5,000 vectors, as the index worker builds it when the node starts.
  const d = 128;
  const defaults = indexSchema.parse({});
  const options: VectorIndexOptions = { ...defaults, dimensions: d, exactBelow: 0, threads: 1 };
  const n = 5000;
  const vectors = embeddingLikeVectors(n, d, 5);
  const keys = () => BigUint64Array.from({ length: n }, (_, i) => BigInt(i + 1));
  const build = async (): Promise<void> => {
    const client = new IndexClient({ backend: 'usearch', options });
    const chunk = vectors.slice();
    await client.request({ op: 'add', keys: keys(), vectors: chunk }, [chunk.buffer]);
    await client.close();
  };

  const list: Work[] = [
    {
      name: 'embedding 16 images of 2000 x 1600 (batches of 8)',
      here: async () => images.map((im) => preprocess(im, card)),
      there: () => embedder.embed(images),
    },
    { name: 'decoding a 2600-px JPEG 2000 radiograph', here: () => inThread.decodeFile(large.path), there: () => decoder.decodeFile(large.path) },
    { name: 'drawing its results (SR, heatmap, similar cases)', here: () => renderResults(request, inThread), there: () => renderer.render(request) },
    { name: `building an HNSW graph of ${n} vectors`, here: async () => createUsearchIndex(options).add(keys(), vectors), there: build },
  ];
  const close = async (): Promise<void> => {
    await Promise.all([embedder.close(), decoder.close(), renderer.close()]);
  };
  return { list, close };
}

export async function benchResponsiveness(): Promise<void> {
  const { list, close } = await works();
  const rows: string[][] = [];
  try {
    for (const w of list) {
      // A first run of each: codec initialisation and the threads' start-up are not what is measured.
      await w.here();
      await w.there();
      const here: number[] = [];
      const there: number[] = [];
      const wall: number[] = [];
      for (let r = 0; r < REPEATS; r++) {
        here.push((await longestEventLoopGap(w.here)).maxGapMs);
        const t = await longestEventLoopGap(w.there);
        there.push(t.maxGapMs);
        wall.push(t.elapsedMs);
      }
      rows.push([w.name, median(here).toFixed(1), median(there).toFixed(1), (median(there) / median(here)).toFixed(3), median(wall).toFixed(0)]);
    }
  } finally {
    await close();
  }
  console.log(
    `\n## Responsiveness — longest event-loop gap (5 ms timer) while CPU-bound work runs, on this thread and on the node's worker threads, interleaved; medians of ${REPEATS} repeats\n`,
  );
  printTable(['work', 'this thread: longest gap ms', 'worker thread: longest gap ms', 'worker / this thread', 'worker wall ms'], rows);
}
