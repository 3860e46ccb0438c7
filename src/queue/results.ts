// The results queue of remote analysis: workers add one job per finished study round, the node (the
// only writer of catalog, index and results) processes them. A queue rather than BullMQ return values
// or QueueEvents: a result added while the node is down waits in Redis until it starts again.
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { StudyResult } from '../shared/remote-analysis.js';
import type { Logger } from '../shared/log.js';
import { describeError } from '../shared/errors.js';

export const RESULTS_QUEUE_NAME = 'analysis-results';

export interface ResultsQueueOptions {
  redisUrl: string;
  prefix: string;
  /** The node's lock on a result it applies; a node killed mid-apply has it applied again at restart. */
  lockSeconds: number;
  log: Logger;
}

export interface ResultsQueue {
  /** Worker side: hands a round's outcome to the node. The same round posted twice is one job. */
  post(result: StudyResult): Promise<void>;
  /** Node side: applies results one at a time (the catalog has one writer); a throw retries the result. */
  consume(apply: (result: StudyResult) => Promise<void>): void;
  close(): Promise<void>;
}

export function resultJobId(result: Pick<StudyResult, 'StudyInstanceUID' | 'generation' | 'kind'>): string {
  return `result-${result.kind}-${result.StudyInstanceUID}-${result.generation}`;
}

export function createResultsQueue(options: ResultsQueueOptions): ResultsQueue {
  const connections: Redis[] = [];
  const connect = (role: string): Redis => {
    const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    redis.on('error', (err) => options.log.warn({ err: err.message }, `Redis connection error (results ${role})`));
    connections.push(redis);
    return redis;
  };
  let queue: Queue<StudyResult> | undefined;
  let worker: Worker<StudyResult> | undefined;
  return {
    async post(result) {
      queue ??= new Queue<StudyResult>(RESULTS_QUEUE_NAME, {
        connection: connect('queue'),
        prefix: options.prefix,
        // Applying a result only fails when the node's disk or catalog does: retried for a long while.
        defaultJobOptions: { attempts: 20, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { count: 1000 }, removeOnFail: false },
      });
      await queue.add('study-result', result, { jobId: resultJobId(result) });
    },
    consume(apply) {
      worker = new Worker<StudyResult>(RESULTS_QUEUE_NAME, async (job: Job<StudyResult>) => apply(job.data), {
        connection: connect('worker'),
        prefix: options.prefix,
        concurrency: 1,
        lockDuration: options.lockSeconds * 1000,
        stalledInterval: options.lockSeconds * 1000,
      });
      worker.on('failed', (job, err) => {
        if (job) options.log.warn({ jobId: job.id, attemptsMade: job.attemptsMade, err: describeError(err) }, 'applying an analysis result failed; retried');
      });
      worker.on('error', (err) => options.log.error({ err: err.message }, 'BullMQ results worker error'));
    },
    async close() {
      await worker?.close();
      await queue?.close();
      for (const c of connections) c.disconnect();
    },
  };
}
