// The operations API (fastify, its own port, loopback by default): /healthz, /readyz, Prometheus
// /metrics, and study status (/studies/{uid}, /status) from the catalog. No authentication: keep it
// on loopback or a management network.
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from '../shared/log.js';
import type { StatusReader } from '../shared/node-status.js';
import { isSafeUidPath } from '../shared/uid.js';
import { describeError } from '../shared/errors.js';
import type { PromMetrics } from './metrics.js';
import { runChecks, type ReadinessCheck } from './readiness.js';

export interface OpsServerDeps {
  host: string;
  port: number;
  readinessTimeoutSeconds: number;
  metrics: PromMetrics;
  checks: readonly ReadinessCheck[];
  /** Study status; absent in `precedent worker`. */
  status?: StatusReader;
  log: Logger;
}

export type Lifecycle = 'starting' | 'running' | 'stopping';

export interface OpsServer {
  build(): FastifyInstance;
  listen(): Promise<number>;
  /** /readyz answers 503 unless running (and every check passes). */
  setLifecycle(state: Lifecycle): void;
  close(): Promise<void>;
}

export function createOpsServer(deps: OpsServerDeps): OpsServer {
  const { log } = deps;
  let lifecycle: Lifecycle = 'starting';
  let app: FastifyInstance | undefined;
  const startedAt = Date.now();

  function build(): FastifyInstance {
    if (app) return app;
    const instance = Fastify({ logger: false });
    app = instance;
    instance.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
      log.error({ err: describeError(err), url: request.url }, 'operations API request failed');
      void reply.code(err.statusCode && err.statusCode >= 400 ? err.statusCode : 500).send({ error: err.message });
    });
    instance.get('/healthz', async () => ({ status: 'ok', lifecycle, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) }));
    instance.get('/readyz', async (_request, reply) => {
      const report = await runChecks(deps.checks, deps.readinessTimeoutSeconds * 1000);
      const lifecycleOk = lifecycle === 'running';
      const failing = lifecycleOk ? report.failing : ['lifecycle', ...report.failing];
      const body = { ready: lifecycleOk && report.ready, lifecycle, failing, checks: report.checks };
      if (!body.ready) log.debug({ failing }, 'not ready');
      return reply.code(body.ready ? 200 : 503).send(body);
    });
    instance.get('/metrics', async (_request, reply) => reply.type(deps.metrics.contentType()).send(await deps.metrics.render()));
    const status = deps.status;
    if (status) {
      instance.get('/status', async (request: FastifyRequest<{ Querystring: { recent?: string } }>) =>
        status.summary(Math.min(1000, Math.max(0, Number(request.query.recent ?? 10) || 10))),
      );
      instance.get('/studies/:uid', async (request: FastifyRequest<{ Params: { uid: string } }>, reply) => {
        const { uid } = request.params;
        if (!isSafeUidPath(uid)) return reply.code(400).send({ error: 'not a Study Instance UID' });
        const study = status.study(uid);
        return study ? study : reply.code(404).send({ error: 'unknown study', StudyInstanceUID: uid });
      });
    }
    return instance;
  }

  return {
    build,
    async listen() {
      const instance = build();
      await instance.listen({ port: deps.port, host: deps.host });
      const port = (instance.server.address() as { port: number }).port;
      log.info({ port, host: deps.host }, 'operations API listening (/healthz, /readyz, /metrics, /studies/{uid})');
      return port;
    },
    setLifecycle(state) {
      lifecycle = state;
    },
    async close() {
      await app?.close();
    },
  };
}
