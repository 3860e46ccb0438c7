// The node's worker API: where remote `precedent worker`s claim a study round and fetch its stored
// instances exactly as received (the compressed Part 10 bytes: a JPEG 2000 radiograph moves as ~2 MB,
// not as 26 MB of decoded floats). Bearer token only, compared in constant time; an instance is served
// only under its own study's path. Plain HTTP on its own port: run it on a private network or behind a
// TLS proxy (docs/operations.md).
import { createReadStream, statSync } from 'node:fs';
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Catalog } from '../shared/catalog.js';
import type { Logger } from '../shared/log.js';
import type { StudyManifest } from '../shared/remote-analysis.js';

export interface WorkerApiOptions {
  host: string;
  port: number;
  token: string;
  catalog: Catalog;
  /** Absolute path of a catalogued file. */
  absolute: (relativePath: string) => string;
  /** The node's model (name@version of its index); undefined while none is loaded. */
  model: () => { name: string; version: string } | undefined;
  log: Logger;
  now?: () => number;
}

export interface WorkerApi {
  listen(): Promise<number>;
  close(): Promise<void>;
  /** Instance bytes served so far (the bench divides it by images). */
  bytesServed(): number;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export function createWorkerApi(options: WorkerApiOptions): WorkerApi {
  const now = options.now ?? Date.now;
  const expected = digest(options.token);
  let served = 0;
  // Connections are cut at close: a worker mid-download retries, and shutdown never waits on keep-alives.
  const app: FastifyInstance = Fastify({ logger: false, return503OnClosing: true, forceCloseConnections: true });
  app.addHook('onRequest', async (request, reply) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      options.log.warn({ ip: request.ip, url: request.routeOptions.url }, 'worker API request refused: missing or invalid worker token');
      // Returned, as Fastify asks of async hooks that answer the request themselves.
      return reply.code(401).header('www-authenticate', 'Bearer realm="precedent-workers"').send({ error: 'worker token required' });
    }
    return undefined;
  });

  app.post<{ Params: { study: string; generation: string } }>('/worker/v1/studies/:study/generations/:generation/claim', async (request, reply) => {
    const model = options.model();
    if (!model) return reply.code(503).send({ error: 'the node has no model loaded yet' });
    const generation = Number(request.params.generation);
    const study = options.catalog.study(request.params.study);
    // A round that is no longer current (more images arrived) or already finished has nothing to do.
    if (!study || study.generation !== generation || !options.catalog.markState(study.StudyInstanceUID, generation, 'decoding', now())) {
      return reply.code(409).send({ error: 'stale or finished study round' });
    }
    const manifest: StudyManifest = {
      StudyInstanceUID: study.StudyInstanceUID,
      generation,
      model,
      instances: options.catalog
        .analyzableInstances(study.StudyInstanceUID)
        .filter((i) => i.path !== null)
        .map((i) => ({ SOPInstanceUID: i.SOPInstanceUID, version: i.version })),
    };
    options.log.info(
      { StudyInstanceUID: study.StudyInstanceUID, generation, instances: manifest.instances.length, worker: request.ip },
      'study round claimed by a remote worker',
    );
    return manifest;
  });

  app.get<{ Params: { study: string; sop: string; version: string } }>('/worker/v1/studies/:study/instances/:sop/versions/:version', async (request, reply) => {
    const { study, sop } = request.params;
    const record = options.catalog.instanceVersions(sop).find((i) => i.version === Number(request.params.version));
    // Only under its own study: a token holder cannot walk the archive by SOP Instance UID alone.
    if (!record || record.StudyInstanceUID !== study || record.status !== 'accepted' || record.path === null)
      return reply.code(404).send({ error: 'no such instance in this study' });
    const path = options.absolute(record.path);
    const size = statSync(path).size;
    served += size;
    return reply.header('content-type', 'application/dicom').header('content-length', size).send(createReadStream(path));
  });

  return {
    async listen() {
      await app.listen({ host: options.host, port: options.port });
      const address = app.server.address();
      return typeof address === 'object' && address ? address.port : options.port;
    },
    close: () => app.close(),
    bytesServed: () => served,
  };
}
