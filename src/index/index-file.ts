// The index file is a cache of the catalog: <name>.usearch (the vectors and graph) beside
// <name>.usearch.json (what it was built from, the case-log position it reflects, its SHA-256). Both
// are replaced atomically (temp, fsync, rename); a file that is missing, built for another model or
// configuration, or whose bytes do not match its hash is not loaded but rebuilt from the catalog.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadVectorIndex } from './backends.js';
import type { BackendName, IndexMode, VectorIndex, VectorIndexOptions } from './vector-index.js';

/** What an index file must have been built with to be usable now. */
export interface IndexIdentity {
  backend: BackendName;
  modelName: string;
  modelVersion: string;
  dimensions: number;
  dtype: 'f32' | 'f16';
  connectivity: number;
}

export interface IndexFileMeta extends IndexIdentity {
  format: 1;
  mode: IndexMode;
  /** The case-log sequence number the saved index reflects. */
  seq: number;
  size: number;
  bytes: number;
  sha256: string;
  savedAt: string;
}

export const metaPath = (file: string): string => `${file}.json`;

function hashFile(path: string): { sha256: string; bytes: number } {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  const chunk = Buffer.alloc(1 << 22);
  let bytes = 0;
  try {
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, bytes);
      if (n === 0) break;
      hash.update(chunk.subarray(0, n));
      bytes += n;
    }
  } finally {
    closeSync(fd);
  }
  return { sha256: hash.digest('hex'), bytes };
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function saveIndexFile(index: VectorIndex, file: string, identity: IndexIdentity, seq: number): IndexFileMeta {
  const temp = `${file}.tmp-${process.pid}`;
  try {
    index.save(temp);
    fsyncPath(temp);
    const { sha256, bytes } = hashFile(temp);
    const meta: IndexFileMeta = { format: 1, ...identity, mode: index.mode(), seq, size: index.size(), bytes, sha256, savedAt: new Date().toISOString() };
    renameSync(temp, file);
    const metaTemp = `${metaPath(file)}.tmp-${process.pid}`;
    writeFileSync(metaTemp, `${JSON.stringify(meta, null, 2)}\n`);
    fsyncPath(metaTemp);
    renameSync(metaTemp, metaPath(file));
    fsyncPath(dirname(file));
    return meta;
  } finally {
    rmSync(temp, { force: true });
  }
}

export type LoadOutcome = { index: VectorIndex; meta: IndexFileMeta } | { reason: string };

export function loadIndexFile(file: string, identity: IndexIdentity, options: VectorIndexOptions): LoadOutcome {
  if (!existsSync(file)) return { reason: 'missing' };
  if (!existsSync(metaPath(file))) return { reason: 'corrupt: its description file is missing' };
  let meta: IndexFileMeta;
  try {
    meta = JSON.parse(readFileSync(metaPath(file), 'utf8')) as IndexFileMeta;
  } catch {
    return { reason: 'corrupt: its description file is not JSON' };
  }
  if (meta.format !== 1) return { reason: 'stale: unknown index file format' };
  for (const key of Object.keys(identity) as (keyof IndexIdentity)[]) {
    if (meta[key] !== identity[key]) return { reason: `stale: built with ${key} ${String(meta[key])}, now ${String(identity[key])}` };
  }
  const actual = hashFile(file);
  if (actual.bytes !== meta.bytes || actual.sha256 !== meta.sha256) return { reason: 'corrupt: its bytes do not match the recorded SHA-256' };
  let index: VectorIndex;
  try {
    index = loadVectorIndex(identity.backend, file, options, meta.mode);
  } catch (err) {
    return { reason: `corrupt: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (index.size() !== meta.size) return { reason: `corrupt: holds ${index.size()} vectors, recorded ${meta.size}` };
  return { index, meta };
}
