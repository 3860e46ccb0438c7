// Who may use the DICOMweb listener: nobody but bearer-token holders, holders of a client certificate
// signed by dicomweb.tls.ca (mutual TLS), or, when configured explicitly, anyone.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { DicomwebConfig } from '../config/schema.js';

/** `sources`: the caller is scoped to studies received from these calling AE titles (QIDO-RS, WADO-RS). */
export type AuthDecision = { ok: true; callingAETitle: string; who: string; sources?: readonly string[] } | { ok: false; why: string; challenge?: string };

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export function createAuthenticator(config: DicomwebConfig): (request: IncomingMessage) => AuthDecision {
  const auth = config.auth ?? { type: 'none' as const };
  switch (auth.type) {
    case 'none':
      return () => ({ ok: true, callingAETitle: config.sourceAETitle, who: 'anonymous' });
    case 'mtls':
      return (request) => {
        const socket = request.socket as Partial<TLSSocket>;
        if (!socket.encrypted) return { ok: false, why: 'mutual TLS required: this connection is not TLS' };
        if (socket.authorized !== true) {
          const error = socket.authorizationError;
          return { ok: false, why: `no client certificate signed by dicomweb.tls.ca${error ? ` (${String(error)})` : ''}` };
        }
        const cert = socket.getPeerCertificate?.();
        const cn = cert && typeof cert.subject?.CN === 'string' ? cert.subject.CN : 'client certificate';
        return { ok: true, callingAETitle: config.sourceAETitle, who: `cert:${cn}` };
      };
    case 'bearer': {
      // Compared as SHA-256 digests with timingSafeEqual: equal lengths, no early exit.
      const tokens = auth.tokens.map((t, i) =>
        typeof t === 'string'
          ? { hash: digest(t), aeTitle: config.sourceAETitle, who: `token#${i + 1}`, sources: undefined }
          : { hash: digest(t.token), aeTitle: t.aeTitle, who: `token#${i + 1}`, sources: t.sources },
      );
      const challenge = 'Bearer realm="precedent"';
      return (request) => {
        const header = request.headers.authorization;
        if (!header) return { ok: false, why: 'no Authorization header', challenge };
        const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
        if (!match?.[1]) return { ok: false, why: 'Authorization is not a Bearer token', challenge };
        const offered = digest(match[1]);
        let found: (typeof tokens)[number] | undefined;
        for (const t of tokens) if (timingSafeEqual(t.hash, offered)) found = t;
        if (!found) return { ok: false, why: 'invalid token', challenge: `${challenge}, error="invalid_token"` };
        return found.sources
          ? { ok: true, callingAETitle: found.aeTitle, who: found.who, sources: found.sources }
          : { ok: true, callingAETitle: found.aeTitle, who: found.who };
      };
    }
  }
}
