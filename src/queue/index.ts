export { createInProcessQueue, jobId, type InProcessQueueOptions } from './in-process.js';
