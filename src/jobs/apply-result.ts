// The node's side of remote analysis: a worker's result for one study round is written to the catalog
// (embeddings), then the same stages as in-process run (archive cases or similar cases, results,
// export). Idempotent: a result for a stale round, or for a round already done or failed, changes
// nothing; a result applied again after a crash re-saves the same embeddings (INSERT OR REPLACE).
import type { Catalog } from '../shared/catalog.js';
import type { FailedJob } from '../shared/types.js';
import type { Logger } from '../shared/log.js';
import { describeError, isOutOfSpace, isPermanent } from '../shared/errors.js';
import { decodeAttention, decodeFloats, type StudyResult } from '../shared/remote-analysis.js';
import type { StudyAnalysis } from './study-scheduler.js';
import { noMetrics, type Metrics } from '../shared/metrics.js';

export interface ApplyResultDeps {
  catalog: Catalog;
  /** The node's model: the only one whose vectors enter its index. */
  model: { name: string; version: string };
  /** What follows embedding (archive.onStudyEmbedded, results, export), as in-process. */
  afterEmbedding: StudyAnalysis;
  log: Logger;
  /** Studies done and failed count as in-process (precedent_studies_completed_total on the node). */
  metrics?: Metrics;
  now?: () => number;
}

export function createResultApplier(deps: ApplyResultDeps): (result: StudyResult) => Promise<void> {
  const now = deps.now ?? Date.now;
  const metrics = deps.metrics ?? noMetrics;
  const fail = (result: StudyResult, reason: string): void => {
    if (deps.catalog.markState(result.StudyInstanceUID, result.generation, 'failed', now(), reason)) metrics.studyCompleted('failed');
  };
  return async (result) => {
    const job = { StudyInstanceUID: result.StudyInstanceUID, generation: result.generation };
    const log = deps.log.child({ ...job });
    const study = deps.catalog.study(result.StudyInstanceUID);
    if (!study || study.generation !== result.generation) {
      log.info('ignoring a remote result for a stale study round (more images arrived since)');
      return;
    }
    if (study.state === 'done' || study.state === 'failed') {
      log.info({ state: study.state }, 'ignoring a remote result for a finished study round (delivered twice)');
      return;
    }
    if (result.kind === 'failed') {
      fail(result, `${result.code}: ${result.reason}`);
      log.error({ err: { code: result.code, message: result.reason } }, 'study analysis failed on a remote worker');
      return;
    }
    if (result.model.name !== deps.model.name || result.model.version !== deps.model.version) {
      const reason = `MODEL_MISMATCH: a worker returned ${result.model.name}@${result.model.version} vectors; the node's index is ${deps.model.name}@${deps.model.version}`;
      fail(result, reason);
      log.error({ reason }, 'remote result refused');
      return;
    }
    try {
      if (study.state !== 'embedded') {
        for (const e of result.embeddings) {
          deps.catalog.saveEmbedding({
            SOPInstanceUID: e.SOPInstanceUID,
            version: e.version,
            StudyInstanceUID: result.StudyInstanceUID,
            modelName: result.model.name,
            modelVersion: result.model.version,
            vector: decodeFloats(e.vector),
            attention: decodeAttention(e.attention),
            notes: e.notes,
            createdAt: now(),
          });
        }
        // From queued too: a worker may have claimed the round before a node restart re-queued it.
        deps.catalog.markState(result.StudyInstanceUID, result.generation, 'decoding', now());
        deps.catalog.markState(result.StudyInstanceUID, result.generation, 'embedded', now());
      }
      await deps.afterEmbedding(job, log);
      if (deps.catalog.markState(result.StudyInstanceUID, result.generation, 'done', now())) metrics.studyCompleted('done');
      log.info({ images: result.embeddings.length, skipped: result.skipped.length }, 'study analysed (embedded by a remote worker)');
    } catch (err) {
      if (!isOutOfSpace(err) && isPermanent(err)) {
        fail(result, describeError(err).message);
        log.error({ err: describeError(err) }, 'study analysis failed');
        return;
      }
      log.warn({ err: describeError(err) }, 'applying a remote result failed; retried');
      throw err;
    }
  };
}

/**
 * Jobs BullMQ failed without a worker saying why (a job whose workers were killed more often than
 * BullMQ tolerates stalls): their study would wait in `queued` or `decoding` for ever, since a job id
 * that failed is never queued again. The node marks them failed with BullMQ's reason.
 */
export function failAbandonedStudies(deps: { catalog: Catalog; log: Logger; now?: () => number }, failed: FailedJob[]): number {
  const now = deps.now ?? Date.now;
  let marked = 0;
  for (const f of failed) {
    const study = deps.catalog.study(f.job.StudyInstanceUID);
    if (!study || study.generation !== f.job.generation || (study.state !== 'queued' && study.state !== 'decoding')) continue;
    if (!deps.catalog.markState(study.StudyInstanceUID, study.generation, 'failed', now(), `QUEUE_FAILED: ${f.reason}`)) continue;
    deps.log.error(
      { StudyInstanceUID: study.StudyInstanceUID, generation: study.generation, attempts: f.attempts, reason: f.reason },
      'analysis job failed in the queue without a worker result; study marked failed',
    );
    marked++;
  }
  return marked;
}
