// The index worker thread through its client, over the shared thread protocol: answers in order,
// vectors moved rather than copied, and failures that keep their code across the thread boundary.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IndexClient } from '../src/index/client.js';
import type { VectorIndexOptions } from '../src/index/index.js';
import { tempDir } from './helpers/node.js';

const options: VectorIndexOptions = {
  dimensions: 4,
  exactBelow: 1_000_000,
  connectivity: 16,
  expansionAdd: 128,
  expansionSearch: 128,
  dtype: 'f32',
  threads: 1,
};
const identity = { backend: 'usearch', modelName: 'test', modelVersion: '1', dimensions: 4, dtype: 'f32', connectivity: 16 } as const;

let client: IndexClient | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});

describe('index worker thread', () => {
  it('answers requests in the order they were posted, taking the vectors by transfer', async () => {
    client = new IndexClient({ backend: 'usearch', options });
    const keys = new BigUint64Array([1n, 2n, 3n]);
    const vectors = new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]);
    const [added, found] = await Promise.all([
      client.request({ op: 'add', keys, vectors }, [keys.buffer, vectors.buffer]),
      client.request({ op: 'search', queries: [new Float32Array([0, 1, 0, 0])], k: 1, exclude: [[]] }),
    ]);
    expect(vectors.byteLength, 'moved, not copied').toBe(0);
    expect(added).toMatchObject({ size: 3, mode: 'exact' });
    expect(found[0]?.[0]?.key).toBe(2n);
  });

  it('reports a backend failure as INDEX_FAILED and goes on answering', async () => {
    client = new IndexClient({ backend: 'usearch', options });
    const file = join(tempDir('precedent-index-thread-'), 'missing-folder', 'index.usearch');
    await expect(client.request({ op: 'save', file, identity, seq: 1 })).rejects.toMatchObject({ code: 'INDEX_FAILED' });
    expect(client.dead).toBe(false);
    await expect(client.request({ op: 'stats' })).resolves.toMatchObject({ size: 0 });
  });

  it('keeps the code of a coded failure (INDEX_UNAVAILABLE: faiss-node pointed at nothing)', async () => {
    const saved = process.env['PRECEDENT_FAISS_NODE'];
    // A worker thread gets a copy of this process's environment when it starts.
    process.env['PRECEDENT_FAISS_NODE'] = join(tempDir('precedent-index-thread-'), 'no-faiss-node.node');
    try {
      client = new IndexClient({ backend: 'faiss', options });
    } finally {
      if (saved === undefined) delete process.env['PRECEDENT_FAISS_NODE'];
      else process.env['PRECEDENT_FAISS_NODE'] = saved;
    }
    await expect(client.request({ op: 'stats' })).rejects.toMatchObject({ code: 'INDEX_UNAVAILABLE', message: /faiss-node is not built/ });
    expect(client.dead).toBe(false);
  });
});
