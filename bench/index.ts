// npm run bench, index section: the similar-case index backends side by side at 10k, 100k and 1M
// vectors of the default model's dimension (models/default/model.json, else 128). Add throughput,
// single-query search latency p50/p99, recall@10 against exact search, memory per million vectors
// (index file size, which is what the process holds, and the RSS growth measured while building).
// Vectors are embedding-like random draws (a low-dimensional mixture, test/helpers/vectors.ts); a few
// rows on isotropic random vectors show the worst case. FAISS flat is measured where
// scripts/build-faiss-node.sh has built faiss-node against libfaiss-dev (src/index/faiss.ts).
//   BENCH_INDEX_SIZES=10000,100000,1000000   BENCH_INDEX_ISOTROPIC=10000,100000   BENCH_INDEX_QUERIES=1000
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { indexSchema } from '../src/config/schema.js';
import { createFaissIndex, createUsearchIndex, faissAvailable, type VectorIndex, type VectorIndexOptions } from '../src/index/index.js';
import { IndexClient } from '../src/index/client.js';
import { tempDir } from '../test/helpers/node.js';
import { embeddingLikeVectors, randomUnitVectors, row } from '../test/helpers/vectors.js';
import { median, printTable } from './table.js';

const list = (v: string | undefined, d: string): number[] =>
  (v ?? d)
    .split(',')
    .map(Number)
    .filter((n) => n > 0);
const SIZES = list(process.env.BENCH_INDEX_SIZES, '10000,100000,1000000');
const ISOTROPIC = list(process.env.BENCH_INDEX_ISOTROPIC, '10000,100000');
const QUERIES = Number(process.env.BENCH_INDEX_QUERIES ?? 1000);
/** Queries whose exact answers are computed (recall truth, exact latency); fewer at 1M on two cores. */
const truthQueries = (n: number): number => (n >= 1_000_000 ? 100 : 200);

function dimension(): number {
  const card = resolve('models/default/model.json');
  if (!existsSync(card)) return 128;
  return (JSON.parse(readFileSync(card, 'utf8')) as { embeddingDimension: number }).embeddingDimension;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

const rss = (): number => process.memoryUsage().rss;
const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(0);

interface Measured {
  addPerSecond: number;
  latencies: number[];
  fileBytes: number;
  rssGrowth: number;
}

function build(index: VectorIndex, keys: BigUint64Array, data: Float32Array, d: number): { index: VectorIndex; addPerSecond: number; rssGrowth: number } {
  const before = rss();
  const started = performance.now();
  // Batches of 10,000, as a rebuild sends them from the catalog.
  for (let at = 0; at < keys.length; at += 10_000) index.add(keys.subarray(at, at + 10_000), data.subarray(at * d, Math.min(keys.length, at + 10_000) * d));
  const seconds = (performance.now() - started) / 1000;
  return { index, addPerSecond: keys.length / seconds, rssGrowth: rss() - before };
}

function measure(index: VectorIndex, queries: Float32Array, count: number, d: number): number[] {
  const times: number[] = [];
  for (let q = 0; q < count; q++) {
    const t0 = performance.now();
    index.search(row(queries, q % (queries.length / d), d), 10);
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

function fileBytes(index: VectorIndex): number {
  const file = join(tempDir('precedent-bench-index-'), 'bench.usearch');
  index.save(file);
  const bytes = statSync(file).size;
  rmSync(file, { force: true });
  return bytes;
}

export async function benchIndex(): Promise<void> {
  const d = dimension();
  const defaults = indexSchema.parse({});
  const options = (o: Partial<VectorIndexOptions>): VectorIndexOptions => ({
    dimensions: d,
    exactBelow: defaults.exactBelow,
    connectivity: defaults.connectivity,
    expansionAdd: defaults.expansionAdd,
    expansionSearch: defaults.expansionSearch,
    dtype: defaults.dtype,
    threads: 0,
    ...o,
  });
  const rows: string[][] = [];
  const runs: Array<{ data: 'embedding-like' | 'isotropic'; n: number }> = [
    ...SIZES.map((n) => ({ data: 'embedding-like' as const, n })),
    ...ISOTROPIC.map((n) => ({ data: 'isotropic' as const, n })),
  ];
  for (const { data: kind, n } of runs) {
    const gen = kind === 'isotropic' ? randomUnitVectors : embeddingLikeVectors;
    const data = gen(n, d, 1);
    const keys = BigUint64Array.from({ length: n }, (_, i) => BigInt(i + 1));
    const queries = gen(QUERIES, d, 2);

    // Exact: the truth for recall, and the exact backend's own latency.
    const exact = build(createUsearchIndex(options({ exactBelow: Number.MAX_SAFE_INTEGER })), keys, data, d);
    const truthCount = truthQueries(n);
    const truth: Set<bigint>[] = [];
    const exactTimes: number[] = [];
    for (let q = 0; q < truthCount; q++) {
      const t0 = performance.now();
      truth.push(new Set(exact.index.search(row(queries, q, d), 10).map((r) => r.key)));
      exactTimes.push(performance.now() - t0);
    }
    exactTimes.sort((a, b) => a - b);
    const exactMeasured: Measured = { addPerSecond: exact.addPerSecond, latencies: exactTimes, fileBytes: fileBytes(exact.index), rssGrowth: exact.rssGrowth };
    rows.push(row_(kind, n, `usearch exact (f32)`, exactMeasured, 1, truthCount));

    const variants: Array<{ label: string; o: Partial<VectorIndexOptions> }> = [
      { label: `usearch HNSW (${defaults.dtype}, M=${defaults.connectivity}, ef=${defaults.expansionSearch})`, o: { exactBelow: 0 } },
    ];
    if (kind === 'embedding-like' && n === 100_000)
      variants.push({ label: `usearch HNSW (f16, M=${defaults.connectivity}, ef=${defaults.expansionSearch})`, o: { exactBelow: 0, dtype: 'f16' } });
    for (const v of variants) {
      const hnsw = build(createUsearchIndex(options(v.o)), keys, data, d);
      let hits = 0;
      for (let q = 0; q < truthCount; q++) for (const r of hnsw.index.search(row(queries, q, d), 10)) if (truth[q]?.has(r.key)) hits++;
      const m: Measured = {
        addPerSecond: hnsw.addPerSecond,
        latencies: measure(hnsw.index, queries, QUERIES, d),
        fileBytes: fileBytes(hnsw.index),
        rssGrowth: hnsw.rssGrowth,
      };
      rows.push(row_(kind, n, v.label, m, hits / (truthCount * 10), truthCount));
    }
    if (faissAvailable()) {
      // Exact like usearch's exact tier: recall must come out 1, latencies over the same truth queries.
      const flat = build(createFaissIndex(options({})), keys, data, d);
      let hits = 0;
      const times: number[] = [];
      for (let q = 0; q < truthCount; q++) {
        const t0 = performance.now();
        const found = flat.index.search(row(queries, q, d), 10);
        times.push(performance.now() - t0);
        for (const r of found) if (truth[q]?.has(r.key)) hits++;
      }
      const m: Measured = {
        addPerSecond: flat.addPerSecond,
        latencies: times.sort((a, b) => a - b),
        fileBytes: fileBytes(flat.index),
        rssGrowth: flat.rssGrowth,
      };
      rows.push(row_(kind, n, 'FAISS flat (IndexFlatIP, libfaiss)', m, hits / (truthCount * 10), truthCount));
    } else {
      rows.push([kind, n.toLocaleString('en'), 'FAISS flat', 'not built (scripts/build-faiss-node.sh)', '', '', '', '', '']);
    }
    console.error(`index bench: ${kind} ${n} done`);
  }

  // The production path: a search through the index worker thread (message round trip included).
  const n = 100_000;
  const client = new IndexClient({ backend: 'usearch', options: options({ exactBelow: 0 }) });
  const data = embeddingLikeVectors(n, d, 1);
  for (let at = 0; at < n; at += 10_000) {
    const chunk = data.slice(at * d, (at + 10_000) * d);
    const keys = BigUint64Array.from({ length: 10_000 }, (_, i) => BigInt(at + i + 1));
    await client.request({ op: 'add', keys, vectors: chunk }, [chunk.buffer, keys.buffer]);
  }
  const queries = embeddingLikeVectors(QUERIES, d, 2);
  const times: number[] = [];
  for (let q = 0; q < QUERIES; q++) {
    const t0 = performance.now();
    await client.request({ op: 'search', queries: [row(queries, q, d).slice()], k: 10, exclude: [[]] });
    times.push(performance.now() - t0);
  }
  await client.close();
  times.sort((a, b) => a - b);

  console.log(
    `\n## Similar-case index — ${d}-d cosine, k=10, single-query searches, ${QUERIES} queries (exact: ${truthQueries(1)} / ${truthQueries(1_000_000)} at 1M); defaults of index.* unless stated\n`,
  );
  printTable(
    ['vectors', 'n', 'backend', 'add / s', 'search p50 ms', 'search p99 ms', 'recall@10 vs exact', 'MB per 1M vectors (file)', 'RSS growth MB (this n)'],
    rows,
  );
  console.log(
    `\nThrough the index worker thread (IndexManager's path, message round trip included), HNSW, 100,000 embedding-like vectors: p50 ${median(times).toFixed(3)} ms, p99 ${quantile(times, 0.99).toFixed(3)} ms.`,
  );
}

function row_(kind: string, n: number, backend: string, m: Measured, recall: number, truthCount: number): string[] {
  const perMillion = (m.fileBytes / n) * 1_000_000;
  return [
    kind,
    n.toLocaleString('en'),
    backend,
    Math.round(m.addPerSecond).toLocaleString('en'),
    quantile(m.latencies, 0.5).toFixed(3),
    quantile(m.latencies, 0.99).toFixed(3),
    backend.includes('exact') ? 'exact' : `${recall.toFixed(4)} (${truthCount} q)`,
    mb(perMillion),
    mb(Math.max(0, m.rssGrowth)),
  ];
}
