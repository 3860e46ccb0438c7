// WADO-RS frames and Pixel Data bulk data (PS3.18 10.4.1.1.3/.4) of objects stored in a native
// (uncompressed) transfer syntax: the frames are cut from the Pixel Data value as stored. Compressed
// objects are not transcoded here (the caller answers 406).
import { readFileSync } from 'node:fs';
import dcmjs from 'dcmjs';

const NATIVE = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.1.99']);
/** Little endian in every native syntax we send (Explicit VR Big Endian is retired and not offered). */
export const FRAME_SYNTAX = '1.2.840.10008.1.2.1';

export type PixelData = { frames: Buffer[] } | { unavailable: string };

const int = (v: unknown): number => (typeof v === 'number' ? v : Number(String(v ?? '').trim()));

export function readPixelData(path: string, transferSyntaxUID: string): PixelData {
  if (!NATIVE.has(transferSyntaxUID)) return { unavailable: `stored in ${transferSyntaxUID}, which is not transcoded for frame retrieval` };
  const bytes = readFileSync(path);
  const ds = dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer).dict;
  const value = ds['7FE00010']?.Value?.[0];
  if (!(value instanceof ArrayBuffer)) return { unavailable: 'the object has no Pixel Data' };
  const get = (tag: string): number => int(ds[tag]?.Value?.[0]);
  const frameCount = Math.max(1, get('00280008') || 1);
  const frameBytes = (get('00280010') * get('00280011') * Math.max(1, get('00280002') || 1) * get('00280100')) / 8;
  if (!Number.isInteger(frameBytes) || frameBytes <= 0 || frameBytes * frameCount > value.byteLength) {
    return { unavailable: 'Pixel Data is shorter than Rows x Columns x Samples x Bits Allocated x Number of Frames' };
  }
  const all = Buffer.from(value);
  return { frames: Array.from({ length: frameCount }, (_, i) => all.subarray(i * frameBytes, (i + 1) * frameBytes)) };
}

/** "1,3" -> [1, 3]; undefined when a number is not a frame of the object. */
export function frameNumbers(list: string, frameCount: number): number[] | undefined {
  const numbers = list.split(',').map((n) => (/^\d{1,9}$/.test(n.trim()) ? Number(n) : NaN));
  return numbers.every((n) => n >= 1 && n <= frameCount) ? numbers : undefined;
}

/** Accept for frames/bulk data: application/octet-stream (multipart or single), or a wildcard. */
export function acceptsOctets(accept: string | undefined): boolean {
  if (!accept) return true;
  return accept
    .split(',')
    .map((a) => a.trim().toLowerCase())
    .some((a) => a.startsWith('*/*') || a.startsWith('multipart/*') || a.startsWith('application/octet-stream') || (a.startsWith('multipart/related') && (!a.includes('type=') || /type="?application\/octet-stream"?/.test(a))));
}
