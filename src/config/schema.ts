// The one configuration schema. Every key has a default so that `precedent serve` with no file runs a
// self-contained node; docs/configuration.md and config/precedent.example.yaml describe the same keys.
import { z } from 'zod';

// AE titles are at most 16 characters of the default character repertoire, no backslash (PS3.5 6.2).
const aeTitle = z
  .string()
  .trim()
  .min(1)
  .max(16)
  .regex(/^[\x20-\x5b\x5d-\x7e]+$/, 'AE title: printable ASCII without backslash');

const seconds = z.number().positive();

export const dimseSchema = z
  .object({
    host: z.string().default('0.0.0.0'),
    port: z.number().int().min(0).max(65535).default(11112),
    aeTitle: aeTitle.default('PRECEDENT'),
    allowedCallingAETitles: z.array(aeTitle).default([]),
    allowedHosts: z.array(z.string().min(1)).default([]),
    maxAssociations: z.number().int().positive().default(32),
    maxPduLength: z.number().int().min(4096).max(4194304).default(262144),
    idleTimeoutSeconds: seconds.default(60),
  })
  .strict();

export const storageSchema = z
  .object({
    dataDir: z.string().min(1).default('./var'),
    minFreeBytes: z.number().int().nonnegative().default(1024 * 1024 * 1024),
    maxInstanceBytes: z.number().int().positive().default(2 * 1024 * 1024 * 1024),
    keepIgnored: z.boolean().default(false),
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
    redisUrl: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL').optional(),
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
    name: z.string().min(1),
    aeTitle,
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    /** Results of studies from these calling AE titles go here; empty: results of every study. */
    forCallingAETitles: z.array(aeTitle).default([]),
  })
  .strict();

const stowDestination = z
  .object({
    name: z.string().min(1),
    /** DICOMweb base URL; results are POSTed to <url>/studies. */
    url: z.string().url(),
    /** Bearer token, or `basic: "user:password"`. */
    token: z.string().min(1).optional(),
    basic: z.string().min(1).optional(),
    forCallingAETitles: z.array(aeTitle).default([]),
  })
  .strict();

export const exportSchema = z
  .object({
    /** Calling AE title of our C-STORE SCU. */
    callingAETitle: aeTitle.default('PRECEDENT'),
    destinations: z
      .array(z.union([dimseDestination, stowDestination]))
      .default([])
      .refine((list) => new Set(list.map((d) => d.name)).size === list.length, 'destination names must be unique'),
    maxAttempts: z.number().int().min(1).max(1000).default(10),
    backoffSeconds: seconds.default(5),
    maxBackoffSeconds: seconds.default(600),
    timeoutSeconds: seconds.default(30),
    checkIntervalSeconds: seconds.default(2),
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
    inference: inferenceSchema.default(inferenceSchema.parse({})),
    model: modelSchema.default(modelSchema.parse({})),
    export: exportSchema.default(exportSchema.parse({})),
    log: logSchema.default(logSchema.parse({})),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type DimseConfig = Config['dimse'];
export type StorageConfig = Config['storage'];
export type StudiesConfig = Config['studies'];
export type QueueConfig = Config['queue'];
export type InferenceConfig = Config['inference'];
export type ExportConfig = Config['export'];
