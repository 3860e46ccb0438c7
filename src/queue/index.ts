export { createInProcessQueue, type InProcessQueueOptions } from './in-process.js';
export { createBullQueue, checkRedis, QUEUE_NAME, type BullQueueOptions } from './bullmq.js';
export { jobId, backoffMs, type RetryPolicy } from './policy.js';
export { createResultsQueue, resultJobId, RESULTS_QUEUE_NAME, type ResultsQueue, type ResultsQueueOptions } from './results.js';
