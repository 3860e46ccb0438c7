// STOW-RS (PS3.18 10.5): one multipart/related request per batch. The exporter sizes batches by bytes
// (export.stowBatchMaxBytes); here the body is streamed in small pieces and the timeout is on silence:
// every piece the destination takes, and its response, restart it. A whole-request timeout cut off a
// 1 MB/s destination in the middle of every large request (issue 12), so a backlog never cleared.
import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import type { SendOutcome } from './dimse-sender.js';

export interface StowDestination {
  name: string;
  url: string;
  /** Bearer token, or "user:password" for Basic. */
  token?: string | undefined;
  basic?: string | undefined;
  /** Longest silence: no body bytes taken and no response. */
  timeoutSeconds: number;
}

interface DicomJsonItem {
  [tag: string]: { Value?: unknown[] } | undefined;
}

// Small enough that a slow destination shows progress often, large enough to cost nothing.
const PIECE_BYTES = 64 * 1024;

/** SOP Instance UIDs listed in a STOW-RS response's Failed SOP Sequence (0008,1198). */
function failedUids(body: string): Set<string> {
  try {
    const json = JSON.parse(body) as DicomJsonItem;
    const items = (json['00081198']?.Value ?? []) as DicomJsonItem[];
    return new Set(items.map((item) => String(item['00081155']?.Value?.[0] ?? '')));
  } catch {
    return new Set();
  }
}

/** The body in pieces; `progress` is called as the destination takes each one. */
async function* pieces(parts: readonly Buffer[], progress: () => void): AsyncGenerator<Uint8Array> {
  for (const part of parts) {
    for (let off = 0; off < part.length; off += PIECE_BYTES) {
      progress();
      yield part.subarray(off, off + PIECE_BYTES);
    }
  }
  progress();
}

export async function stowFiles(destination: StowDestination, objects: ReadonlyArray<{ path: string; SOPInstanceUID: string }>): Promise<SendOutcome[]> {
  const files = objects.map((o) => o.path);
  const boundary = `precedent-${randomUUID()}`;
  const parts: Buffer[] = [];
  for (const file of files) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`, 'latin1'), await readFile(file), Buffer.from('\r\n', 'latin1'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`, 'latin1'));
  const headers: Record<string, string> = {
    'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
    'Content-Length': String(parts.reduce((n, p) => n + p.length, 0)),
    Accept: 'application/dicom+json',
  };
  if (destination.token) headers.Authorization = `Bearer ${destination.token}`;
  else if (destination.basic) headers.Authorization = `Basic ${Buffer.from(destination.basic).toString('base64')}`;
  const silence = new AbortController();
  const limitMs = destination.timeoutSeconds * 1000;
  const expire = (): void => silence.abort(new Error(`no progress within ${destination.timeoutSeconds} s`));
  let timer = setTimeout(expire, limitMs);
  const progress = (): void => {
    clearTimeout(timer);
    timer = setTimeout(expire, limitMs);
  };
  try {
    const response = await fetch(destination.url.replace(/\/$/, '') + '/studies', {
      method: 'POST',
      headers,
      body: pieces(parts, progress) as unknown as RequestInit['body'],
      duplex: 'half',
      signal: silence.signal,
    } as RequestInit & { duplex: 'half' });
    progress();
    // 200: all stored; 202: some stored, the others are in the Failed SOP Sequence; 409 and others: none.
    if (response.status === 200) {
      await response.body?.cancel();
      return files.map(() => ({ ok: true }));
    }
    const body = await response.text();
    if (response.status === 202) {
      const failed = failedUids(body);
      return objects.map((o) => (failed.has(o.SOPInstanceUID) ? { ok: false, error: 'STOW-RS: listed in Failed SOP Sequence' } : { ok: true }));
    }
    return files.map(() => ({ ok: false, error: `STOW-RS HTTP ${response.status}${body ? `: ${body.slice(0, 200)}` : ''}` }));
  } catch (err) {
    const reason =
      silence.signal.aborted && silence.signal.reason instanceof Error ? silence.signal.reason.message : err instanceof Error ? err.message : String(err);
    return files.map(() => ({ ok: false, error: `STOW-RS request failed: ${reason}` }));
  } finally {
    clearTimeout(timer);
  }
}
