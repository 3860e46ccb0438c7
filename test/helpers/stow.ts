// STOW-RS from a real HTTP client (Node's fetch) and a multipart/related reader for the answers.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface Part {
  bytes: Buffer;
  contentType?: string;
}

export function multipartBody(parts: readonly Part[], boundary = `b-${randomUUID()}`): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [Buffer.from('preamble to ignore\r\n')];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: ${p.contentType ?? 'application/dicom'}\r\n\r\n`), p.bytes, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/related; type="application/dicom"; boundary="${boundary}"` };
}

export const fileParts = (paths: readonly string[]): Part[] => paths.map((p) => ({ bytes: readFileSync(p) }));

export interface StowAnswer {
  status: number;
  json: Record<string, { vr: string; Value?: unknown[] }>;
  headers: Headers;
}

export async function stow(url: string, parts: readonly Part[], options: { token?: string; contentType?: string } = {}): Promise<StowAnswer> {
  const { body, contentType } = multipartBody(parts);
  const headers: Record<string, string> = { 'Content-Type': options.contentType ?? contentType, Accept: 'application/dicom+json' };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as StowAnswer['json']) : {}, headers: response.headers };
}

type Item = Record<string, { vr: string; Value?: unknown[] }>;

/** Items of a sequence attribute in a DICOM JSON answer. */
export function items(json: StowAnswer['json'], tag: string): Item[] {
  return (json[tag]?.Value ?? []) as Item[];
}

export const value = (item: Item, tag: string): unknown => item[tag]?.Value?.[0];

/** Splits a multipart/related body into its parts' bytes. */
export function splitMultipart(body: Buffer, contentType: string): Array<{ headers: string; bytes: Buffer }> {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!boundary) throw new Error(`no boundary in ${contentType}`);
  const delimiter = Buffer.from(`--${boundary}`);
  const out: Array<{ headers: string; bytes: Buffer }> = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const headerEnd = body.indexOf('\r\n\r\n', start);
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), headerEnd);
    out.push({ headers: body.subarray(start + 2, headerEnd).toString(), bytes: body.subarray(headerEnd + 4, next) });
    at = next + 2;
  }
  return out;
}

/** One Prometheus sample value (labels given in any order); undefined when absent. */
export function sample(metrics: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^([^{\s]+)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const found = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(m[3]);
  }
  return undefined;
}
