// What both queue backends share: job ids and the retry policy.
import type { AnalyzeStudyJob } from '../shared/types.js';

export interface RetryPolicy {
  /** Total attempts, the first included. */
  attempts: number;
  /** First retry delay; doubles each time. */
  backoffSeconds: number;
}

export function jobId(job: AnalyzeStudyJob): string {
  // BullMQ ids may not be all digits nor contain ':'; the same id scheme serves both backends.
  return `study-${job.StudyInstanceUID}-${job.generation}`;
}

export function backoffMs(policy: RetryPolicy, attempt: number): number {
  return policy.backoffSeconds * 1000 * 2 ** (attempt - 1);
}

/** The longest wait between tries of a job deferred for lack of disk space. */
const MAX_DEFER_MS = 60_000;

/**
 * A job that failed because the disk is full is tried again after this delay, for as long as it takes,
 * without using up an attempt: the failure says nothing about the study.
 */
export function deferMs(policy: RetryPolicy, deferrals: number): number {
  return Math.min(MAX_DEFER_MS, policy.backoffSeconds * 1000 * 2 ** Math.min(deferrals, 16));
}
