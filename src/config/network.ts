// Configuration of the network surfaces beside DIMSE: TLS (DIMSE listener and C-STORE SCU), the
// DICOMweb listener (STOW-RS in, QIDO-RS/WADO-RS of every stored object out) and the operations API.
// Files are paths to PEM files, read when the listener starts.
import { z } from 'zod';
import { aeTitle, port, seconds } from './primitives.js';

const pemFile = z.string().min(1);

export const tlsServerSchema = z
  .object({
    /** PEM private key of this node (not encrypted). */
    key: pemFile,
    /** PEM certificate (chain) of this node. */
    cert: pemFile,
    /** PEM CA certificate(s) that client certificates must chain to. Needed for client certificates. */
    ca: pemFile.optional(),
    /** Refuse the TLS handshake unless the peer presents a certificate signed by `ca` (mutual TLS). */
    requireClientCert: z.boolean().default(false),
  })
  .strict()
  .refine((t) => !t.requireClientCert || t.ca !== undefined, { path: ['ca'], message: 'requireClientCert needs ca (the CA that signs client certificates)' });

export const tlsClientSchema = z
  .object({
    /** PEM CA certificate(s) the destination's certificate must chain to (default: the CA list built into Node.js, not the system store; set it for a hospital CA). */
    ca: pemFile.optional(),
    /** PEM client certificate, for destinations that require one. */
    cert: pemFile.optional(),
    /** PEM private key of the client certificate. */
    key: pemFile.optional(),
    /** Verify the destination's certificate and host name. Turn off only for tests. */
    rejectUnauthorized: z.boolean().default(true),
  })
  .strict()
  .refine((t) => (t.cert === undefined) === (t.key === undefined), { path: ['key'], message: 'cert and key go together' });

const bearerToken = z.union([
  z.string().min(16, 'tokens must have at least 16 characters'),
  z
    .object({
      token: z.string().min(16, 'tokens must have at least 16 characters'),
      /** Recorded as the sender (calling AE title) of what this token stores. */
      aeTitle,
      /** Scope: QIDO-RS/WADO-RS show this token only studies received from these calling AE titles (and their results). Unset: every study. */
      sources: z.array(aeTitle).min(1).optional(),
    })
    .strict(),
]);

const dicomwebAuth = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }).strict(),
  z.object({ type: z.literal('bearer'), tokens: z.array(bearerToken).min(1) }).strict(),
  z.object({ type: z.literal('mtls') }).strict(),
]);

export const dicomwebSchema = z
  .object({
    /** Run the DICOMweb listener (STOW-RS, QIDO-RS/WADO-RS of received images and results). */
    enabled: z.boolean().default(false),
    /** Address to listen on. */
    host: z.string().default('0.0.0.0'),
    /** TCP port (0 = any free port). */
    port: port.default(8080),
    /** Required when enabled: { type: none } | { type: bearer, tokens: [...] } | { type: mtls } (client certificate signed by dicomweb.tls.ca). */
    auth: dicomwebAuth.optional(),
    /** HTTPS: key, cert, ca, requireClientCert. Unset: plain HTTP. */
    tls: tlsServerSchema.optional(),
    /** Largest STOW-RS request body in bytes; larger requests get 413. */
    maxRequestBytes: z
      .number()
      .int()
      .positive()
      .default(4 * 1024 * 1024 * 1024),
    /** Calling AE title recorded for objects received by STOW-RS (metrics, export routing, File Meta) unless the token names one. */
    sourceAETitle: aeTitle.default('STOW'),
    /** Public base URL used in RetrieveURL values, e.g. https://precedent.example.org/dicomweb. Unset: the local address and port each request arrived on (never the request's Host header, which any client can set). */
    publicUrl: z.string().url().optional(),
    /** A request that sends no bytes for this long is aborted. */
    idleTimeoutSeconds: seconds.default(60),
    /** A STOW-RS body must bring at least this many bytes per second over each idleTimeoutSeconds window; a slower one (a trickle) is answered 408 and closed. */
    minUploadBytesPerSecond: z.number().int().min(1).default(1024),
  })
  .strict()
  .refine((d) => !d.enabled || d.auth !== undefined, {
    path: ['auth'],
    message: 'required when dicomweb.enabled: choose {type: bearer, tokens: [...]}, {type: mtls} or, explicitly, {type: none}',
  })
  .refine((d) => d.auth?.type !== 'mtls' || d.tls?.ca !== undefined, { path: ['tls', 'ca'], message: 'auth type mtls needs dicomweb.tls with ca' });

export const opsSchema = z
  .object({
    /** Run the operations API (/healthz, /readyz, /metrics, /studies/{uid}) in `precedent serve`. */
    enabled: z.boolean().default(true),
    /** Address to listen on; keep it on loopback or a management network: it has no authentication. */
    host: z.string().default('127.0.0.1'),
    /** TCP port of `precedent serve`'s operations API (0 = any free port). */
    port: port.default(9090),
    /** TCP port of `precedent worker`'s operations API (/healthz, /readyz, /metrics); unset: none. */
    workerPort: port.optional(),
    /** Each readiness check must answer within this time. */
    readinessTimeoutSeconds: seconds.default(2),
  })
  .strict();

export type TlsServerConfig = z.infer<typeof tlsServerSchema>;
export type TlsClientConfig = z.infer<typeof tlsClientSchema>;
export type DicomwebConfig = z.infer<typeof dicomwebSchema>;
export type OpsConfig = z.infer<typeof opsSchema>;
