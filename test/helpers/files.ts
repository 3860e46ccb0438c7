// Content-level checks of stored Part 10 files. Senders such as dcmtk may re-encode lengths
// (undefined-length sequences become explicit), so files are compared element by element and
// pixel data by digest, not byte for byte.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import dcmjs from 'dcmjs';

function canonical(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return `sha256:${createHash('sha256').update(Buffer.from(value)).digest('hex')}`;
  if (ArrayBuffer.isView(value)) return canonical(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([k]) => !k.startsWith('_'))
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}

/** The data set of a Part 10 file (File Meta excluded) in a canonical, comparable form. */
export function datasetContent(file: string): string {
  const bytes = readFileSync(file);
  const dict = dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  return JSON.stringify(canonical(dict.dict));
}

/** The File Meta Transfer Syntax UID. */
export function fileTransferSyntax(file: string): string {
  const bytes = readFileSync(file);
  const dict = dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, {
    untilTag: '00080016',
  });
  return String(dict.meta['00020010']?.Value?.[0] ?? '');
}
