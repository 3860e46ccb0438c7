// The HTTP surfaces of `precedent serve` and `precedent worker`, assembled for the composition roots
// (app/serve.ts, app/worker.ts): the DICOMweb edge (STOW-RS into ingest, QIDO/WADO of results) and the
// operations API (health, readiness, Prometheus metrics, study status).
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Logger } from '../shared/log.js';
import type { Catalog } from '../shared/catalog.js';
import type { FileStore } from '../shared/files.js';
import type { IngestService, JobQueue } from '../shared/types.js';
import type { ObjectIndex } from '../shared/dicom-objects.js';
import type { StatusReader } from '../shared/node-status.js';
import { openStatusReader, catalogFile } from '../store/index.js';
import { createDicomwebServer, type DicomwebServer } from '../dicomweb/index.js';
import { createPixelPool, type PixelPool } from '../decode/index.js';
import { createOpsServer, nodeChecks, type CheckResult, type OpsServer, type PromMetrics, type ReadinessCheck } from '../ops/index.js';

export interface SurfaceDeps {
  metrics: PromMetrics;
  /** The instrumented ingest (shared/metrics.ts instrumentIngest), the same the DIMSE edge uses. */
  ingest: IngestService;
  catalog: Catalog;
  files: FileStore;
  queue: JobQueue;
  /** Every stored object, for QIDO-RS and WADO-RS. */
  objects: ObjectIndex;
  /** Describes the analysis runtime once started (undefined: none in this process). */
  analysis: () => { describe(): string } | undefined;
  /** More readiness checks (the report monitor). */
  extraChecks?: ReadinessCheck[];
  /** More DICOMweb routes behind its authentication (FHIR DiagnosticReport intake). */
  dicomwebRoutes?: (app: FastifyInstance) => void;
}

export interface Surfaces {
  /** Opens the operations port (first thing in start(): /healthz answers while the rest starts). */
  startOps(): Promise<number | undefined>;
  /** Opens the DICOMweb port (when enabled) and marks the node ready. */
  startDicomweb(): Promise<number | undefined>;
  /** Stops DICOMweb first (no new objects), the operations API last. */
  stop(): Promise<void>;
}

export function modelState(config: Config, analysis: { describe(): string } | undefined): CheckResult {
  if (analysis) return { ok: true, detail: `loaded: ${analysis.describe()}` };
  // With remote workers too: the node applies their results with its model's card and index.
  if (!config.workers.inProcess)
    return { ok: true, detail: `absent: no model.onnx in model.dir (${config.model.dir}); results of remote workers wait until it is installed` };
  return { ok: true, detail: `absent: no model.onnx in model.dir (${config.model.dir}); complete studies wait in the queue` };
}

export function createSurfaces(config: Config, log: Logger, deps: SurfaceDeps): Surfaces {
  const { metrics, files, catalog, queue } = deps;
  metrics.setSources({
    queueDepth: () => queue.depth(),
    diskFreeBytes: () => files.freeBytes(),
    minFreeBytes: config.storage.minFreeBytes,
  });
  let status: StatusReader | undefined;
  let ops: OpsServer | undefined;
  // WADO-RS frames, transcoding and pictures on their own decoding threads (workers.imageThreads),
  // started by the first request that needs one.
  const pixels: PixelPool | undefined = config.dicomweb.enabled
    ? createPixelPool({ threads: config.workers.imageThreads, log: log.child({ component: 'wado-pixels' }) })
    : undefined;
  const dicomweb: DicomwebServer | undefined = config.dicomweb.enabled
    ? createDicomwebServer({
        config: config.dicomweb,
        ingest: deps.ingest,
        objects: deps.objects,
        pixels: pixels as PixelPool,
        log: log.child({ component: 'dicomweb' }),
        dataDir: files.dataDir,
        minFreeBytes: config.storage.minFreeBytes,
        diskFreeBytes: () => files.freeBytes(),
        calledAETitle: config.dimse.aeTitle,
        ...(deps.dicomwebRoutes ? { routes: deps.dicomwebRoutes } : {}),
      })
    : undefined;

  return {
    async startOps() {
      if (!config.ops.enabled) return undefined;
      // Its own read-only connection; the catalog (opened before) has created the tables.
      const reader = openStatusReader(catalogFile(files.dataDir));
      status = reader;
      metrics.setSources({ studiesByState: () => reader.summary(0).studies });
      ops = createOpsServer({
        host: config.ops.host,
        port: config.ops.port,
        readinessTimeoutSeconds: config.ops.readinessTimeoutSeconds,
        metrics,
        status: reader,
        log: log.child({ component: 'ops' }),
        checks: [
          ...nodeChecks({
            catalog: () => catalog.instanceCount(),
            queueDepth: () => queue.depth(),
            diskFreeBytes: () => files.freeBytes(),
            minFreeBytes: config.storage.minFreeBytes,
            model: () => modelState(config, deps.analysis()),
          }),
          ...(deps.extraChecks ?? []),
        ],
      });
      try {
        return await ops.listen();
      } catch (err) {
        // Monitoring must never stop a node from receiving images: run without the API, loudly.
        log.error({ err: err instanceof Error ? err.message : String(err), port: config.ops.port }, 'operations API cannot listen; continuing without it');
        ops = undefined;
        return undefined;
      }
    },
    async startDicomweb() {
      const port = dicomweb ? await dicomweb.listen() : undefined;
      ops?.setLifecycle('running');
      return port;
    },
    async stop() {
      ops?.setLifecycle('stopping');
      await dicomweb?.close();
      await pixels?.close();
      await ops?.close();
      status?.close();
    },
  };
}

/** `precedent worker`'s operations API (ops.workerPort): health, readiness, metrics; no catalog, no disk. */
export function createWorkerSurfaces(
  config: Config,
  log: Logger,
  deps: Pick<SurfaceDeps, 'metrics' | 'queue' | 'analysis'>,
): Pick<Surfaces, 'stop'> & { start(): Promise<number | undefined> } {
  const port = config.ops.workerPort;
  deps.metrics.setSources({ queueDepth: () => deps.queue.depth() });
  const ops =
    port === undefined
      ? undefined
      : createOpsServer({
          host: config.ops.host,
          port,
          readinessTimeoutSeconds: config.ops.readinessTimeoutSeconds,
          metrics: deps.metrics,
          log: log.child({ component: 'ops' }),
          checks: [
            { name: 'queue', run: async () => ({ ok: true, detail: `${await deps.queue.depth()} jobs waiting or running` }) },
            { name: 'model', run: () => (deps.analysis() ? modelState(config, deps.analysis()) : { ok: false, detail: 'analysis not started' }) },
          ],
        });
  return {
    async start() {
      if (!ops) return undefined;
      const p = await ops.listen();
      ops.setLifecycle('running');
      return p;
    },
    async stop() {
      ops?.setLifecycle('stopping');
      await ops?.close();
    },
  };
}
