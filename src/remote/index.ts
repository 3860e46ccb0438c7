export { createWorkerApi, type WorkerApi, type WorkerApiOptions } from './worker-api.js';
export { createNodeClient, type NodeClientOptions } from './node-client.js';
export { LOCAL_ENDPOINT_FILE, readLocalEndpoint, writeLocalEndpoint, type WorkerEndpoint } from './local-endpoint.js';
