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
