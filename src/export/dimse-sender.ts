// C-STORE SCU (dcmjs-dimse Client): one association per destination per pass. dcmjs-dimse proposes
// the object's own transfer syntax plus Implicit/Explicit VR Little Endian and transcodes when the
// destination accepts only another one.
import dcmjsDimse from 'dcmjs-dimse';
import type { Socket } from 'node:net';
import { readTlsFiles, type TlsFiles } from '../shared/tls.js';

const { Client, requests, constants } = dcmjsDimse;

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

const WARNINGS = new Set([0x0001, 0x0107, 0x0116]);

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
        status === constants.Status.Success || (status >= 0xb000 && status <= 0xbfff) || WARNINGS.has(status)
          ? { ok: true }
          : { ok: false, error: `status 0x${status.toString(16).padStart(4, '0')}${response.getErrorComment() ? `: ${response.getErrorComment()}` : ''}` };
      if (outcomes[i]?.ok) onStored?.(i);
    });
    client.addRequest(request);
  });
  const tls = destination.tls;
  // Read per association, so renewed certificates are picked up without a restart.
  const securityOptions = tls ? { ...readTlsFiles(tls, `export.destinations.${destination.name}.tls`), rejectUnauthorized: tls.rejectUnauthorized ?? true, minVersion: 'TLSv1.2' } : undefined;
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
      failure = `association rejected (result ${r.result}, source ${r.source}, reason ${r.reason})`;
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
    // Nagle would add ~40 ms per C-STORE on small objects.
    (client as unknown as { network?: { socket?: Socket } }).network?.socket?.setNoDelay(true);
  });
  return failure ? outcomes.map((o) => (o.ok ? o : { ok: false, error: failure ?? o.error })) : outcomes;
}
