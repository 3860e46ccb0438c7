// The composition root of `precedent serve`: the only module that knows every capability. Everything is built from the
// config passed in; nothing reads globals.
import { mkdirSync } from 'node:fs';
import { PHI_DIR_MODE, type FileStore } from '../shared/files.js';
import { describeError } from '../shared/errors.js';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from '../shared/log.js';
import type { IngestOutcome, JobQueue } from '../shared/types.js';
import type { Catalog } from '../shared/catalog.js';
import { backfillObjectIndex, openCatalog, openFileStore, openObjectIndex, catalogFile } from '../store/index.js';
import { createIngest } from '../ingest/index.js';
import { createDimseServer } from '../dimse/server.js';
import { checkRedis } from '../queue/index.js';
import { createStudyScheduler, type StudyAnalysis } from '../jobs/index.js';
import { createQueue, modelPresent, remoteResults, startAnalysis, type AnalysisRuntime } from './analysis.js';
import { type Archive, importReferenceArchive } from '../archive/index.js';
import { instrumentIngest } from '../shared/metrics.js';
import { createPromMetrics } from '../ops/index.js';
import { createSurfaces } from './surfaces.js';
import { openCaseStore, openExportOutbox, openReportStore, openRetention } from '../store/index.js';
import { createExporter, type Destination } from '../export/index.js';
import { allowedHostsLockout } from '../config/hosts.js';
import { createRunningMonitor } from '../monitor/index.js';
import type { ReportStore, StoredReport } from '../shared/reports.js';
import type { CaseStore } from '../shared/case-store.js';
import {
  createLabeller,
  createMllpServer,
  createReportIntake,
  DEFAULT_RULES_FILE,
  matchReportsOnIngest,
  registerFhirRoutes,
  reportCaseLabels,
  reportRules,
} from '../reports/index.js';
import { runService } from './run-service.js';

export interface NodeOptions {
  /** Replaces the decode/embed pipeline (tests); otherwise it is built from config.model. */
  analyze?: StudyAnalysis;
  now?: () => number;
  onStored?: (outcome: IngestOutcome) => void;
}

export interface PrecedentNode {
  readonly catalog: Catalog;
  readonly queue: JobQueue;
  readonly dataDir: string;
  /** Radiology reports received (HL7 MLLP, FHIR, DICOM SR), with their labels and study matches. */
  readonly reports: ReportStore;
  /** dicomwebPort / opsPort: undefined when that listener is disabled (dicomweb.enabled, ops.enabled). */
  start(): Promise<{ dimsePort: number; requeued: number; dicomwebPort: number | undefined; opsPort: number | undefined; mllpPort: number | undefined }>;
  /** Graceful: stop accepting, let open associations finish (up to graceMs), finish running jobs. */
  stop(graceMs?: number): Promise<void>;
  /** For tests: check for complete studies now instead of waiting for the next pass. */
  checkStudies(): Promise<number>;
  /** Settles when the start-up import of the reference archive is over (at once when there is none). */
  referenceImported(): Promise<void>;
  /** The historical archive once analysis runs here with a model (case store, similar-case index). */
  archive(): Archive | undefined;
}

export function buildNode(config: Config, log: Logger, options: NodeOptions = {}): PrecedentNode {
  const now = options.now ?? Date.now;
  const dataDir = resolve(config.storage.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: PHI_DIR_MODE });
  const files = openFileStore(dataDir, now);
  const catalog = openCatalog(catalogFile(dataDir));
  // One registry per node (ops/); every object either edge receives is counted in ingest's wrapper.
  const metrics = createPromMetrics();
  // Reports live in the catalog database; every stored object lets waiting reports find their study.
  const reports = openReportStore(catalogFile(dataDir));
  const reportLog = log.child({ component: 'reports' });
  // The archive's cases (and stored results, which the monitor reads) in the same database.
  const caseStore = openCaseStore(catalogFile(dataDir));
  const intake = createReportIntake({
    store: reports,
    labeller: createLabeller(reportRules(config.reports.rulesFile)),
    log: reportLog,
    now,
    ...(config.archive.indexIncoming ? { onStored: (report: StoredReport) => labelIncomingCases(report, caseStore, config, reportLog, now) } : {}),
  });
  const ingest = matchReportsOnIngest(instrumentIngest(createIngest({ catalog, files, storage: config.storage, now }), metrics), reports, reportLog, intake);
  const mllp = config.reports.mllp ? createMllpServer({ ...config.reports.mllp, intake, log: reportLog, now }) : undefined;
  const dimse = createDimseServer({
    config: config.dimse,
    // The archive AE title (if set) is answered too: what it receives becomes archive cases (archive.ts).
    aeTitles: config.dimse.archiveAeTitle ? [config.dimse.aeTitle, config.dimse.archiveAeTitle] : [config.dimse.aeTitle],
    ingest,
    log: log.child({ component: 'dimse' }),
    ...(options.onStored ? { onStored: options.onStored } : {}),
  });
  const queue = createQueue(config, log.child({ component: 'queue' }));
  const scheduler = createStudyScheduler({ catalog, queue, studies: config.studies, log: log.child({ component: 'studies' }), now });
  let analysis: AnalysisRuntime | undefined;
  let referenceImport: Promise<void> | undefined;
  const stopping = new AbortController();
  // Results reach the PACS from the durable outbox; workers on other machines fill the same outbox.
  const outbox = openExportOutbox(catalogFile(dataDir));
  const destinations: Destination[] = config.export.destinations.map((d) =>
    'url' in d ? { kind: 'stow', name: d.name, url: d.url, token: d.token, basic: d.basic, forCallingAETitles: d.forCallingAETitles } : { kind: 'dimse', ...d },
  );
  const exporter = createExporter({
    outbox,
    destinations,
    callingAETitle: config.export.callingAETitle,
    maxAttempts: config.export.maxAttempts,
    backoffSeconds: config.export.backoffSeconds,
    maxBackoffSeconds: config.export.maxBackoffSeconds,
    timeoutSeconds: config.export.timeoutSeconds,
    stowBatchMaxBytes: config.export.stowBatchMaxBytes,
    checkIntervalSeconds: config.export.checkIntervalSeconds,
    log: log.child({ component: 'export' }),
    metrics,
    now,
  });
  // The node's calls against the radiologists' reports (monitor/), on the stored retrieval results.
  const monitor = createRunningMonitor({
    reports,
    retrievals: (study) => caseStore.retrievals(study),
    config: config.monitor,
    registry: metrics.registry,
    log: log.child({ component: 'monitor' }),
    now,
  });
  // What QIDO-RS searches and WADO-RS serves: every stored object (catalog.ts and results.ts fill it).
  const objects = openObjectIndex(catalogFile(dataDir));
  const surfaces = createSurfaces(config, log, {
    metrics,
    ingest,
    catalog,
    files,
    queue,
    objects,
    analysis: () => analysis,
    dicomwebRoutes: (app) => registerFhirRoutes(app, { intake, log: reportLog }),
    extraChecks: [{ name: 'reports', run: () => monitor.check() }],
  });
  const retention = startRetention(config, files, catalogFile(dataDir), log.child({ component: 'retention' }), now);

  return {
    catalog,
    queue,
    dataDir,
    reports,
    async start() {
      const lockout = allowedHostsLockout(config.dimse.host, config.dimse.allowedHosts);
      if (lockout)
        log.warn({ allowedHosts: config.dimse.allowedHosts, why: lockout }, 'dimse.allowedHosts lets no peer in: every association will be rejected');
      const opsPort = await surfaces.startOps();
      // Objects are created in their day's folder as they arrive: one a crash cut short has a file but
      // no catalog row. Only folders changed since a day before the last recorded object can hold one
      // (a transfer that began before midnight is filed under the day it began).
      const since = (catalog.lastReceivedAt() ?? 0) - 24 * 3600 * 1000;
      const swept = files.sweepTemp() + files.sweepUncatalogued((sop, path) => catalog.instanceVersions(sop).some((v) => v.path === path), since);
      if (swept > 0) log.warn({ swept }, 'removed partial transfers left by a previous run (none was acknowledged)');
      backfillObjectIndex(catalogFile(dataDir), dataDir, log);
      if (config.queue.redisUrl) await checkRedis(config.queue.redisUrl, log);
      const remote = !config.workers.inProcess;
      if (remote) log.info('workers.inProcess is off: complete studies are queued for remote `precedent worker` processes; this node applies their results');
      if ((options.analyze && !remote) || modelPresent(config)) {
        analysis = await startAnalysis(config, log, {
          ...(remote ? { remoteResults: remoteResults(config, log) } : {}),
          catalog,
          files,
          queue,
          now,
          metrics,
          exporter,
          ...(options.analyze ? { analyze: options.analyze } : {}),
        });
      } else {
        log.warn({ modelDir: config.model.dir }, 'no model at model.dir: complete studies are queued and wait until a model is installed');
      }
      const { requeued } = await scheduler.start();
      exporter.start();
      const dimsePort = await dimse.listen();
      const dicomwebPort = await surfaces.startDicomweb();
      const mllpPort = await mllp?.listen();
      monitor.start();
      if (destinations.length === 0 && !config.dicomweb.enabled) {
        // The defaults: results are nowhere but on disk, and a first user would otherwise not find them.
        log.warn(
          { results: join(dataDir, 'results') },
          `no export destination and DICOMweb off: results are written as DICOM files under ${join(dataDir, 'results')} only`,
        );
      }
      retention.start();
      // After the listeners: C-STOREs are accepted while the reference cases are embedded.
      if (analysis?.importer)
        referenceImport = importReferenceArchive(config, dataDir, analysis.importer, log.child({ component: 'reference' }), stopping.signal);
      log.info({ dataDir, dimsePort, instances: catalog.instanceCount() }, 'Precedent node started');
      return { dimsePort, requeued, dicomwebPort, opsPort, mllpPort };
    },
    async stop(graceMs = 5000) {
      retention.stop();
      // The import in flight finishes its batch before the embedder and the catalog close under it.
      stopping.abort();
      await referenceImport;
      await surfaces.stop();
      monitor.stop();
      await mllp?.close();
      await dimse.close(graceMs);
      scheduler.stop();
      await queue.close();
      await analysis?.close();
      await exporter.stop();
      outbox.close();
      objects.close();
      caseStore.close();
      reports.close();
      catalog.close();
      files.close();
      log.info('Precedent node stopped');
    },
    checkStudies: () => scheduler.tick(),
    referenceImported: () => referenceImport ?? Promise.resolve(),
    archive: () => analysis?.archive,
  };
}

/**
 * archive.indexIncoming: the node's own studies become reference cases, and their reports label them
 * (provenance report-rules), whether the report comes before the study is indexed or after. A report
 * that is not current (an older or preliminary one) or cancelled labels nothing.
 */
function labelIncomingCases(report: StoredReport, cases: CaseStore, config: Config, log: Logger, now: () => number): void {
  if (report.supersededBy !== undefined || report.status === 'cancelled') return;
  const rules = config.reports.rulesFile ?? DEFAULT_RULES_FILE;
  const result = cases.loadLabels(reportCaseLabels(report, report.labels, rules === DEFAULT_RULES_FILE ? 'default' : rules), now());
  log.info({ reportId: report.id, casesUpdated: result.casesUpdated, waiting: result.pending }, 'report labels for archive.indexIncoming cases');
}

/** storage.retention, when set: a pass at start, then every checkIntervalSeconds. */
function startRetention(config: Config, files: FileStore, catalogFile: string, log: Logger, now: () => number): { start(): void; stop(): void } {
  const policy = config.storage.retention;
  if (policy.removeSourceAfterDays <= 0 && policy.maxSourceBytes <= 0) return { start: () => undefined, stop: () => undefined };
  const retention = openRetention(catalogFile, files);
  let timer: NodeJS.Timeout | undefined;
  const pass = (): void => {
    try {
      for (const run of retention.pass(now(), policy))
        log.info({ ...run, keptBytes: retention.keptBytes() }, 'retention removed source objects of done studies');
      if (policy.maxSourceBytes > 0 && retention.keptBytes() > policy.maxSourceBytes) {
        log.warn(
          { keptBytes: retention.keptBytes(), maxSourceBytes: policy.maxSourceBytes },
          'source objects exceed storage.retention.maxSourceBytes: the rest belongs to studies not done yet',
        );
      }
    } catch (err) {
      log.error({ err: describeError(err) }, 'retention pass failed; tried again at the next interval');
    }
  };
  return {
    start() {
      pass();
      timer = setInterval(pass, policy.checkIntervalSeconds * 1000);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      retention.close();
    },
  };
}

/** `precedent serve`: runs the node until SIGTERM/SIGINT. */
export const serve = (file: string | undefined): Promise<void> => runService(file, buildNode);
