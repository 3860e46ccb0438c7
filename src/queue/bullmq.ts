// BullMQ on Redis: the backend for several machines (a GPU worker beside the node). Jobs carry UIDs
// only. Redis must not evict keys (maxmemory-policy noeviction) or queued work silently vanishes.
import { DelayedError, Queue, Worker, UnrecoverableError, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { AnalyzeStudyHandler, AnalyzeStudyJob, FailedJob, JobQueue } from '../shared/types.js';
import type { Logger } from '../shared/log.js';
import { describeError, isOutOfSpace, isPermanent, PrecedentError } from '../shared/errors.js';
import { deferMs, jobId, type RetryPolicy } from './policy.js';

export const QUEUE_NAME = 'analyze';

/** What a job holds in Redis: the study round, and how often a full disk has put it off. */
type QueuedJob = AnalyzeStudyJob & { deferrals?: number };

export interface BullQueueOptions extends RetryPolicy {
  redisUrl: string;
  prefix: string;
  concurrency: number;
  lockSeconds: number;
  log: Logger;
}

function connect(url: string): Redis {
  // Workers block on Redis: BullMQ requires maxRetriesPerRequest null.
  return new Redis(url, { maxRetriesPerRequest: null });
}

/** Fails fast when Redis is unreachable; warns loudly when it may evict queued jobs. */
export async function checkRedis(url: string, log: Logger): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (cause) {
    redis.disconnect();
    throw new PrecedentError('QUEUE_UNAVAILABLE', 'cannot reach Redis at queue.redisUrl', { cause });
  }
  try {
    const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as [string, string];
    if (policy !== 'noeviction') {
      log.error({ policy }, 'Redis maxmemory-policy is not noeviction: queued jobs can be evicted; set maxmemory-policy noeviction');
    }
  } catch {
    log.warn('cannot read Redis maxmemory-policy (CONFIG disabled?); make sure it is noeviction');
  } finally {
    redis.disconnect();
  }
}

export function createBullQueue(options: BullQueueOptions): JobQueue {
  const queueConnection = connect(options.redisUrl);
  queueConnection.on('error', (err) => options.log.warn({ err: err.message }, 'Redis connection error (queue)'));
  const queue = new Queue<AnalyzeStudyJob>(QUEUE_NAME, {
    connection: queueConnection,
    prefix: options.prefix,
    defaultJobOptions: {
      attempts: options.attempts,
      backoff: { type: 'exponential', delay: options.backoffSeconds * 1000 },
      removeOnComplete: { count: 1000 },
      removeOnFail: false, // failed jobs stay listable
    },
  });
  let worker: Worker<QueuedJob> | undefined;
  let workerConnection: Redis | undefined;

  return {
    backend: 'bullmq',
    async enqueue(job) {
      // Only UIDs in the payload; the id makes a re-enqueue of the same generation a no-op.
      await queue.add('analyze-study', { StudyInstanceUID: job.StudyInstanceUID, generation: job.generation }, { jobId: jobId(job) });
    },
    process(handler: AnalyzeStudyHandler) {
      const connection = connect(options.redisUrl);
      workerConnection = connection;
      connection.on('error', (err) => options.log.warn({ err: err.message }, 'Redis connection error (worker)'));
      worker = new Worker<QueuedJob>(
        QUEUE_NAME,
        async (job: Job<QueuedJob>, token?: string) => {
          const attempt = job.attemptsMade + 1;
          const final = attempt >= (job.opts.attempts ?? options.attempts);
          try {
            await handler({ StudyInstanceUID: job.data.StudyInstanceUID, generation: job.data.generation }, { attempt, final });
          } catch (err) {
            if (isPermanent(err)) throw new UnrecoverableError(describeError(err).message);
            if (isOutOfSpace(err)) {
              // Put off without using an attempt (DelayedError): tried again until space returns.
              const deferrals = (job.data.deferrals ?? 0) + 1;
              await job.updateData({ ...job.data, deferrals });
              await job.moveToDelayed(Date.now() + deferMs(options, deferrals - 1), token);
              throw new DelayedError();
            }
            throw err;
          }
        },
        {
          connection,
          prefix: options.prefix,
          concurrency: options.concurrency,
          // A killed worker stops renewing its lock; the job is then retried by another worker.
          lockDuration: options.lockSeconds * 1000,
          stalledInterval: options.lockSeconds * 1000,
        },
      );
      worker.on('failed', (job, err) => {
        if (job) options.log.warn({ jobId: job.id, attemptsMade: job.attemptsMade, err: err.message }, 'analysis job attempt failed');
      });
      worker.on('error', (err) => options.log.error({ err: err.message }, 'BullMQ worker error'));
    },
    async depth() {
      const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
      return Object.values(counts).reduce((a, b) => a + b, 0);
    },
    async failed(): Promise<FailedJob[]> {
      const jobs = (await queue.getFailed(0, 999)) as unknown as Job<AnalyzeStudyJob>[];
      return jobs.map((j) => ({
        id: String(j.id),
        job: j.data,
        reason: j.failedReason,
        attempts: j.attemptsMade,
        failedAt: j.finishedOn ?? j.timestamp,
      }));
    },
    async close() {
      // Worker.close() waits for active jobs to finish: graceful shutdown loses nothing.
      if (worker) await worker.close();
      await queue.close();
      workerConnection?.disconnect();
      queueConnection.disconnect();
    },
  };
}
