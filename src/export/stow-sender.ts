// STOW-RS (PS3.18 10.5): one multipart/related request per destination per pass.
import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import type { SendOutcome } from './dimse-sender.js';

export interface StowDestination {
  name: string;
  url: string;
  /** Bearer token, or "user:password" for Basic. */
  token?: string | undefined;
  basic?: string | undefined;
  timeoutSeconds: number;
}

interface DicomJsonItem {
  [tag: string]: { Value?: unknown[] } | undefined;
}

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
    Accept: 'application/dicom+json',
  };
  if (destination.token) headers.Authorization = `Bearer ${destination.token}`;
  else if (destination.basic) headers.Authorization = `Basic ${Buffer.from(destination.basic).toString('base64')}`;
  try {
    const response = await fetch(destination.url.replace(/\/$/, '') + '/studies', {
      method: 'POST',
      headers,
      body: Buffer.concat(parts),
      signal: AbortSignal.timeout(destination.timeoutSeconds * 1000),
    });
    // 200: all stored; 202: some stored, the others are in the Failed SOP Sequence; 409 and others: none.
    if (response.status === 200) return files.map(() => ({ ok: true }));
    const body = await response.text();
    if (response.status === 202) {
      const failed = failedUids(body);
      return objects.map((o) => (failed.has(o.SOPInstanceUID) ? { ok: false, error: 'STOW-RS: listed in Failed SOP Sequence' } : { ok: true }));
    }
    return files.map(() => ({ ok: false, error: `STOW-RS HTTP ${response.status}${body ? `: ${body.slice(0, 200)}` : ''}` }));
  } catch (err) {
    return files.map(() => ({ ok: false, error: `STOW-RS request failed: ${err instanceof Error ? err.message : String(err)}` }));
  }
}
