// The VectorIndex backends and the index file: exact search against a brute-force computation, HNSW
// recall against exact search on 100,000 random vectors, replacement and removal, promotion from the
// exact tier to HNSW, and the file checks that make a damaged cache a rebuild instead of wrong answers.
import { describe, expect, it } from 'vitest';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createUsearchIndex,
  createVectorIndex,
  faissAvailable,
  faissBinaryPath,
  loadIndexFile,
  metaPath,
  saveIndexFile,
  type IndexIdentity,
  type VectorIndex,
  type VectorIndexOptions,
} from '../src/index/index.js';
import { tempDir } from './helpers/node.js';
import { bruteForce, embeddingLikeVectors, randomUnitVectors, row } from './helpers/vectors.js';

const D = 128;
const options = (o: Partial<VectorIndexOptions> = {}): VectorIndexOptions => ({
  dimensions: D,
  exactBelow: 1_000_000,
  connectivity: 16,
  expansionAdd: 128,
  expansionSearch: 128,
  dtype: 'f32',
  threads: 0,
  ...o,
});
const keysOf = (n: number, offset = 1): bigint[] => Array.from({ length: n }, (_, i) => BigInt(i) * 7919n + BigInt(offset));

/** Fills `index` with 3,000 random vectors; its answers to 25 queries, half with exclusions, must equal brute force. */
function expectExactAnswers(index: VectorIndex, seed: number): void {
  const n = 3000;
  const data = randomUnitVectors(n, D, seed);
  const keys = keysOf(n);
  index.add(BigUint64Array.from(keys), data);
  expect([index.mode(), index.size()]).toEqual(['exact', n]);
  const queries = randomUnitVectors(25, D, seed + 1);
  for (let q = 0; q < 25; q++) {
    const query = row(queries, q, D);
    const exclude = q % 2 ? new Set(bruteForce(data, keys, query, 3).map((r) => r.key)) : new Set<bigint>();
    const got = index.search(query, 10, exclude);
    const want = bruteForce(data, keys, query, 10, exclude);
    expect(got.map((r) => r.key)).toEqual(want.map((r) => r.key));
    got.forEach((r, i) => expect(Math.abs(r.similarity - (want[i]?.similarity ?? NaN))).toBeLessThan(1e-5));
    for (const r of got) expect(exclude.has(r.key)).toBe(false);
  }
}

describe('usearch VectorIndex', () => {
  it('exact search equals a brute-force cosine computation (with and without exclusions)', () => {
    expectExactAnswers(createUsearchIndex(options()), 11);
  });

  it('replaces a key added again, removes keys, and answers k larger than the index', () => {
    const data = randomUnitVectors(5, D, 21);
    for (const exactBelow of [1_000_000, 0]) {
      const index = createUsearchIndex(options({ exactBelow }));
      index.add(BigUint64Array.from([1n, 2n, 3n]), data.subarray(0, 3 * D));
      index.add(BigUint64Array.from([2n]), row(data, 4, D)); // 2 now holds vector 4
      expect(index.size()).toBe(3);
      expect(index.search(row(data, 4, D), 1)[0]?.key).toBe(2n);
      expect(index.search(row(data, 4, D), 1)[0]?.similarity).toBeCloseTo(1, 5);
      expect(index.remove([3n, 99n])).toBe(1);
      expect(index.has(3n)).toBe(false);
      expect(
        index
          .search(row(data, 2, D), 10)
          .map((r) => r.key)
          .sort(),
      ).toEqual([1n, 2n]);
      expect(index.remove([1n, 2n])).toBe(2);
      expect(index.search(row(data, 0, D), 5)).toEqual([]);
    }
  });

  it('HNSW recall@10 against exact search on 100,000 random embedding-like vectors', () => {
    // Random draws from a low-dimensional mixture (helpers/vectors.ts), the geometry of learned
    // embeddings; isotropic 128-d noise is the pathological case (npm run bench reports both).
    const n = 100_000;
    const data = embeddingLikeVectors(n, D, 31);
    const keys = BigUint64Array.from(keysOf(n));
    const exact = createUsearchIndex(options());
    exact.add(keys, data);
    // efConstruction 64 (default 128) halves the build on two busy cores; npm run bench measures the defaults.
    const hnsw = createUsearchIndex(options({ exactBelow: 0, expansionAdd: 64 }));
    const started = performance.now();
    hnsw.add(keys, data);
    const buildSeconds = (performance.now() - started) / 1000;
    expect(hnsw.mode()).toBe('hnsw');
    expect(hnsw.size()).toBe(n);
    const queries = embeddingLikeVectors(200, D, 32);
    let hits = 0;
    for (let q = 0; q < 200; q++) {
      const truth = new Set(exact.search(row(queries, q, D), 10).map((r) => r.key));
      for (const r of hnsw.search(row(queries, q, D), 10)) if (truth.has(r.key)) hits++;
    }
    const recall = hits / (200 * 10);
    console.log(
      `HNSW recall@10 vs exact search, 100,000 random embedding-like ${D}-d vectors, M=16, efConstruction=64, ef=128 (default): ${recall.toFixed(4)} (build ${buildSeconds.toFixed(1)} s)`,
    );
    expect(recall).toBeGreaterThanOrEqual(0.9);
  }, 600_000);

  it('promotes the exact tier to HNSW at exactBelow and keeps the same nearest neighbours', () => {
    const n = 2000;
    // Embedding-like vectors and a single-threaded build: on isotropic 128-d noise HNSW is approximate
    // enough to miss a vector's own key now and then, and a parallel build differs from run to run.
    const data = embeddingLikeVectors(n, D, 41);
    const keys = keysOf(n);
    const index = createUsearchIndex(options({ exactBelow: 1500, threads: 1 }));
    index.add(BigUint64Array.from(keys.slice(0, 1000)), data.subarray(0, 1000 * D));
    expect(index.mode()).toBe('exact');
    index.add(BigUint64Array.from(keys.slice(1000)), data.subarray(1000 * D));
    expect(index.mode()).toBe('hnsw');
    expect(index.size()).toBe(n);
    for (let i = 0; i < 20; i++) expect(index.search(row(data, i * 97, D), 1)[0]?.key).toBe(keys[i * 97]);
  });
});

describe('FAISS VectorIndex (faiss-node built by scripts/build-faiss-node.sh against libfaiss-dev)', () => {
  // The test set-up builds it (scripts/install-test-peers.sh); a missing build fails here, loudly.
  it('is built and loads', () => {
    expect(faissBinaryPath(), 'vendor/faiss-node/faiss-node.node: run scripts/build-faiss-node.sh (needs libfaiss-dev)').toBeDefined();
    expect(faissAvailable()).toBe(true);
  });

  it('exact search equals a brute-force cosine computation (with and without exclusions)', () => {
    const index = createVectorIndex('faiss', options());
    expect(index.backend).toBe('faiss');
    expectExactAnswers(index, 51);
  });

  it('replaces a key added again, removes keys (rows renumbered inside FAISS), and survives save and load', () => {
    const data = randomUnitVectors(6, D, 61);
    const index = createVectorIndex('faiss', options());
    index.add(BigUint64Array.from([1n, 2n, 3n, 4n]), data.subarray(0, 4 * D));
    index.add(BigUint64Array.from([2n]), row(data, 5, D)); // 2 now holds vector 5
    expect(index.size()).toBe(4);
    expect(index.search(row(data, 5, D), 1)[0]).toMatchObject({ key: 2n });
    expect(index.search(row(data, 5, D), 1)[0]?.similarity).toBeCloseTo(1, 5);
    // Removing row 0 shifts FAISS's rows: every remaining vector must still answer with its own key.
    expect(index.remove([1n, 99n])).toBe(1);
    expect(index.has(1n)).toBe(false);
    for (const [key, r] of [
      [3n, 2],
      [4n, 3],
      [2n, 5],
    ] as const)
      expect(index.search(row(data, r, D), 1)[0]?.key).toBe(key);
    const dir = tempDir('precedent-faiss-');
    const identity: IndexIdentity = { backend: 'faiss', modelName: 'm', modelVersion: '1', dimensions: D, dtype: 'f32', connectivity: 16 };
    saveIndexFile(index, join(dir, 'm.faiss'), identity, 7);
    const loaded = loadIndexFile(join(dir, 'm.faiss'), identity, options());
    if (!('index' in loaded)) throw new Error(`not loaded: ${loaded.reason}`);
    expect(loaded.index.backend).toBe('faiss');
    for (const r of [2, 3, 5]) expect(loaded.index.search(row(data, r, D), 3)).toEqual(index.search(row(data, r, D), 3));
    expect(index.remove([2n, 3n, 4n])).toBe(3);
    expect(index.search(row(data, 0, D), 5)).toEqual([]);
  });
});

describe('index file', () => {
  const identity: IndexIdentity = { backend: 'usearch', modelName: 'm', modelVersion: '1', dimensions: D, dtype: 'f32', connectivity: 16 };

  for (const tier of ['exact', 'hnsw'] as const) {
    it(`saves and loads the ${tier} tier with identical answers, and refuses a damaged or stale file`, () => {
      const dir = tempDir('precedent-index-file-');
      const file = join(dir, 'm@1.usearch');
      const data = randomUnitVectors(3000, D, 51);
      const o = options({ exactBelow: tier === 'exact' ? 1_000_000 : 0, threads: 1 });
      const index = createUsearchIndex(o);
      index.add(BigUint64Array.from(keysOf(3000)), data);
      const meta = saveIndexFile(index, file, identity, 42);
      expect(meta).toMatchObject({ mode: tier, seq: 42, size: 3000 });

      const loaded = loadIndexFile(file, identity, o);
      if ('reason' in loaded) throw new Error(loaded.reason);
      expect(loaded.meta.seq).toBe(42);
      const queries = randomUnitVectors(10, D, 52);
      for (let q = 0; q < 10; q++) expect(loaded.index.search(row(queries, q, D), 10)).toEqual(index.search(row(queries, q, D), 10));

      expect(loadIndexFile(file, { ...identity, modelVersion: '2' }, o)).toEqual({ reason: 'stale: built with modelVersion 1, now 2' });
      const good = readFileSync(file);
      copyFileSync(file, `${file}.bak`);
      writeFileSync(file, Buffer.alloc(good.length, 0x5a)); // garbage of the same length
      expect(loadIndexFile(file, identity, o)).toMatchObject({ reason: expect.stringMatching(/^corrupt/) });
      writeFileSync(file, good.subarray(0, good.length >> 1)); // truncated
      expect(loadIndexFile(file, identity, o)).toMatchObject({ reason: expect.stringMatching(/^corrupt/) });
      copyFileSync(`${file}.bak`, file);
      rmSync(metaPath(file));
      expect(loadIndexFile(file, identity, o)).toMatchObject({ reason: expect.stringMatching(/^corrupt: its description/) });
      rmSync(file);
      expect(loadIndexFile(file, identity, o)).toEqual({ reason: 'missing' });
    });
  }
});
