// The DIMSE listener. We own the TCP server (rather than dcmjs-dimse's Server) to set TCP_NODELAY
// on every socket, count associations, bind to port 0 in tests and drain connections on shutdown.
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import dcmjsDimse from 'dcmjs-dimse';
import type { IngestService, IngestOutcome } from '../shared/types.js';
import type { Logger } from '../shared/log.js';
import type { DimseConfig } from '../config/schema.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../shared/implementation.js';
import { PrecedentScp } from './scp.js';

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

// dcmjs-dimse logs through loglevel to the console; our own pino lines cover what matters.
dcmjsDimse.log.setLevel('silent');

export function createDimseServer(deps: DimseServerDeps): DimseServer {
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

  const server: NetServer = createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', (err) => log.debug({ err: err.message }, 'socket error'));
    const scp = new PrecedentScp(socket, { ingest: deps.ingest, policy, log, activeAssociations: () => sockets.size, ...(deps.onStored ? { onStored: deps.onStored } : {}) }, scpOptions);
    sockets.set(socket, scp);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('error', (err) => log.error({ err: err.message }, 'DIMSE listener error'));

  return {
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          const address = server.address();
          const port = typeof address === 'object' && address ? address.port : config.port;
          log.info({ port, host: config.host, aeTitles: deps.aeTitles }, 'DIMSE listening');
          resolve(port);
        });
      }),
    port: () => {
      const address = server.address();
      return typeof address === 'object' && address ? address.port : 0;
    },
    activeAssociations: () => sockets.size,
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
