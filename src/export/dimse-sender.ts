// C-STORE SCU (dcmjs-dimse Client): one association per destination per pass. dcmjs-dimse proposes
// the object's own transfer syntax plus Implicit/Explicit VR Little Endian and transcodes when the
// destination accepts only another one.
import dcmjsDimse from 'dcmjs-dimse';
import type { Socket } from 'node:net';
import { isStorageWarning, Status } from '../dicom/status.js';
import { readTlsFiles, type TlsFiles } from '../shared/tls.js';

const { Client, requests } = dcmjsDimse;

export interface DimseDestination {
  name: string;
  aeTitle: string;
  host: string;
  port: number;
  callingAETitle: string;
  timeoutSeconds: number;
  /** DICOM TLS: PEM files (ca to verify the destination; cert + key when it wants a client certificate). */
  tls?: (TlsFiles & { rejectUnauthorized?: boolean }) | undefined;
}

export type SendOutcome = { ok: true } | { ok: false; error: string };

let transcodingReady: Promise<void> | undefined;

const WARNINGS = new Set<number>([Status.RequestedOptionalAttributesNotSupported, Status.AttributeListError, Status.AttributeValueOutOfRange]);

// PS3.8 9.3.4 (A-ASSOCIATE-RJ) and 9.3.8 (A-ABORT): what the destination's refusal means, so that the
// log says "calling AE title not recognised" rather than that nothing came back.
const RJ_RESULT: Record<number, string> = { 1: 'permanent', 2: 'transient' };
const RJ_REASON: Record<number, Record<number, string>> = {
  1: { 1: 'no reason given', 2: 'application context name not supported', 3: 'calling AE title not recognised', 7: 'called AE title not recognised' },
  2: { 1: 'no reason given', 2: 'protocol version not supported' },
  3: { 1: 'temporary congestion', 2: 'local limit exceeded' },
};
const RJ_SOURCE: Record<number, string> = { 1: 'service user', 2: 'service provider (ACSE)', 3: 'service provider (presentation)' };
const ABORT_REASON: Record<number, string> = {
  0: 'not specified',
  1: 'unrecognised PDU',
  2: 'unexpected PDU',
  4: 'unrecognised PDU parameter',
  5: 'unexpected PDU parameter',
  6: 'invalid PDU parameter value',
};

export function describeRejection(r: { result: number; source: number; reason: number }): string {
  const reason = RJ_REASON[r.source]?.[r.reason] ?? `reason ${r.reason}`;
  return `association rejected by the destination (${RJ_RESULT[r.result] ?? `result ${r.result}`}): ${reason}; source ${RJ_SOURCE[r.source] ?? r.source}`;
}

export function describeAbort(a: { source: number; reason: number }): string {
  // Only the service provider gives a reason; a service user's A-ABORT carries none (PS3.8 9.3.8).
  return a.source === 2
    ? `association aborted by the destination's DICOM service provider: ${ABORT_REASON[a.reason] ?? `reason ${a.reason}`}`
    : 'association aborted by the destination (service user)';
}

/**
 * The smallest Maximum Length (PS3.8 D.1) a destination may announce. dcmjs-dimse fragments data sets
 * into PDUs of (announced - 6) bytes: an announced 4 made that step negative, an endless loop that
 * filled the heap, and the outbox item then crashed the node again at every start. dcmtk's own lower
 * bound is 4096; 1024 leaves room for any real peer.
 */
export const MIN_DESTINATION_PDU_LENGTH = 1024;

/**
 * Sends files on one association; resolves with one outcome per file, in order. `onStored(i)` is
 * called as each file's successful response arrives, so the caller can record it at once: a crash
 * later in the pass then re-sends only what was not acknowledged.
 */
export async function cStoreFiles(destination: DimseDestination, files: readonly string[], onStored?: (index: number) => void): Promise<SendOutcome[]> {
  transcodingReady ??= dcmjsDimse.Transcoding.initializeAsync();
  await transcodingReady;
  const outcomes: SendOutcome[] = files.map(() => ({ ok: false, error: 'no response (association ended)' }));
  const client = new Client();
  // The timeout is for silence, not for the whole pass: every C-STORE response restarts it, so a slow
  // PACS working through a backlog of hundreds of objects is not cut off while it keeps answering.
  let rearm = (): void => undefined;
  files.forEach((file, i) => {
    const request = new requests.CStoreRequest(file);
    request.on('response', (response: dcmjsDimse.responses.CStoreResponse) => {
      rearm();
      const status = response.getStatus();
      // Success and Warning (0xB000-0xBFFF: coercion, elements discarded; 0x0001, 0x0107, 0x0116: the
      // general warnings of PS3.7 Annex C) all mean "stored".
      outcomes[i] =
        status === Status.Success || isStorageWarning(status) || WARNINGS.has(status)
          ? { ok: true }
          : { ok: false, error: `status 0x${status.toString(16).padStart(4, '0')}${response.getErrorComment() ? `: ${response.getErrorComment()}` : ''}` };
      if (outcomes[i]?.ok) onStored?.(i);
    });
    client.addRequest(request);
  });
  const tls = destination.tls;
  // Read per association, so renewed certificates are picked up without a restart.
  const securityOptions = tls
    ? { ...readTlsFiles(tls, `export.destinations.${destination.name}.tls`), rejectUnauthorized: tls.rejectUnauthorized ?? true, minVersion: 'TLSv1.2' }
    : undefined;
  let failure: string | undefined;
  await new Promise<void>((resolve) => {
    const expire = (): void => {
      failure = `no answer within ${destination.timeoutSeconds} s`;
      try {
        client.abort();
      } catch {
        // not connected
      }
      resolve();
    };
    let timer = setTimeout(expire, destination.timeoutSeconds * 1000);
    rearm = () => {
      clearTimeout(timer);
      timer = setTimeout(expire, destination.timeoutSeconds * 1000);
    };
    const finish = (): void => {
      clearTimeout(timer);
      resolve();
    };
    // Called before the library sends the first request: refuse an absurd Maximum Length here.
    client.on('associationAccepted', (association: dcmjsDimse.association.Association) => {
      const max = association.getMaxPduLength();
      if (max === 0 || max >= MIN_DESTINATION_PDU_LENGTH) return;
      failure = `destination announced a maximum PDU length of ${max} bytes (below ${MIN_DESTINATION_PDU_LENGTH}): association aborted`;
      client.clearRequests();
      try {
        client.abort();
      } catch {
        // already gone
      }
      (client as unknown as { network?: { socket?: Socket } }).network?.socket?.destroy();
      finish();
    });
    client.on('associationRejected', (r: { result: number; source: number; reason: number }) => {
      failure = describeRejection(r);
    });
    client.on('networkError', (e: Error) => {
      failure = `network error: ${e.message}`;
      finish();
    });
    client.on('closed', finish);
    client.send(destination.host, destination.port, destination.callingAETitle, destination.aeTitle, {
      connectTimeout: destination.timeoutSeconds * 1000,
      associationTimeout: destination.timeoutSeconds * 1000,
      pduTimeout: destination.timeoutSeconds * 1000,
      ...(securityOptions ? { securityOptions } : {}),
    });
    const network = (
      client as unknown as { network?: { socket?: Socket; on(event: 'abort', listener: (a: { source: number; reason: number }) => void): void } }
    ).network;
    // Nagle would add ~40 ms per C-STORE on small objects.
    network?.socket?.setNoDelay(true);
    // dcmjs-dimse's Client does not pass an A-ABORT on: without this a refusal by abort reads as
    // "no response (association ended)".
    network?.on('abort', (a) => {
      failure = describeAbort(a);
    });
  });
  return failure ? outcomes.map((o) => (o.ok ? o : { ok: false, error: failure ?? o.error })) : outcomes;
}
