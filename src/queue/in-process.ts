// The in-process queue used when no Redis is configured: same semantics as the BullMQ backend
// (retries with exponential backoff, no retry for permanent failures, failed jobs listable). It holds
// nothing durable itself: the catalog does, and the scheduler re-enqueues unfinished studies at start.
import type { AnalyzeStudyHandler, AnalyzeStudyJob, FailedJob, JobQueue } from '../shared/types.js';
import type { Logger } from '../shared/log.js';
import { describeError, isOutOfSpace, isPermanent } from '../shared/errors.js';
import { jobId, type RetryPolicy, backoffMs, deferMs } from './policy.js';

export interface InProcessQueueOptions extends RetryPolicy {
  concurrency: number;
  log: Logger;
}

interface Entry {
  job: AnalyzeStudyJob;
  attempt: number;
  /** Tries put off because the disk was full (they do not count as attempts). */
  deferrals: number;
}

export function createInProcessQueue(options: InProcessQueueOptions): JobQueue {
  const waiting: Entry[] = [];
  const known = new Set<string>();
  const running = new Set<Promise<void>>();
  const delayed = new Set<NodeJS.Timeout>();
  const failedJobs: FailedJob[] = [];
  let handler: AnalyzeStudyHandler | undefined;
  let closing = false;

  const settle = (entry: Entry, err: unknown): void => {
    const id = jobId(entry.job);
    if (err === undefined) {
      known.delete(id);
      return;
    }
    const later = (next: Entry, ms: number): void => {
      const timer = setTimeout(() => {
        delayed.delete(timer);
        waiting.push(next);
        pump();
      }, ms);
      delayed.add(timer);
    };
    if (isOutOfSpace(err) && !closing) {
      later({ ...entry, deferrals: entry.deferrals + 1 }, deferMs(options, entry.deferrals));
      return;
    }
    if (!isPermanent(err) && entry.attempt < options.attempts && !closing) {
      later({ job: entry.job, attempt: entry.attempt + 1, deferrals: 0 }, backoffMs(options, entry.attempt));
      return;
    }
    known.delete(id);
    failedJobs.push({ id, job: entry.job, reason: describeError(err).message, attempts: entry.attempt, failedAt: Date.now() });
    options.log.error({ jobId: id, attempts: entry.attempt, err: describeError(err) }, 'analysis job failed for good');
  };

  const pump = (): void => {
    while (handler && !closing && running.size < options.concurrency && waiting.length > 0) {
      const entry = waiting.shift() as Entry;
      const final = isFinal(entry.attempt);
      const run = handler(entry.job, { attempt: entry.attempt, final })
        .then(
          () => settle(entry, undefined),
          (err: unknown) => settle(entry, err ?? new Error('job failed')),
        )
        .finally(() => {
          running.delete(run);
          pump();
        });
      running.add(run);
    }
  };
  const isFinal = (attempt: number): boolean => attempt >= options.attempts;

  return {
    backend: 'in-process',
    async enqueue(job) {
      const id = jobId(job);
      if (known.has(id)) return; // already waiting, delayed or running: one job per study generation
      known.add(id);
      waiting.push({ job, attempt: 1, deferrals: 0 });
      pump();
    },
    process(h) {
      handler = h;
      pump();
    },
    depth: async () => waiting.length + delayed.size + running.size,
    failed: async () => [...failedJobs],
    async close() {
      closing = true;
      for (const t of delayed) clearTimeout(t);
      await Promise.all([...running]);
    },
  };
}
