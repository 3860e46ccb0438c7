export { createWorkerApi, type WorkerApi, type WorkerApiOptions } from './worker-api.js';
export { createNodeClient, type NodeClientOptions } from './node-client.js';
