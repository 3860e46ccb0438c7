// The DICOMweb edge (fastify): STOW-RS into ingest, and QIDO-RS / WADO-RS of every object the node
// holds (received instances and its results, through the object index) so a viewer can find them. `build()` gives the fastify instance (tests use
// inject()); `listen()` opens the port.
import { statfsSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { IngestService } from '../shared/types.js';
import type { ObjectIndex } from '../shared/dicom-objects.js';
import type { PixelService } from '../shared/pixels.js';
import type { Logger } from '../shared/log.js';
import type { DicomwebConfig } from '../config/schema.js';
import { describeError } from '../shared/errors.js';
import { readTlsFiles } from '../shared/tls.js';
import { isSafeUidPath } from '../shared/uid.js';
import { createAuthenticator, type AuthDecision } from './auth.js';
import { parseMediaType, readMultipart } from './multipart.js';
import { storeInstances } from './stow.js';
import { watchUpload } from './upload-watch.js';
import { registerQidoRoutes } from './routes-qido.js';
import { registerWadoRoutes } from './routes-wado.js';
import { registerPixelRoutes } from './routes-pixels.js';

type Caller = Extract<AuthDecision, { ok: true }>;
/** The authenticated caller (the onRequest hook sets it on every request that gets through). */
const callerOf = (request: FastifyRequest): Caller | undefined => (request as FastifyRequest & { caller?: Caller }).caller;

export interface DicomwebServerDeps {
  config: DicomwebConfig;
  ingest: IngestService;
  /** What QIDO-RS searches and WADO-RS serves. */
  objects: ObjectIndex;
  /** Frames, transcoded copies and rendered pictures for WADO-RS (decoding threads). */
  pixels: PixelService;
  log: Logger;
  /** storage.dataDir: object paths in the index are relative to it. */
  dataDir: string;
  /** storage.minFreeBytes: below it STOW-RS answers 507 before reading the body. */
  minFreeBytes: number;
  diskFreeBytes?: () => number;
  /** Recorded as the called AE title of STOW-RS objects (default PRECEDENT: they are clinical studies). */
  calledAETitle?: string;
  /** More routes behind the same authentication (the FHIR report intake, reports/fhir.ts). */
  routes?: (app: FastifyInstance) => void;
}

export interface DicomwebServer {
  /** The fastify instance, routes registered (not listening). */
  build(): FastifyInstance;
  listen(): Promise<number>;
  port(): number;
  close(): Promise<void>;
}

const JSON_TYPE = 'application/dicom+json';

export function createDicomwebServer(deps: DicomwebServerDeps): DicomwebServer {
  const { config, log } = deps;
  const diskFree =
    deps.diskFreeBytes ??
    (() => {
      const s = statfsSync(deps.dataDir);
      return s.bavail * s.bsize;
    });
  const authenticate = createAuthenticator(config);
  const tls = config.tls
    ? {
        ...readTlsFiles(config.tls, 'dicomweb.tls'),
        // Certificates are requested whenever a CA is configured; mtls auth checks them per request
        // (401 with a reason), requireClientCert refuses the handshake itself.
        requestCert: config.tls.ca !== undefined,
        rejectUnauthorized: config.tls.requireClientCert,
        minVersion: 'TLSv1.2' as const,
      }
    : undefined;
  if (config.enabled && config.auth?.type === 'none')
    log.warn('dicomweb.auth is none: anyone who reaches the DICOMweb port can store objects and read results');

  let app: FastifyInstance | undefined;
  // RetrieveURLs never come from the request's Host header (anyone can send one: issue 12): the
  // configured public URL, else the local address and port the request actually arrived on.
  const publicUrl = config.publicUrl?.replace(/\/$/, '');
  const baseUrl = (request: FastifyRequest): string => {
    if (publicUrl) return publicUrl;
    const socket = request.raw.socket as { localAddress?: string; localPort?: number } | undefined;
    const address = (socket?.localAddress ?? '').replace(/^::ffff:(?=\d+\.)/, '') || '127.0.0.1';
    const port = socket?.localPort ?? config.port;
    return `${tls ? 'https' : 'http'}://${address.includes(':') ? `[${address}]` : address}:${port}/dicomweb`;
  };

  function build(): FastifyInstance {
    if (app) return app;
    const instance = (tls
      ? Fastify({ https: tls, logger: false, connectionTimeout: config.idleTimeoutSeconds * 1000, requestTimeout: 0, return503OnClosing: true })
      : Fastify({
          logger: false,
          connectionTimeout: config.idleTimeoutSeconds * 1000,
          requestTimeout: 0,
          return503OnClosing: true,
        })) as unknown as FastifyInstance;
    app = instance;
    instance.server.on('connection', (socket: { setNoDelay?: (b: boolean) => void }) => socket.setNoDelay?.(true));
    // Bodies are read by the handlers as streams (STOW-RS parts go to disk part by part).
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('*', (_request: FastifyRequest, payload: IncomingMessage, done: (err: Error | null, body?: unknown) => void) =>
      done(null, payload),
    );

    instance.addHook('onRequest', async (request, reply) => {
      const decision = authenticate(request.raw);
      if (decision.ok) {
        (request as FastifyRequest & { caller?: Caller }).caller = decision;
        return;
      }
      log.warn({ peer: request.ip, method: request.method, url: request.url.split('?')[0], why: decision.why }, 'DICOMweb request refused (401)');
      if (decision.challenge) void reply.header('WWW-Authenticate', decision.challenge);
      return reply.code(401).send({ error: 'unauthorized', why: decision.why });
    });

    instance.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
      log.error({ err: describeError(err), url: request.url.split('?')[0] }, 'DICOMweb request failed');
      void reply.code(err.statusCode && err.statusCode >= 400 ? err.statusCode : 500).send({ error: err.message });
    });

    const stow = async (request: FastifyRequest<{ Params: { study?: string } }>, reply: FastifyReply): Promise<unknown> => {
      const started = performance.now();
      const expected = request.params.study;
      if (expected !== undefined && !isSafeUidPath(expected)) return reply.code(400).send({ error: 'the Study Instance UID in the URL is not a valid UID' });
      const media = parseMediaType(request.headers['content-type']);
      const partType = media?.params.type?.toLowerCase();
      if (!media || media.type !== 'multipart/related' || !media.params.boundary || (partType !== undefined && partType !== 'application/dicom')) {
        return reply
          .code(415)
          .send({ error: 'Content-Type must be multipart/related; type="application/dicom"; boundary=...', received: request.headers['content-type'] ?? null });
      }
      const declared = Number(request.headers['content-length'] ?? NaN);
      if (declared > config.maxRequestBytes) {
        log.warn({ peer: request.ip, bytes: declared, max: config.maxRequestBytes }, 'STOW-RS request larger than dicomweb.maxRequestBytes (413)');
        return reply
          .code(413)
          .header('Connection', 'close')
          .send({ error: `request body larger than dicomweb.maxRequestBytes (${config.maxRequestBytes})` });
      }
      if (deps.minFreeBytes > 0 && diskFree() < deps.minFreeBytes) {
        log.warn({ peer: request.ip }, 'STOW-RS refused: free disk space is below storage.minFreeBytes (507)');
        return reply.code(507).header('Connection', 'close').send({ error: 'free disk space is below storage.minFreeBytes; retry later' });
      }
      const caller = callerOf(request) ?? { callingAETitle: config.sourceAETitle, who: 'anonymous' };
      const requestId = randomUUID().slice(0, 8);
      const rlog = log.child({ stow: requestId, callingAETitle: caller.callingAETitle, who: caller.who, peer: request.ip });
      const upload = watchUpload(request.body as IncomingMessage, {
        windowSeconds: config.idleTimeoutSeconds,
        minBytesPerSecond: config.minUploadBytesPerSecond,
      });
      const result = await storeInstances(readMultipart(upload.stream, media.params.boundary, { maxBytes: config.maxRequestBytes }), {
        ingest: deps.ingest,
        log: rlog,
        source: {
          protocol: 'dicomweb',
          callingAETitle: caller.callingAETitle,
          calledAETitle: deps.calledAETitle ?? 'PRECEDENT',
          remoteAddress: request.ip,
          associationId: requestId,
        },
        expectedStudyInstanceUID: expected,
        baseUrl: baseUrl(request),
      });
      if (upload.expired()) {
        rlog.warn(
          { code: 'UPLOAD_TOO_SLOW', stored: result.stored.length, min: config.minUploadBytesPerSecond, windowSeconds: config.idleTimeoutSeconds },
          'STOW-RS body too slow: answered 408 and closed',
        );
        return reply
          .code(408)
          .header('Connection', 'close')
          .send({ error: `request body slower than dicomweb.minUploadBytesPerSecond (${config.minUploadBytesPerSecond}) over ${config.idleTimeoutSeconds} s` });
      }
      rlog.info(
        { stored: result.stored.length, failed: result.failed.length, status: result.status, ms: Math.round(performance.now() - started) },
        'STOW-RS request',
      );
      if (result.status === 413) void reply.header('Connection', 'close');
      return reply.code(result.status).type(JSON_TYPE).send(result.body);
    };
    instance.post('/dicomweb/studies', stow);
    instance.post('/dicomweb/studies/:study', stow);
    // Every QIDO-RS and WADO-RS route is behind the same onRequest authentication as STOW-RS; a
    // scoped token's searches and retrievals see only the studies its sources sent.
    const scope = (request: FastifyRequest): readonly string[] | undefined => callerOf(request)?.sources;
    registerQidoRoutes(instance, deps.objects, baseUrl, scope, log);
    const wado = { objects: deps.objects, pixels: deps.pixels, dataDir: deps.dataDir, baseUrl, scope };
    registerWadoRoutes(instance, wado);
    registerPixelRoutes(instance, wado);
    deps.routes?.(instance);
    return instance;
  }

  return {
    build,
    async listen() {
      const instance = build();
      await instance.listen({ port: config.port, host: config.host });
      const port = (instance.server.address() as { port: number }).port;
      log.info({ port, host: config.host, tls: tls !== undefined, auth: config.auth?.type ?? 'none' }, 'DICOMweb listening');
      return port;
    },
    port: () => {
      const address = app?.server.address();
      return typeof address === 'object' && address ? address.port : 0;
    },
    async close() {
      await app?.close();
    },
  };
}
