// The index manager: keeps one model's vector index (in a worker thread) in step with the case store,
// which is the source of truth. open() loads the index file or rebuilds it from the stored embeddings
// when it is missing, stale (other model version or index settings) or corrupt; every search first
// replays the case log since the index's position, so cases added or erased by another process (an
// import, an erasure request, a second worker) are seen; the file is saved after rebuilds, every
// `saveAfterChanges` changes and on close.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CaseModel, CaseStore } from '../shared/case-store.js';
import type { IndexConfig } from '../config/schema.js';
import type { Logger } from '../shared/log.js';
import type { ProgressFactory } from '../shared/progress.js';
import { IndexClient } from './client.js';
import { createVectorIndex } from './backends.js';
import type { IndexIdentity } from './index-file.js';
import type { IndexStats } from './protocol.js';
import type { Neighbour } from './vector-index.js';

export interface IndexModel extends CaseModel {
  dimensions: number;
}

export interface IndexManagerDeps {
  /** Folder of the index files (under storage.dataDir). */
  dir: string;
  model: IndexModel;
  config: IndexConfig;
  cases: CaseStore;
  log: Logger;
  progress?: ProgressFactory;
}

export interface OpenResult extends IndexStats {
  rebuilt: boolean;
  /** Why it was rebuilt: missing, stale: ..., corrupt: ..., inconsistent: ... */
  reason?: string;
  ms: number;
}

export interface IndexManager {
  readonly file: string;
  readonly model: IndexModel;
  open(): Promise<OpenResult>;
  /** Applies the case log since the index's position; returns how many changes. */
  sync(): Promise<number>;
  /** One result list per query; each query has its own excluded keys. */
  search(queries: Float32Array[], k: number, exclude: bigint[][]): Promise<Neighbour[][]>;
  rebuild(reason: string): Promise<OpenResult>;
  save(): Promise<void>;
  stats(): Promise<IndexStats & { seq: number }>;
  close(): Promise<void>;
}

const PAGE = 1024;
const LOG_BATCH = 2048;

function safe(part: string): string {
  return part.replace(/[^A-Za-z0-9._-]/g, '_');
}

export function indexFileName(model: CaseModel, backend: IndexConfig['backend']): string {
  return `${safe(model.name)}@${safe(model.version)}.${backend === 'faiss' ? 'faiss' : 'usearch'}`;
}

const yieldLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function createIndexManager(deps: IndexManagerDeps): IndexManager {
  const { config, model, cases, log } = deps;
  const file = join(deps.dir, indexFileName(model, config.backend));
  const identity: IndexIdentity = {
    backend: config.backend,
    modelName: model.name,
    modelVersion: model.version,
    dimensions: model.dimensions,
    dtype: config.dtype,
    connectivity: config.connectivity,
  };
  const options = {
    dimensions: model.dimensions,
    exactBelow: config.exactBelow,
    connectivity: config.connectivity,
    expansionAdd: config.expansionAdd,
    expansionSearch: config.expansionSearch,
    dtype: config.dtype,
    threads: config.threads,
  };
  // A backend that cannot be loaded (faiss without faiss-node) fails here, at start-up, not at the first search.
  if (config.backend !== 'usearch') createVectorIndex(config.backend, options);
  let client: IndexClient | undefined;
  let seq = 0;
  let unsaved = 0;
  let opened: Promise<OpenResult> | undefined;
  let closed = false;
  let rebuilding = false;
  // One operation at a time: a search never sees half a rebuild or half a replay.
  let chain: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => undefined);
    return run;
  };

  const worker = (): IndexClient => {
    if (!client || client.dead) client = new IndexClient({ backend: config.backend, options });
    return client;
  };

  async function addKeys(keys: bigint[]): Promise<number> {
    if (keys.length === 0) return 0;
    const found = cases.vectors(keys, model);
    const have = new Set(found.map((v) => v.caseKey));
    // A case re-pointed to an instance without an embedding for this model leaves the index.
    const gone = keys.filter((k) => !have.has(k));
    if (gone.length > 0) await worker().request({ op: 'remove', keys: gone });
    if (found.length > 0)
      await addVectors(
        found.map((v) => v.caseKey),
        found.map((v) => v.vector),
      );
    return keys.length;
  }

  async function addVectors(keys: bigint[], vectors: Float32Array[]): Promise<void> {
    const flat = new Float32Array(keys.length * model.dimensions);
    vectors.forEach((v, i) => {
      if (v.length !== model.dimensions) throw new Error(`stored embedding has ${v.length} dimensions, the model ${model.dimensions}`);
      flat.set(v, i * model.dimensions);
    });
    const keyArray = BigUint64Array.from(keys);
    await worker().request({ op: 'add', keys: keyArray, vectors: flat }, [flat.buffer, keyArray.buffer]);
  }

  async function replay(): Promise<number> {
    let applied = 0;
    for (;;) {
      const changes = cases.changes(seq, LOG_BATCH);
      if (changes.length === 0) break;
      // Consecutive operations of one kind go together; order between kinds is kept.
      let run: { op: 'add' | 'remove'; keys: bigint[] } | undefined;
      const flush = async (): Promise<void> => {
        if (!run) return;
        if (run.op === 'add') await addKeys([...new Set(run.keys)]);
        else await worker().request({ op: 'remove', keys: run.keys });
        run = undefined;
      };
      for (const c of changes) {
        if (run && run.op !== c.op) await flush();
        run ??= { op: c.op, keys: [] };
        run.keys.push(c.caseKey);
      }
      await flush();
      seq = changes[changes.length - 1]?.seq ?? seq;
      applied += changes.length;
      if (changes.length < LOG_BATCH) break;
    }
    unsaved += applied;
    if (unsaved >= config.saveAfterChanges) await saveNow();
    return applied;
  }

  async function saveNow(): Promise<void> {
    mkdirSync(deps.dir, { recursive: true });
    const meta = await worker().request({ op: 'save', file, identity, seq });
    unsaved = 0;
    log.debug({ file, size: meta.size, mode: meta.mode, seq }, 'index file saved');
  }

  async function rebuildNow(reason: string): Promise<OpenResult> {
    rebuilding = true;
    try {
      return await rebuildSteps(reason);
    } finally {
      rebuilding = false;
    }
  }

  async function rebuildSteps(reason: string): Promise<OpenResult> {
    const started = Date.now();
    const startSeq = cases.lastSeq();
    const total = cases.count(model);
    log.info({ reason, cases: total, model: `${model.name}@${model.version}`, file }, 'rebuilding the similar-case index from the catalog');
    await worker().request({ op: 'reset' });
    const bar = deps.progress?.('index rebuild', total);
    let done = 0;
    let after = 0n;
    try {
      for (;;) {
        const page = cases.vectorPage(model, after, PAGE);
        if (page.length === 0) break;
        await addVectors(
          page.map((v) => v.caseKey),
          page.map((v) => v.vector),
        );
        after = page[page.length - 1]?.caseKey ?? after;
        done += page.length;
        bar?.update(done);
        await yieldLoop();
      }
    } finally {
      bar?.stop();
    }
    seq = startSeq;
    await replay();
    await saveNow();
    const stats = await worker().request({ op: 'stats' });
    log.info({ ...stats, ms: Date.now() - started }, 'similar-case index rebuilt');
    return { rebuilt: true, reason, ...stats, ms: Date.now() - started };
  }

  async function openNow(): Promise<OpenResult> {
    const started = Date.now();
    const reply = await worker().request({ op: 'open', file, identity });
    if (!reply.loaded) {
      if (reply.reason !== 'missing') log.warn({ file, reason: reply.reason }, 'index file not usable');
      return rebuildNow(reply.reason);
    }
    seq = reply.seq;
    await replay();
    const stats = await worker().request({ op: 'stats' });
    const expected = cases.count(model);
    if (stats.size !== expected) return rebuildNow(`inconsistent: file holds ${stats.size} vectors, the catalog ${expected}`);
    log.info({ file, ...stats, ms: Date.now() - started }, 'similar-case index loaded');
    return { rebuilt: false, ...stats, ms: Date.now() - started };
  }

  /** Opens once; a dead worker (crash) is replaced by loading the file again. */
  async function ready(): Promise<void> {
    if (closed) throw new Error('index manager is closed');
    if (client?.dead) opened = undefined;
    opened ??= openNow().catch((err: unknown) => {
      opened = undefined;
      throw err;
    });
    await opened;
  }

  return {
    file,
    model,
    open: () =>
      exclusive(async () => {
        await ready();
        return (await opened) as OpenResult;
      }),
    sync: () =>
      exclusive(async () => {
        await ready();
        return replay();
      }),
    search: (queries, k, exclude) =>
      exclusive(async () => {
        await ready();
        await replay();
        return worker().request({ op: 'search', queries, k, exclude });
      }),
    rebuild: (reason) =>
      exclusive(async () => {
        const result = rebuildNow(reason);
        opened = result;
        return result;
      }),
    save: () =>
      exclusive(async () => {
        await ready();
        await saveNow();
      }),
    stats: () =>
      exclusive(async () => {
        await ready();
        return { ...(await worker().request({ op: 'stats' })), seq };
      }),
    async close() {
      if (closed) return;
      closed = true;
      // A rebuild in progress is abandoned (the next start rebuilds again) rather than awaited.
      if (rebuilding) {
        await client?.close();
        return;
      }
      await exclusive(async () => {
        try {
          if (opened && client && !client.dead) {
            await opened.catch(() => undefined);
            if (unsaved > 0) await saveNow();
          }
        } finally {
          await client?.close();
        }
      });
    },
  };
}
