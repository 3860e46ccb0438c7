// The one configuration schema. Every key has a default so that `precedent serve` with no file runs a
// self-contained node; docs/configuration.md and config/precedent.example.yaml describe the same keys.
import { z } from 'zod';
import { aeTitle, seconds } from './primitives.js';
import { dicomwebSchema, opsSchema, tlsClientSchema, tlsServerSchema } from './network.js';
import { allowedHost } from './hosts.js';

export const dimseSchema = z
  .object({
    host: z.string().default('0.0.0.0'),
    port: z.number().int().min(0).max(65535).default(11112),
    aeTitle: aeTitle.default('PRECEDENT'),
    allowedCallingAETitles: z.array(aeTitle).default([]),
    allowedHosts: z.array(allowedHost).default([]),
    maxAssociations: z.number().int().positive().default(32),
    maxPduLength: z.number().int().min(4096).max(4194304).default(262144),
    idleTimeoutSeconds: seconds.default(60),
    /** ARTIM (PS3.8 9.1.5): a connection must send its A-ASSOCIATE-RQ within this, or it is closed. */
    artimSeconds: seconds.default(30),
    /** DICOM TLS (PS3.15 B.9): the listener speaks TLS only; the usual port is 2762. */
    tls: tlsServerSchema.optional(),
    /** A second called AE title: studies received on it become archive cases (docs/operations.md). */
    archiveAeTitle: aeTitle.optional(),
  })
  .strict()
  .refine((d) => d.archiveAeTitle === undefined || d.archiveAeTitle !== d.aeTitle, { path: ['archiveAeTitle'], message: 'must differ from dimse.aeTitle' });

export const storageSchema = z
  .object({
    dataDir: z.string().min(1).default('./var'),
    minFreeBytes: z
      .number()
      .int()
      .nonnegative()
      .default(1024 * 1024 * 1024),
    maxInstanceBytes: z
      .number()
      .int()
      .positive()
      .default(2 * 1024 * 1024 * 1024),
    keepIgnored: z.boolean().default(false),
    retention: z
      .object({
        /** Remove the source objects of a study this many days after its analysis was done (0: never). */
        removeSourceAfterDays: z.number().nonnegative().default(0),
        /** Keep at most this many bytes of source objects, removing those of the oldest done studies first (0: no cap). */
        maxSourceBytes: z.number().int().nonnegative().default(0),
        /** How often retention looks for what to remove. */
        checkIntervalSeconds: seconds.default(3600),
      })
      .strict()
      .default({ removeSourceAfterDays: 0, maxSourceBytes: 0, checkIntervalSeconds: 3600 }),
  })
  .strict();

export const studiesSchema = z
  .object({
    completeAfterSeconds: seconds.default(10),
    maxWaitSeconds: seconds.default(600),
    checkIntervalSeconds: seconds.default(1),
  })
  .strict();

export const queueSchema = z
  .object({
    /** Unset: the in-process queue (single machine). Set: BullMQ on this Redis. */
    redisUrl: z
      .string()
      .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')
      .optional(),
    prefix: z.string().min(1).default('precedent'),
    attempts: z.number().int().min(1).max(100).default(5),
    backoffSeconds: seconds.default(5),
    /** A job whose worker stops renewing its lock for this long (killed, hung) is retried elsewhere. */
    lockSeconds: seconds.default(30),
  })
  .strict();

export const workersSchema = z
  .object({
    /** Run analysis workers inside `precedent serve` (off when dedicated `precedent worker`s do it). */
    inProcess: z.boolean().default(true),
    concurrency: z.number().int().min(1).max(64).default(1),
    /** Threads per image pool (decoding; drawing results), never the event loop. */
    imageThreads: z.number().int().min(1).max(32).default(1),
    /** Address of the worker API, where remote `precedent worker`s claim studies and fetch their images (inProcess off). */
    apiHost: z.string().min(1).default('0.0.0.0'),
    /** Port of the worker API (inProcess off and token set; 0 picks a free port). */
    apiPort: z.number().int().min(0).max(65535).default(11113),
    /** Bearer token remote workers present to the worker API; unset: the API listens on loopback only with a token generated at each start, for workers on this machine (written to dataDir/worker-api.json, 0600). */
    token: z.string().min(16, 'at least 16 characters').optional(),
  })
  .strict();

/** `precedent worker` only: how a remote analysis worker reaches its node. */
export const workerSchema = z
  .object({
    /** The node's worker API, e.g. http://node.example:11113 (the node's workers.apiHost/apiPort); unset together with worker.token: the node on this machine, found through its dataDir/worker-api.json. */
    nodeUrl: z.string().url().optional(),
    /** The node's workers.token. */
    token: z.string().min(16, 'at least 16 characters').optional(),
    /** Tries per request to the node before the attempt fails with NODE_UNREACHABLE. */
    fetchAttempts: z.number().int().min(1).max(20).default(4),
    /** First wait between tries; doubles each time. */
    fetchBackoffSeconds: seconds.default(0.5),
    /** Folder for the images being decoded (one study at a time, removed after decoding); unset: the OS temp folder. */
    scratchDir: z.string().min(1).optional(),
  })
  .strict();

export const inferenceSchema = z
  .object({
    device: z.enum(['cpu', 'cuda', 'auto']).default('auto'),
    /** Intra-op threads per session; 0 lets ONNX Runtime decide. */
    threads: z.number().int().min(0).max(256).default(0),
    batchSize: z.number().int().min(1).max(256).default(8),
    workerThreads: z.number().int().min(1).max(32).default(1),
  })
  .strict();

export const modelSchema = z
  .object({
    /** Folder with model.onnx and model.json (the model contract, models/README.md). */
    dir: z.string().min(1).default('./models/default'),
  })
  .strict();

const dimseDestination = z
  .object({
    /** Names the destination in logs, metrics and `precedent exports list`; unique. */
    name: z.string().min(1),
    /** Called AE title of the destination (the PACS or archive that stores the results). */
    aeTitle,
    /** Host name or address of the destination's DICOM listener. */
    host: z.string().min(1),
    /** TCP port of the destination's DICOM listener (104, 11112, 2762 with TLS...). */
    port: z.number().int().min(1).max(65535),
    /** Results of studies from these calling AE titles go here; empty: results of every study. */
    forCallingAETitles: z.array(aeTitle).default([]),
    /** Connect with DICOM TLS: ca, cert, key, rejectUnauthorized. */
    tls: tlsClientSchema.optional(),
  })
  .strict();

const stowDestination = z
  .object({
    /** Names the destination in logs, metrics and `precedent exports list`; unique. */
    name: z.string().min(1),
    /** DICOMweb base URL; results are POSTed to <url>/studies. */
    url: z.string().url(),
    /** Bearer token, or `basic: "user:password"`. */
    token: z.string().min(1).optional(),
    /** HTTP basic authentication, as "user:password" (instead of a token). */
    basic: z.string().min(1).optional(),
    /** Results of studies from these calling AE titles go here; empty: results of every study. */
    forCallingAETitles: z.array(aeTitle).default([]),
  })
  .strict();

export const exportSchema = z
  .object({
    /** Calling AE title of our C-STORE SCU. */
    callingAETitle: aeTitle.default('PRECEDENT'),
    destinations: z
      .array(z.union([dimseDestination, stowDestination], { error: 'neither a DIMSE destination (name, aeTitle, host, port) nor a DICOMweb one (name, url)' }))
      .default([])
      .refine((list) => new Set(list.map((d) => d.name)).size === list.length, 'destination names must be unique'),
    maxAttempts: z.number().int().min(1).max(1000).default(10),
    backoffSeconds: seconds.default(5),
    maxBackoffSeconds: seconds.default(600),
    timeoutSeconds: seconds.default(30),
    /** STOW-RS destinations get the due objects in requests of at most this many bytes (an object larger than it goes alone). */
    stowBatchMaxBytes: z
      .number()
      .int()
      .positive()
      .default(8 * 1024 * 1024),
    checkIntervalSeconds: seconds.default(2),
  })
  .strict();

export const indexSchema = z
  .object({
    /** usearch (bundled) or faiss (exact IndexFlatIP; needs scripts/build-faiss-node.sh and libfaiss-dev: see docs/operations.md). */
    backend: z.enum(['usearch', 'faiss']).default('usearch'),
    /** Exact (brute-force) search while the index holds fewer vectors than this; HNSW from this size on. */
    exactBelow: z.number().int().nonnegative().default(20000),
    /** HNSW graph degree (M). */
    connectivity: z.number().int().min(2).max(128).default(16),
    /** HNSW candidate list while adding (efConstruction). */
    expansionAdd: z.number().int().min(1).max(4096).default(128),
    /** HNSW candidate list while searching (ef): recall against latency. */
    expansionSearch: z.number().int().min(1).max(4096).default(128),
    /** Vector storage of the HNSW tier (the exact tier keeps f32). */
    dtype: z.enum(['f32', 'f16']).default('f32'),
    /** Threads for bulk adds in the index worker thread; 0 = all cores. */
    threads: z.number().int().min(0).max(256).default(0),
    /** Similar cases per image (the k of the neighbour vote). */
    k: z.number().int().min(1).max(100).default(10),
    /** Neighbour vote: similarity (weight max(similarity, 0)), uniform, or softmax over similarity / temperature. */
    weighting: z.enum(['similarity', 'uniform', 'softmax']).default('similarity'),
    /** Temperature of the softmax weighting (smaller: the nearest cases dominate). */
    temperature: z.number().positive().default(0.1),
    /** The index file is saved when this many changes are pending (and on shutdown). */
    saveAfterChanges: z.number().int().min(1).default(1000),
  })
  .strict();

export const archiveSchema = z
  .object({
    /** Add every analysed clinical study to the archive too, labelled by its report when one arrives (CSV labels win), else unlabelled until labels are loaded. */
    indexIncoming: z.boolean().default(false),
    /** Key of the HMAC that turns PatientID + IssuerOfPatientID into the stored patient key; generated under dataDir when unset. */
    patientKeySecret: z.string().min(16).optional(),
    /**
     * Import the starter reference archive (public NIH ChestX-ray14 and Kermany 2018 cases) at start-up,
     * embedded with the installed model, again when the model changes. Off: only the site's own cases.
     */
    reference: z.boolean().default(true),
    /** Folder of the reference archive (labels.csv + images/); default: archive/reference of the installed package. */
    referenceDir: z.string().min(1).optional(),
  })
  .strict();

export const reportsSchema = z
  .object({
    /** Report labeller rules (YAML or JSON, docs/reports.md); unset: the shipped config/report-rules.yaml. */
    rulesFile: z.string().min(1).optional(),
    /** HL7 v2 ORU^R01 over MLLP listener (docs/conformance.md 10.1); unset: no listener. */
    mllp: z
      .object({
        /** Listener port (commonly 2575). */
        port: z.number().int().min(0).max(65535),
        host: z.string().default('0.0.0.0'),
        /** A framed message larger than this closes the connection. */
        maxMessageBytes: z
          .number()
          .int()
          .min(1024)
          .max(64 * 1024 * 1024)
          .default(1024 * 1024),
        idleTimeoutSeconds: seconds.default(300),
        /** MSH-3 and MSH-4 of the acknowledgements. */
        application: z.string().min(1).default('PRECEDENT'),
        facility: z.string().default(''),
      })
      .strict()
      .optional(),
  })
  .strict();

export const monitorSchema = z
  .object({
    /** The node calls a study abnormal when its vote's probability of abnormal (1 - P(normal)) reaches this. */
    threshold: z.number().min(0).max(1).default(0.5),
    /** The running figures (gauges, alert, `precedent monitor` default) cover pairs of the last this many days. */
    windowDays: z.number().positive().default(28),
    /** Alert (log line, gauge) when the window's F1 against the reports falls below this; unset: no alert. */
    f1Floor: z.number().min(0).max(1).optional(),
    /** No alert on fewer pairs than this in the window. */
    minPairs: z.number().int().min(1).default(30),
    /** Below the floor, /readyz reports not ready (a load balancer then stops sending work). */
    degradeReadiness: z.boolean().default(false),
    /** How often `precedent serve` recomputes the running figures. */
    intervalSeconds: seconds.default(300),
    /** Bootstrap resamples of the intervals. */
    resamples: z.number().int().min(0).max(100000).default(200),
  })
  .strict();

export const logSchema = z
  .object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

export const configSchema = z
  .object({
    dimse: dimseSchema.default(dimseSchema.parse({})),
    storage: storageSchema.default(storageSchema.parse({})),
    studies: studiesSchema.default(studiesSchema.parse({})),
    queue: queueSchema.default(queueSchema.parse({})),
    workers: workersSchema.default(workersSchema.parse({})),
    worker: workerSchema.default(workerSchema.parse({})),
    inference: inferenceSchema.default(inferenceSchema.parse({})),
    model: modelSchema.default(modelSchema.parse({})),
    index: indexSchema.default(indexSchema.parse({})),
    archive: archiveSchema.default(archiveSchema.parse({})),
    export: exportSchema.default(exportSchema.parse({})),
    reports: reportsSchema.default(reportsSchema.parse({})),
    monitor: monitorSchema.default(monitorSchema.parse({})),
    log: logSchema.default(logSchema.parse({})),
    dicomweb: dicomwebSchema.default(dicomwebSchema.parse({})),
    ops: opsSchema.default(opsSchema.parse({})),
  })
  .strict()
  // Without Redis the queue lives in this process: with no analysis in it, every study would wait forever.
  .refine((c) => c.workers.inProcess || c.queue.redisUrl !== undefined, {
    path: ['workers', 'inProcess'],
    message: 'false needs queue.redisUrl: `precedent worker` processes take jobs from Redis only (without it every study would stay queued)',
  });

export type Config = z.infer<typeof configSchema>;
export type DimseConfig = Config['dimse'];
export type StorageConfig = Config['storage'];
export type StudiesConfig = Config['studies'];
export type QueueConfig = Config['queue'];
export type WorkerConfig = Config['worker'];
export type InferenceConfig = Config['inference'];
export type IndexConfig = Config['index'];
export type ArchiveConfig = Config['archive'];
export type ExportConfig = Config['export'];
export type ReportsConfig = Config['reports'];
export type MonitorConfig = Config['monitor'];
export type { DicomwebConfig, OpsConfig, TlsClientConfig, TlsServerConfig } from './network.js';
