// The in-process queue used when no Redis is configured. It holds nothing durable itself: the catalog
// does (study state), and the scheduler re-enqueues unfinished studies at start-up.
import type { AnalyzeStudyHandler, AnalyzeStudyJob, JobQueue } from '../shared/types.js';
import type { Logger } from '../shared/log.js';
import { describeError } from '../shared/errors.js';

export interface InProcessQueueOptions {
  concurrency: number;
  log: Logger;
}

export function jobId(job: AnalyzeStudyJob): string {
  // BullMQ ids may not be all digits nor contain ':'; the same id scheme serves both backends.
  return `study-${job.StudyInstanceUID}-${job.generation}`;
}

export function createInProcessQueue(options: InProcessQueueOptions): JobQueue {
  const waiting: AnalyzeStudyJob[] = [];
  const known = new Set<string>();
  const running = new Set<Promise<void>>();
  let handler: AnalyzeStudyHandler | undefined;
  let closing = false;

  const pump = (): void => {
    while (handler && !closing && running.size < options.concurrency && waiting.length > 0) {
      const job = waiting.shift() as AnalyzeStudyJob;
      const id = jobId(job);
      const run = handler(job)
        .catch((err: unknown) => options.log.error({ jobId: id, err: describeError(err) }, 'analysis job failed'))
        .finally(() => {
          known.delete(id);
          running.delete(run);
          pump();
        });
      running.add(run);
    }
  };

  return {
    async enqueue(job) {
      const id = jobId(job);
      if (known.has(id)) return; // already waiting or running: one job per study generation
      known.add(id);
      waiting.push(job);
      pump();
    },
    process(h) {
      handler = h;
      pump();
    },
    async close() {
      closing = true;
      await Promise.all([...running]);
    },
  };
}
