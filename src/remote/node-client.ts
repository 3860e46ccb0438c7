// A remote worker's side of the worker API (worker-api.ts). Network failures and 5xx are tried again
// with a doubling wait; after worker.fetchAttempts the attempt fails with NODE_UNREACHABLE, and the
// queue's own retries (queue.attempts) decide when the study fails for good.
import { PrecedentError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { WORKER_API, type NodeClient, type StudyManifest } from '../shared/remote-analysis.js';
import type { WorkerEndpoint } from './local-endpoint.js';

export interface NodeClientOptions {
  /** Where the worker API is and the token it wants; asked before every request (local-endpoint.ts). */
  endpoint: () => WorkerEndpoint;
  attempts: number;
  backoffSeconds: number;
  /** Per request (an instance of a few hundred MB on a slow link still fits). */
  timeoutSeconds?: number;
  log: Logger;
  /** Counts the bytes received (instances and manifests). */
  onBytes?: (bytes: number) => void;
}

export function createNodeClient(options: NodeClientOptions): NodeClient {
  const timeoutMs = (options.timeoutSeconds ?? 300) * 1000;

  async function request(path: string, method: 'GET' | 'POST'): Promise<Response> {
    let last = '';
    let base = '';
    for (let attempt = 1; attempt <= options.attempts; attempt++) {
      try {
        const endpoint = options.endpoint();
        base = endpoint.nodeUrl.replace(/\/+$/, '');
        const response = await fetch(`${base}${path}`, {
          method,
          headers: { authorization: `Bearer ${endpoint.token}` },
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (response.status === 401) {
          throw new PrecedentError('CONFIG_INVALID', "the node refused this worker's token: worker.token must equal the node's workers.token");
        }
        if (response.status < 500) return response;
        last = `HTTP ${response.status}`;
        await response.body?.cancel();
      } catch (err) {
        if (err instanceof PrecedentError && err.code !== 'NODE_UNREACHABLE') throw err;
        last = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
      }
      if (attempt < options.attempts) {
        options.log.warn({ nodeUrl: base, attempt, why: last }, 'node worker API not reachable; trying again');
        await new Promise((r) => setTimeout(r, options.backoffSeconds * 1000 * 2 ** (attempt - 1)));
      }
    }
    throw new PrecedentError('NODE_UNREACHABLE', `cannot reach the node's worker API at ${base} after ${options.attempts} tries (${last})`);
  }

  return {
    async claim(StudyInstanceUID, generation) {
      const response = await request(WORKER_API.claim(StudyInstanceUID, generation), 'POST');
      if (response.status === 409 || response.status === 404) {
        await response.body?.cancel();
        return undefined;
      }
      if (!response.ok) throw new PrecedentError('NODE_UNREACHABLE', `the node's worker API answered HTTP ${response.status} to a claim`);
      const text = await response.text();
      options.onBytes?.(text.length);
      return JSON.parse(text) as StudyManifest;
    },
    async instance(StudyInstanceUID, SOPInstanceUID, version) {
      const response = await request(WORKER_API.instance(StudyInstanceUID, SOPInstanceUID, version), 'GET');
      if (response.status === 404) {
        await response.body?.cancel();
        throw new PrecedentError('DATASET_INCOMPLETE', 'the node no longer stores this instance');
      }
      if (!response.ok) throw new PrecedentError('NODE_UNREACHABLE', `the node's worker API answered HTTP ${response.status} to an instance request`);
      const bytes = Buffer.from(await response.arrayBuffer());
      options.onBytes?.(bytes.length);
      return bytes;
    },
  };
}
