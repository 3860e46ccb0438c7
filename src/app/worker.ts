// Composition root for `precedent worker`: a stateless analysis worker, for GPU machines. It needs
// queue.redisUrl, worker.nodeUrl + worker.token and the model folder; it opens no catalog and no data
// directory (on the node's own machine, without them, it reads the node's local worker API file only). Each job: claim the study round from the node, fetch the stored instances over HTTP,
// decode and embed them, post the vectors to the results queue (jobs/remote-embed.ts).
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from '../shared/log.js';
import { PrecedentError } from '../shared/errors.js';
import { checkRedis, createResultsQueue } from '../queue/index.js';
import { createNodeClient, readLocalEndpoint, type WorkerEndpoint } from '../remote/index.js';
import { remoteEmbedHandler } from '../jobs/index.js';
import { createQueue, modelPresent } from './analysis.js';
import { embedderOptions } from '../embed/options.js';
import { createPromMetrics } from '../ops/index.js';
import { createWorkerSurfaces } from './surfaces.js';
import { runService } from './run-service.js';

export interface PrecedentWorker {
  start(): Promise<void>;
  /** Finishes active jobs, then closes. */
  stop(): Promise<void>;
}

function required(config: Config): { redisUrl: string; endpoint: () => WorkerEndpoint; where: string } {
  const { redisUrl } = config.queue;
  const { nodeUrl, token } = config.worker;
  if (!redisUrl) throw new PrecedentError('CONFIG_INVALID', 'precedent worker needs queue.redisUrl (the in-process queue lives inside `precedent serve`)');
  if (Boolean(nodeUrl) !== Boolean(token))
    throw new PrecedentError(
      'CONFIG_INVALID',
      "precedent worker needs both worker.nodeUrl and worker.token (the node's worker API and its workers.token), or neither on the node's own machine",
    );
  if (!modelPresent(config)) throw new PrecedentError('MODEL_INVALID', `no model.onnx in model.dir (${resolve(config.model.dir)})`);
  if (nodeUrl && token) return { redisUrl, endpoint: () => ({ nodeUrl, token }), where: nodeUrl };
  // Neither set: a worker beside the node, reaching its loopback worker API (remote/local-endpoint.ts).
  const dataDir = resolve(config.storage.dataDir);
  return { redisUrl, endpoint: () => readLocalEndpoint(dataDir), where: `the local node (${dataDir})` };
}

export function buildWorker(config: Config, log: Logger): PrecedentWorker {
  const { redisUrl, endpoint, where } = required(config);
  const queue = createQueue(config, log.child({ component: 'queue' }));
  const results = createResultsQueue({ redisUrl, prefix: config.queue.prefix, lockSeconds: config.queue.lockSeconds, log: log.child({ component: 'queue' }) });
  // Images wait here only while they are decoded (one file each, removed at once); never the node's files.
  const scratchRoot = resolve(config.worker.scratchDir ?? tmpdir());
  mkdirSync(scratchRoot, { recursive: true });
  const scratch = mkdtempSync(join(scratchRoot, 'precedent-worker-'));
  let description: string | undefined;
  let close = async (): Promise<void> => undefined;
  const metrics = createPromMetrics({ process: 'worker' });
  const surfaces = createWorkerSurfaces(config, log, { metrics, queue, analysis: () => (description ? { describe: () => description ?? '' } : undefined) });
  return {
    async start() {
      await checkRedis(redisUrl, log);
      const [{ createDecoderPool }, { createEmbedder }] = await Promise.all([import('../decode/index.js'), import('../embed/index.js')]);
      const embedder = await createEmbedder(embedderOptions(config, log));
      metrics.observeEmbedder(() => embedder.stages);
      const decoder = createDecoderPool({ threads: config.workers.imageThreads, log: log.child({ component: 'decode' }) });
      const node = createNodeClient({
        endpoint,
        attempts: config.worker.fetchAttempts,
        backoffSeconds: config.worker.fetchBackoffSeconds,
        log: log.child({ component: 'node-client' }),
      });
      const decode = async (bytes: Buffer) => {
        const path = join(scratch, `${randomUUID()}.dcm`);
        writeFileSync(path, bytes, { mode: 0o600 });
        try {
          return await decoder.decodeFile(path);
        } finally {
          unlinkSync(path);
        }
      };
      queue.process(remoteEmbedHandler({ node, decode, embedder, post: (r) => results.post(r), log: log.child({ component: 'worker' }) }));
      close = async () => {
        await embedder.close();
        await decoder.close();
      };
      description = `${embedder.card.name}@${embedder.card.version} on ${embedder.device}`;
      const opsPort = await surfaces.start();
      log.info({ node: where, analysis: description, opsPort }, 'Precedent worker started');
    },
    async stop() {
      await surfaces.stop();
      await queue.close();
      await results.close();
      await close();
      rmSync(scratch, { recursive: true, force: true });
      log.info('Precedent worker stopped');
    },
  };
}

/** `precedent worker`: runs a remote analysis worker until SIGTERM/SIGINT. */
export const work = (file: string | undefined): Promise<void> => runService(file, buildWorker);
