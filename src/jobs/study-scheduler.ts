// Study completion is a heuristic: a study is complete `completeAfterSeconds` after its last instance
// or `maxWaitSeconds` after the first of its current round. All state is in the catalog, so a restart
// after a crash picks up exactly where the dead process stopped.
import type { Catalog } from '../shared/catalog.js';
import type { AnalyzeStudyHandler, AnalyzeStudyJob, JobQueue } from '../shared/types.js';
import type { Logger } from '../shared/log.js';
import type { StudiesConfig } from '../config/schema.js';
import { describeError, isOutOfSpace, isPermanent } from '../shared/errors.js';

export interface StudySchedulerDeps {
  catalog: Catalog;
  queue: JobQueue;
  studies: StudiesConfig;
  log: Logger;
  now?: () => number;
}

export interface StudyScheduler {
  /** Re-enqueues studies that were complete but unfinished, then checks for complete studies periodically. */
  start(): Promise<{ requeued: number }>;
  /** One pass: queues every study that is complete now. Returns how many. */
  tick(): Promise<number>;
  stop(): void;
}

export function createStudyScheduler(deps: StudySchedulerDeps): StudyScheduler {
  const now = deps.now ?? Date.now;
  const completeAfterMs = deps.studies.completeAfterSeconds * 1000;
  const maxWaitMs = deps.studies.maxWaitSeconds * 1000;
  let timer: NodeJS.Timeout | undefined;
  let ticking = false;

  async function tick(): Promise<number> {
    if (ticking) return 0;
    ticking = true;
    try {
      let queued = 0;
      for (const study of deps.catalog.dueStudies(now(), completeAfterMs, maxWaitMs)) {
        if (!deps.catalog.markQueued(study.StudyInstanceUID, study.generation, now())) continue;
        await deps.queue.enqueue({ StudyInstanceUID: study.StudyInstanceUID, generation: study.generation });
        deps.log.info(
          { StudyInstanceUID: study.StudyInstanceUID, generation: study.generation, instances: study.instanceCount },
          'study complete: analysis queued',
        );
        queued++;
      }
      return queued;
    } finally {
      ticking = false;
    }
  }

  return {
    async start() {
      let requeued = 0;
      for (const state of ['queued', 'decoding', 'embedded'] as const) {
        for (const study of deps.catalog.studiesInState(state)) {
          await deps.queue.enqueue({ StudyInstanceUID: study.StudyInstanceUID, generation: study.generation });
          requeued++;
        }
      }
      if (requeued > 0) deps.log.info({ requeued }, 'unfinished studies re-queued after restart');
      await tick();
      timer = setInterval(() => {
        tick().catch((err: unknown) => deps.log.error({ err: describeError(err) }, 'study scheduler pass failed'));
      }, deps.studies.checkIntervalSeconds * 1000);
      timer.unref();
      return { requeued };
    },
    tick,
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}

/** The work on one study generation; it may mark intermediate states (embedded) itself. */
export type StudyAnalysis = (job: AnalyzeStudyJob, log: Logger) => Promise<void>;

/**
 * Wraps the analysis of one study generation with its catalog state. A job whose study received more
 * images since it was queued is stale (a newer generation will run), so it is skipped: late images
 * never yield two results for the same round. Errors are rethrown for the queue to retry, except on
 * the final attempt or for permanent failures, where the study is marked failed with the reason.
 */
export function studyJobHandler(deps: { catalog: Catalog; log: Logger; analyze: StudyAnalysis; now?: () => number }): AnalyzeStudyHandler {
  const now = deps.now ?? Date.now;
  return async (job, { attempt, final }) => {
    const log = deps.log.child({ StudyInstanceUID: job.StudyInstanceUID, generation: job.generation, attempt });
    const started = now();
    try {
      if (!deps.catalog.markState(job.StudyInstanceUID, job.generation, 'decoding', now())) {
        log.info('skipping stale analysis job (study changed since it was queued)');
        return;
      }
      await deps.analyze(job, log);
      deps.catalog.markState(job.StudyInstanceUID, job.generation, 'done', now());
      log.info({ ms: now() - started }, 'study analysed');
    } catch (err) {
      // A full disk is not the study's fault and passes when space is freed: the queue defers the job
      // without counting the attempt (queue/policy.ts), and the study stays unfinished, never failed.
      if (isOutOfSpace(err)) {
        log.warn({ err: describeError(err) }, 'study analysis deferred: no space left on the device; retried until space returns');
        throw err;
      }
      const permanent = isPermanent(err);
      if (permanent || final) {
        deps.catalog.markState(job.StudyInstanceUID, job.generation, 'failed', now(), describeError(err).message);
        log.error({ err: describeError(err), permanent }, 'study analysis failed');
      } else {
        log.warn({ err: describeError(err) }, 'study analysis attempt failed; will retry');
      }
      throw err;
    }
  };
}
