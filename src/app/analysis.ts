// Assembles the analysis side of `serve`: decode -> embed -> catalog -> archive -> results -> export,
// in this process (in-process workers), or from remote workers' results (workers.inProcess off: the
// node stays the only writer). `precedent worker` (app/worker.ts) shares only the embedder's options.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from '../shared/log.js';
import type { Catalog, EmbeddedStudy } from '../shared/catalog.js';
import type { FileStore } from '../shared/files.js';
import type { AnalyzeStudyJob, JobQueue } from '../shared/types.js';
import { instrumentStudyHandler, noMetrics, type Metrics } from '../shared/metrics.js';
import { logProgress } from '../shared/progress.js';
import { createResultApplier, createStudyEmbedding, failAbandonedStudies, studyJobHandler, type StudyAnalysis } from '../jobs/index.js';
import { createBullQueue, createInProcessQueue, createResultsQueue } from '../queue/index.js';
import { createWorkerApi, writeLocalEndpoint, type WorkerApi } from '../remote/index.js';
import { openArchive, type Archive, type ImportContext, referenceAvailable } from '../archive/index.js';
import { createResults } from './results.js';
import { openObjectIndex, catalogFile } from '../store/index.js';
import type { Exporter } from '../export/index.js';
import { describeError } from '../shared/errors.js';
import { embedderOptions } from '../embed/options.js';
import type { ResultsQueue } from '../queue/index.js';

export interface AnalysisRuntime {
  /** Model name@version and device, for readiness reporting. */
  describe(): string;
  /** The historical archive (case store, similar-case index); absent with an injected analysis. */
  archive?: Archive;
  /** What an import into this archive needs (the reference archive at start-up); absent with an injected analysis. */
  importer?: ImportContext;
  /** The model name@version of this node's index (absent with an injected analysis). */
  model?: { name: string; version: string };
  close(): Promise<void>;
}

export function createQueue(config: Config, log: Logger): JobQueue {
  const retry = { attempts: config.queue.attempts, backoffSeconds: config.queue.backoffSeconds };
  if (config.queue.redisUrl) {
    return createBullQueue({
      ...retry,
      redisUrl: config.queue.redisUrl,
      prefix: config.queue.prefix,
      concurrency: config.workers.concurrency,
      lockSeconds: config.queue.lockSeconds,
      log,
    });
  }
  return createInProcessQueue({ ...retry, concurrency: config.workers.concurrency, log });
}

/** workers.inProcess off: the queue on which remote workers hand their results to this node. */
export function remoteResults(config: Config, log: Logger): ResultsQueue {
  return createResultsQueue({
    redisUrl: config.queue.redisUrl ?? '',
    prefix: config.queue.prefix,
    lockSeconds: config.queue.lockSeconds,
    log: log.child({ component: 'queue' }),
  });
}

/** The worker API (remote/worker-api.ts): for remote workers with workers.token, for same-host ones without. */
async function startWorkerApi(
  config: Config,
  log: Logger,
  catalog: Catalog,
  files: FileStore,
  model: { name: string; version: string },
): Promise<WorkerApi | undefined> {
  const apiLog = log.child({ component: 'worker-api' });
  if (!config.workers.token) {
    // No token configured: same-host workers only. Loopback, a free port and a token made now, told to
    // them through a 0600 file in the data directory (remote/local-endpoint.ts).
    const token = randomBytes(24).toString('hex');
    const api = createWorkerApi({ host: '127.0.0.1', port: 0, token, catalog, absolute: (p) => files.absolute(p), model: () => model, log: apiLog });
    const port = await api.listen();
    writeLocalEndpoint(files.dataDir, { nodeUrl: `http://127.0.0.1:${port}`, token });
    apiLog.warn(
      { port },
      'workers.token is unset: the worker API listens on loopback only, for `precedent worker`s on this machine; set workers.token (PRECEDENT_WORKERS__TOKEN) for workers on other machines',
    );
    return api;
  }
  const api = createWorkerApi({
    host: config.workers.apiHost,
    port: config.workers.apiPort,
    token: config.workers.token,
    catalog,
    absolute: (p) => files.absolute(p),
    model: () => model,
    log: apiLog,
  });
  const port = await api.listen();
  apiLog.info({ host: config.workers.apiHost, port }, 'worker API listening for remote workers');
  return api;
}

export function modelPresent(config: Config): boolean {
  return existsSync(join(resolve(config.model.dir), 'model.onnx'));
}

/**
 * Decoded pixels kept between a job's analysis and its results (float32: 26 MB for a 2,500 x 2,600
 * radiograph, so about ten of them); beyond it the heatmap decodes its source again.
 */
const RECENT_IMAGE_BYTES = 256 * 1024 * 1024;

/**
 * An archive with no cases and no reference archive coming (archive.reference off, or its folder
 * missing): every SR then says so. Said at start-up too, so that whoever installs the node learns it
 * before the first study, with what to do about it.
 */
function warnIfArchiveEmpty(archive: Archive, config: Config, log: Logger): void {
  if (archive.cases.count() > 0 || referenceAvailable(config)) return;
  log.warn(
    { cases: 0 },
    'the similar-case archive has no reference cases: results will say "No reference cases in the archive" until the site archive is imported (`precedent import`, see README)',
  );
}

/**
 * Registers the study worker on `queue`. With `analyze` given (tests), that function is the work;
 * otherwise the real pipeline is built from config.model and config.inference.
 */
export async function startAnalysis(
  config: Config,
  log: Logger,
  deps: {
    catalog: Catalog;
    files: FileStore;
    queue: JobQueue;
    now: () => number;
    analyze?: StudyAnalysis;
    metrics?: Metrics;
    /** Where delivered result objects go (serve's exporter). */
    exporter: Pick<Exporter, 'destinationsFor' | 'submit'>;
    /** workers.inProcess off: remote workers embed, this node applies their results (the only writer). */
    remoteResults?: ResultsQueue;
  },
): Promise<AnalysisRuntime> {
  let analyze = deps.analyze;
  let close = async (): Promise<void> => undefined;
  let description = 'injected analysis';
  let archive: Archive | undefined;
  let importer: ImportContext | undefined;
  let model: { name: string; version: string } | undefined;
  if (!analyze) {
    // Loaded only when a model is used: a node without one never pays for ONNX Runtime and codecs.
    const [{ createDecoderPool, rememberDecoded }, { createEmbedder }, { createResultRenderer }] = await Promise.all([
      import('../decode/index.js'),
      import('../embed/index.js'),
      import('../render/index.js'),
    ]);
    const embedder = await createEmbedder(embedderOptions(config, log));
    deps.metrics?.observeEmbedder(() => embedder.stages);
    const decoder = createDecoderPool({ threads: config.workers.imageThreads, log: log.child({ component: 'decode' }) });
    // What the analysis decodes is kept for the heatmap of the same job (up to RECENT_IMAGE_BYTES).
    const recent = rememberDecoded(decoder, RECENT_IMAGE_BYTES);
    const embed = createStudyEmbedding({
      catalog: deps.catalog,
      decoder: recent.decoder,
      embedder,
      resolvePath: (p) => deps.files.absolute(p),
      now: deps.now,
    });
    // After embedding: archive studies become cases, clinical ones get their similar cases (archive/archive.ts).
    const { card } = embedder;
    archive = openArchive({
      config,
      log,
      dataDir: resolve(config.storage.dataDir),
      catalog: deps.catalog,
      model: { name: card.name, version: card.version, dimensions: card.embeddingDimension },
      resolvePath: (p) => deps.files.absolute(p),
      progress: logProgress(log.child({ component: 'index' })),
      now: deps.now,
    });
    const opened = archive;
    warnIfArchiveEmpty(opened, config, log);
    // Load or rebuild the index file now, in the background: DIMSE does not wait for it.
    opened.index.open().catch((err: unknown) => log.error({ err: describeError(err) }, 'similar-case index cannot be opened; retried on the next search'));
    // Decoding and drawing run on their own threads: never on the event loop that answers associations.
    const renderer = createResultRenderer({ threads: config.workers.imageThreads, log: log.child({ component: 'render' }) });
    const objects = openObjectIndex(catalogFile(resolve(config.storage.dataDir)));
    const results = createResults({
      catalog: deps.catalog,
      files: deps.files,
      exporter: deps.exporter,
      objects,
      renderer,
      sourceImage: (path) => recent.take(path),
      thumbnails: (keys) => opened.cases.thumbnails(keys),
      storeThumbnails: (thumbnails) => opened.cases.putThumbnails(thumbnails),
      card,
      retrieve: (uid, l) => opened.retrieve(uid, l),
      dicomweb: config.dicomweb.enabled,
      now: deps.now,
    });
    // The study pipeline: each step hands what it read and made to the next (the embedded study with
    // its catalog rows and file headers, then the similar cases just found), so nothing is read twice.
    // A remote worker's result enters after embedding, where the steps read the same from the catalog.
    const afterEmbedding = async (job: AnalyzeStudyJob, jobLog: Logger, embedded?: EmbeddedStudy): Promise<void> => {
      const outcome = await opened.onStudyEmbedded(job.StudyInstanceUID, jobLog, embedded);
      await results(job, jobLog, { retrievals: outcome.results, study: outcome.study });
    };
    analyze = async (job, jobLog) => afterEmbedding(job, jobLog, await embed(job, jobLog));
    model = { name: card.name, version: card.version };
    close = async () => {
      await embedder.close();
      await decoder.close();
      await renderer.close();
      await opened.close();
      objects.close();
    };
    description = `${embedder.card.name}@${embedder.card.version} on ${embedder.device}`;
    if (deps.remoteResults) {
      const remote = deps.remoteResults;
      const api = await startWorkerApi(config, log, deps.catalog, deps.files, model);
      remote.consume(
        createResultApplier({
          catalog: deps.catalog,
          model,
          afterEmbedding,
          log: log.child({ component: 'results' }),
          ...(deps.metrics ? { metrics: deps.metrics } : {}),
          now: deps.now,
        }),
      );
      const resultsLog = log.child({ component: 'results' });
      const sweep = (): void =>
        void deps.queue
          .failed()
          .then((failed) => failAbandonedStudies({ catalog: deps.catalog, log: resultsLog, now: deps.now }, failed))
          .catch((err: unknown) => resultsLog.warn({ err: describeError(err) }, 'cannot list failed analysis jobs; tried again later'));
      const sweeper = setInterval(sweep, config.queue.lockSeconds * 1000);
      sweeper.unref();
      sweep();
      const closeLocal = close;
      description += ', embedding by remote workers';
      close = async () => {
        clearInterval(sweeper);
        await api?.close();
        await remote.close();
        await closeLocal();
      };
    }
    importer = { archive: opened, embedder, catalog: deps.catalog, dicomDecoder: decoder };
  }
  if (deps.remoteResults) {
    log.info({ analysis: description }, 'analysis by remote workers: this node applies their results');
  } else {
    const handler = studyJobHandler({ catalog: deps.catalog, log: log.child({ component: 'worker' }), analyze, now: deps.now });
    const isDone = (job: { StudyInstanceUID: string; generation: number }): boolean => {
      const study = deps.catalog.study(job.StudyInstanceUID);
      return study?.generation === job.generation && study.state === 'done';
    };
    deps.queue.process(instrumentStudyHandler(handler, deps.metrics ?? noMetrics, isDone));
    log.info({ analysis: description, queue: deps.queue.backend, concurrency: config.workers.concurrency }, 'analysis workers started');
  }
  return { describe: () => description, close, ...(archive ? { archive } : {}), ...(importer ? { importer } : {}), ...(model ? { model } : {}) };
}
