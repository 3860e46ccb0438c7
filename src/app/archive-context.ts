// What the archive commands (import, query, cases, labels, monitor) open: config, a stderr logger, the catalog
// and, when a model is needed, the embedder and the archive (case store + the model's index).
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { PHI_DIR_MODE } from '../shared/files.js';
import { join, resolve } from 'node:path';
import { destination } from 'pino';
import type { Config } from '../config/schema.js';
import type { Catalog } from '../shared/catalog.js';
import type { Embedder, ImageDecoder } from '../shared/analysis.js';
import type { CaseStore } from '../shared/case-store.js';
import { createLogger, type Logger } from '../shared/log.js';
import { barProgress } from '../shared/progress.js';
import { describeError } from '../shared/errors.js';
import { loadConfigOrExit } from '../config/index.js';
import { openCatalog, openCaseStore, openFileStore, catalogFile } from '../store/index.js';
import { createIndexManager, type IndexFileMeta } from '../index/index.js';
import { openArchive, type Archive } from '../archive/index.js';
import { embedderOptions } from '../embed/options.js';

export interface CommonOptions {
  config?: string;
  model?: string;
  verbose?: boolean;
}

export interface Base {
  config: Config;
  log: Logger;
  dataDir: string;
}

export interface ModelContext extends Base {
  catalog: Catalog;
  archive: Archive;
  embedder: Embedder;
  dicomDecoder: ImageDecoder;
  close(): Promise<void>;
}

export function base(opts: CommonOptions): Base {
  const config = loadConfigOrExit(opts.config);
  if (opts.model) config.model.dir = opts.model;
  // Logs go to stderr (stdout is the command's output); warnings only unless --verbose.
  const log = createLogger(opts.verbose ? 'info' : 'warn', destination(2));
  const dataDir = resolve(config.storage.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: PHI_DIR_MODE });
  return { config, log, dataDir };
}

/** Opens the catalog, the embedder of config.model.dir and the archive with its index (not loaded yet). */
export async function openModelContext(opts: CommonOptions): Promise<ModelContext> {
  const b = base(opts);
  const catalog = openCatalog(catalogFile(b.dataDir));
  const [{ createDecoderPool }, { createEmbedder }] = await Promise.all([import('../decode/index.js'), import('../embed/index.js')]);
  let embedder: Embedder;
  try {
    embedder = await createEmbedder({ ...embedderOptions(b.config, b.log), fallbackLevel: 'debug' });
  } catch (err) {
    catalog.close();
    throw err;
  }
  const files = openFileStore(b.dataDir);
  const { card } = embedder;
  let archive: Archive;
  try {
    archive = openArchive({
      config: b.config,
      log: b.log,
      dataDir: b.dataDir,
      catalog,
      model: { name: card.name, version: card.version, dimensions: card.embeddingDimension },
      resolvePath: (p) => files.absolute(p),
      progress: barProgress(),
    });
  } catch (err) {
    await embedder.close();
    catalog.close();
    throw err;
  }
  // DICOM files decode on worker threads, workers.imageThreads of them at once (import decodes a
  // batch in parallel: full-size archive images take 0.1-1 s each).
  const dicomDecoder = createDecoderPool({ threads: b.config.workers.imageThreads, log: b.log.child({ component: 'decode' }) });
  return {
    ...b,
    catalog,
    archive,
    embedder,
    dicomDecoder,
    async close() {
      await archive.close();
      await embedder.close();
      await dicomDecoder.close();
      catalog.close();
    },
  };
}

/** The catalog and case store only (labels, erasure): no model needed. */
export function openCaseContext(opts: CommonOptions): Base & { catalog: Catalog; cases: CaseStore; close(): void } {
  const b = base(opts);
  const catalog = openCatalog(catalogFile(b.dataDir));
  const cases = openCaseStore(catalogFile(b.dataDir));
  return {
    ...b,
    catalog,
    cases,
    close() {
      cases.close();
      catalog.close();
    },
  };
}

/**
 * Brings every index file under dataDir/index up to date with the case log (after an erasure), whatever
 * model built it: each is loaded, replays the log, and is saved. Returns "file: size" lines.
 */
export async function refreshIndexFiles(ctx: Base & { cases: CaseStore }): Promise<string[]> {
  const dir = join(ctx.dataDir, 'index');
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    let meta: IndexFileMeta;
    try {
      meta = JSON.parse(readFileSync(join(dir, name), 'utf8')) as IndexFileMeta;
    } catch {
      continue;
    }
    const manager = createIndexManager({
      dir,
      model: { name: meta.modelName, version: meta.modelVersion, dimensions: meta.dimensions },
      config: { ...ctx.config.index, backend: meta.backend, dtype: meta.dtype, connectivity: meta.connectivity },
      cases: ctx.cases,
      log: ctx.log,
      progress: barProgress(),
    });
    try {
      const opened = await manager.open();
      await manager.save();
      out.push(`${manager.file}: ${opened.size} vectors${opened.rebuilt ? ` (rebuilt: ${opened.reason ?? ''})` : ''}`);
    } catch (err) {
      out.push(`${manager.file}: not updated (${describeError(err).message}); it is replayed or rebuilt when next opened`);
    } finally {
      await manager.close();
    }
  }
  return out;
}
