// The DIMSE listener. We own the TCP server (rather than dcmjs-dimse's Server) to set TCP_NODELAY
// on every socket, count associations, bind to port 0 in tests and drain connections on shutdown.
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { readTlsFiles } from '../shared/tls.js';
import dcmjsDimse from 'dcmjs-dimse';
import type { IngestService, IngestOutcome } from '../shared/types.js';
import type { Logger } from '../shared/log.js';
import type { DimseConfig } from '../config/schema.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../shared/implementation.js';
import { PrecedentScp } from './scp.js';
import { installDirectCommandDecoding } from './command-set.js';
import { describeError } from '../shared/errors.js';

export interface DimseServer {
  listen(): Promise<number>;
  port(): number;
  activeAssociations(): number;
  /** Stops accepting; waits up to `graceMs` for open associations, then aborts them. */
  close(graceMs?: number): Promise<void>;
}

export interface DimseServerDeps {
  config: DimseConfig;
  /** AE titles this node answers to (dimse.aeTitle and, later, the archive AE title). */
  aeTitles: readonly string[];
  ingest: IngestService;
  log: Logger;
  onStored?: (outcome: IngestOutcome) => void;
}

// Connections not yet associated are closed by ARTIM; this bounds how many may wait at once (sockets,
// file descriptors), whatever the peers do.
const MAX_CONNECTIONS_PER_ASSOCIATION = 8;

// dcmjs-dimse logs through loglevel to the console; our own pino lines cover what matters.
dcmjsDimse.log.setLevel('silent');

export function createDimseServer(deps: DimseServerDeps): DimseServer {
  installDirectCommandDecoding();
  const { config, log } = deps;
  dcmjsDimse.Implementation.setMaxPduLength(config.maxPduLength);
  dcmjsDimse.Implementation.setImplementationClassUid(IMPLEMENTATION_CLASS_UID);
  dcmjsDimse.Implementation.setImplementationVersion(IMPLEMENTATION_VERSION_NAME);
  const sockets = new Map<Socket, PrecedentScp>();
  const policy = {
    aeTitles: deps.aeTitles,
    allowedCallingAETitles: config.allowedCallingAETitles,
    allowedHosts: config.allowedHosts,
    maxAssociations: config.maxAssociations,
  };
  const scpOptions = {
    associationTimeout: config.idleTimeoutSeconds * 1000,
    pduTimeout: config.idleTimeoutSeconds * 1000,
  };

  // Only accepted associations count against dimse.maxAssociations: an idle connection is not one.
  const activeAssociations = (): number => [...sockets.values()].filter((s) => s.isAssociated()).length;
  const onConnection = (socket: Socket): void => {
    socket.setNoDelay(true);
    socket.on('error', (err) => log.debug({ err: err.message }, 'socket error'));
    if (sockets.size >= MAX_CONNECTIONS_PER_ASSOCIATION * config.maxAssociations) {
      log.warn({ peer: socket.remoteAddress, connections: sockets.size }, 'too many open connections; closing a new one at once');
      socket.destroy();
      return;
    }
    let scp: PrecedentScp;
    try {
      scp = new PrecedentScp(
        socket,
        { ingest: deps.ingest, policy, log, activeAssociations, maxPduLength: config.maxPduLength, ...(deps.onStored ? { onStored: deps.onStored } : {}) },
        scpOptions,
      );
    } catch (err) {
      log.error({ code: 'ASSOCIATION_FAILED', err: describeError(err) }, 'cannot set up a connection; closing it');
      socket.destroy();
      return;
    }
    sockets.set(socket, scp);
    // ARTIM (PS3.8 9.1.5): a connection that has not sent an A-ASSOCIATE-RQ in time is closed.
    const artim = setTimeout(() => {
      if (scp.hasRequested()) return;
      log.info({ peer: socket.remoteAddress }, 'no A-ASSOCIATE-RQ within dimse.artimSeconds; connection closed');
      socket.destroy();
    }, config.artimSeconds * 1000);
    artim.unref();
    socket.on('close', () => {
      clearTimeout(artim);
      sockets.delete(socket);
    });
  };
  // DICOM TLS (PS3.15 B.9): associations start once the handshake has succeeded.
  const server: NetServer = config.tls
    ? createTlsServer(
        {
          ...readTlsFiles(config.tls, 'dimse.tls'),
          requestCert: config.tls.ca !== undefined,
          rejectUnauthorized: config.tls.requireClientCert,
          minVersion: 'TLSv1.2',
        },
        (socket: TLSSocket) => onConnection(socket),
      ).on('tlsClientError', (err, socket) => log.warn({ err: err.message, peer: socket.remoteAddress }, 'TLS handshake failed'))
    : createServer(onConnection);
  server.on('error', (err) => log.error({ err: err.message }, 'DIMSE listener error'));

  return {
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          const address = server.address();
          const port = typeof address === 'object' && address ? address.port : config.port;
          log.info({ port, host: config.host, aeTitles: deps.aeTitles, tls: config.tls !== undefined }, 'DIMSE listening');
          resolve(port);
        });
      }),
    port: () => {
      const address = server.address();
      return typeof address === 'object' && address ? address.port : 0;
    },
    activeAssociations,
    async close(graceMs = 5000) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        const deadline = setTimeout(() => {
          for (const scp of sockets.values()) scp.abortAssociation();
        }, graceMs);
        deadline.unref();
        if (sockets.size === 0) clearTimeout(deadline);
      });
    },
  };
}
