// The exact tier: vectors in one contiguous f32 matrix, searched by usearch's brute-force kernel.
// Removal moves the last row into the hole, so the matrix stays dense.
import { closeSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { exactSearch } from './usearch-binding.js';
import { candidateCount, rankNeighbours, toSimilarity, type Neighbour } from './vector-index.js';

const MAGIC = 'PRCFLAT1';
const HEADER = 16;

export class FlatVectors {
  private matrix: Float32Array;
  private keys: BigUint64Array;
  private readonly rows = new Map<bigint, number>();
  private count = 0;

  constructor(
    readonly dimensions: number,
    capacity = 1024,
  ) {
    this.matrix = new Float32Array(capacity * dimensions);
    this.keys = new BigUint64Array(capacity);
  }

  size(): number {
    return this.count;
  }

  has(key: bigint): boolean {
    return this.rows.has(key);
  }

  private grow(needed: number): void {
    if (needed <= this.keys.length) return;
    let capacity = this.keys.length;
    while (capacity < needed) capacity *= 2;
    const matrix = new Float32Array(capacity * this.dimensions);
    matrix.set(this.matrix.subarray(0, this.count * this.dimensions));
    const keys = new BigUint64Array(capacity);
    keys.set(this.keys.subarray(0, this.count));
    this.matrix = matrix;
    this.keys = keys;
  }

  add(keys: BigUint64Array, vectors: Float32Array): void {
    const d = this.dimensions;
    this.grow(this.count + keys.length);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as bigint;
      let row = this.rows.get(key);
      if (row === undefined) {
        row = this.count++;
        this.rows.set(key, row);
        this.keys[row] = key;
      }
      this.matrix.set(vectors.subarray(i * d, (i + 1) * d), row * d);
    }
  }

  remove(keys: readonly bigint[]): number {
    const d = this.dimensions;
    let removed = 0;
    for (const key of keys) {
      const row = this.rows.get(key);
      if (row === undefined) continue;
      const last = this.count - 1;
      if (row !== last) {
        const lastKey = this.keys[last] as bigint;
        this.matrix.copyWithin(row * d, last * d, (last + 1) * d);
        this.keys[row] = lastKey;
        this.rows.set(lastKey, row);
      }
      this.rows.delete(key);
      this.count--;
      removed++;
    }
    return removed;
  }

  search(query: Float32Array, k: number, exclude?: ReadonlySet<bigint>): Neighbour[] {
    const count = candidateCount(k, exclude, this.count);
    if (count === 0) return [];
    const d = this.dimensions;
    const found = exactSearch(this.matrix.subarray(0, this.count * d), query, d, count);
    const candidates: Neighbour[] = [];
    for (let i = 0; i < found.keys.length; i++) {
      const key = this.keys[Number(found.keys[i])];
      if (key !== undefined) candidates.push({ key, similarity: toSimilarity(found.distances[i] ?? 2) });
    }
    return rankNeighbours(candidates, k, exclude);
  }

  /** Rows in storage order, in slices (to build an HNSW graph from them). */
  *slices(size: number): Generator<{ keys: BigUint64Array; vectors: Float32Array }> {
    for (let at = 0; at < this.count; at += size) {
      const end = Math.min(this.count, at + size);
      yield { keys: this.keys.subarray(at, end), vectors: this.matrix.subarray(at * this.dimensions, end * this.dimensions) };
    }
  }

  memoryBytes(): number {
    return this.count * (this.dimensions * 4 + 8 + 48);
  }

  save(path: string): void {
    const fd = openSync(path, 'w');
    try {
      const header = Buffer.alloc(HEADER);
      header.write(MAGIC, 0, 'latin1');
      header.writeUInt32LE(this.dimensions, 8);
      header.writeUInt32LE(this.count, 12);
      writeSync(fd, header);
      writeSync(fd, new Uint8Array(this.keys.buffer, 0, this.count * 8));
      const bytes = new Uint8Array(this.matrix.buffer, 0, this.count * this.dimensions * 4);
      for (let at = 0; at < bytes.length; at += 1 << 24) writeSync(fd, bytes.subarray(at, Math.min(bytes.length, at + (1 << 24))));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  static load(path: string, dimensions: number): FlatVectors {
    const fd = openSync(path, 'r');
    try {
      const header = Buffer.alloc(HEADER);
      if (readSync(fd, header, 0, HEADER, 0) !== HEADER || header.toString('latin1', 0, 8) !== MAGIC) throw new Error('not an exact-tier index file');
      if (header.readUInt32LE(8) !== dimensions) throw new Error(`index file has ${header.readUInt32LE(8)} dimensions, expected ${dimensions}`);
      const count = header.readUInt32LE(12);
      const flat = new FlatVectors(dimensions, Math.max(1024, count));
      const keyBytes = new Uint8Array(flat.keys.buffer, 0, count * 8);
      const vectorBytes = new Uint8Array(flat.matrix.buffer, 0, count * dimensions * 4);
      readFully(fd, keyBytes, HEADER);
      readFully(fd, vectorBytes, HEADER + keyBytes.length);
      flat.count = count;
      for (let row = 0; row < count; row++) {
        const key = flat.keys[row] as bigint;
        if (flat.rows.has(key)) throw new Error('index file repeats a key');
        flat.rows.set(key, row);
      }
      return flat;
    } finally {
      closeSync(fd);
    }
  }
}

function readFully(fd: number, into: Uint8Array, position: number): void {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, Math.min(into.length - done, 1 << 24), position + done);
    if (n === 0) throw new Error('index file is truncated');
    done += n;
  }
}
