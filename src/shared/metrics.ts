// The metrics contract. Capabilities get a Metrics injected and never know Prometheus; ops/ provides
// the prom-client implementation (one registry per node, never the process-global default).
import type { AnalyzeStudyHandler, AnalyzeStudyJob, IngestDisposition, IngestService, IngestSource } from './types.js';
import { isPermanent } from './errors.js';

export type ReceivedOutcome = IngestDisposition | 'failed';

export interface Metrics {
  /** One object offered by a sender (C-STORE or STOW-RS part), by its calling AE title and outcome. */
  received(callingAETitle: string, outcome: ReceivedOutcome, protocol?: IngestSource['protocol']): void;
  /** An analysis job reached an end state for its study generation. */
  studyCompleted(outcome: 'done' | 'failed'): void;
  /** Wall time of one successful study analysis (decode, embed, results). */
  analysisSeconds(seconds: number): void;
  /** One object delivered (or not) to an export destination; seconds = that destination's pass. */
  exportResult(destination: string, ok: boolean, seconds: number): void;
  /** Attaches the embedder's running stage totals, read when metrics are scraped. */
  observeEmbedder(read: () => EmbedStageTotals): void;
}

/** Cumulative work of the embedding workers (milliseconds), as embed/ measures it inside them. */
export interface EmbedStageTotals {
  images: number;
  preprocessMs: number;
  inferenceMs: number;
  postprocessMs: number;
}

export const noMetrics: Metrics = {
  received: () => undefined,
  studyCompleted: () => undefined,
  analysisSeconds: () => undefined,
  exportResult: () => undefined,
  observeEmbedder: () => undefined,
};

/**
 * Counts every object that goes through `ingest`, whichever edge brought it (DIMSE or DICOMweb), once:
 * its disposition when complete() resolves, 'failed' when begin() throws, complete() rejects or the
 * transfer is discarded.
 */
export function instrumentIngest(ingest: IngestService, metrics: Metrics): IngestService {
  return {
    begin(request, log) {
      const { callingAETitle, protocol } = request.source;
      let counted = false;
      const count = (outcome: ReceivedOutcome): void => {
        if (counted) return;
        counted = true;
        metrics.received(callingAETitle, outcome, protocol);
      };
      let receiver;
      try {
        receiver = ingest.begin(request, log);
      } catch (err) {
        count('failed');
        throw err;
      }
      const inner = receiver;
      return {
        stream: inner.stream,
        complete: () =>
          inner.complete().then(
            (outcome) => {
              count(outcome.disposition);
              return outcome;
            },
            (err: unknown) => {
              count('failed');
              throw err;
            },
          ),
        discard: () => {
          count('failed');
          return inner.discard();
        },
      };
    },
  };
}

/**
 * Times analysis jobs: a job that leaves its study generation `done` counts as completed (with its
 * duration); one that fails for good (permanent error or last attempt) as failed. Stale jobs (the
 * study moved on) and attempts that will be retried count as neither.
 */
export function instrumentStudyHandler(
  handler: AnalyzeStudyHandler,
  metrics: Metrics,
  isDone: (job: AnalyzeStudyJob) => boolean,
  clock: () => number = () => performance.now(),
): AnalyzeStudyHandler {
  return async (job, attempt) => {
    const started = clock();
    try {
      await handler(job, attempt);
    } catch (err) {
      if (attempt.final || isPermanent(err)) metrics.studyCompleted('failed');
      throw err;
    }
    if (isDone(job)) {
      metrics.studyCompleted('done');
      metrics.analysisSeconds((clock() - started) / 1000);
    }
  };
}
