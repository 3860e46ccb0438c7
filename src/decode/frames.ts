// A frame's bytes from dcmjs's Pixel Data value. dcmjs hands native pixel data as one buffer, and
// encapsulated pixel data as one buffer per frame when the Basic Offset Table is filled, otherwise
// one buffer per fragment (PS3.5 A.4), which may split a frame.
import { PrecedentError } from '../shared/errors.js';

function toBytes(v: unknown): Uint8Array | undefined {
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return undefined;
}

/** The buffers of a Pixel Data value (frames, fragments or the single native buffer). */
export function pixelDataBuffers(pixelData: unknown): Uint8Array[] {
  const list = Array.isArray(pixelData) ? (pixelData as unknown[]) : [pixelData];
  const out: Uint8Array[] = [];
  for (const v of list) {
    const b = toBytes(v);
    if (b === undefined) throw new PrecedentError('DECODE_FAILED', 'Pixel Data has an unexpected form');
    out.push(b);
  }
  if (out.length === 0) throw new PrecedentError('DECODE_FAILED', 'Pixel Data is empty');
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1 && parts[0] !== undefined) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Native: frame n (0-based) is the n-th run of `frameBytes` bytes of the single value. */
export function nativeFrame(buffers: Uint8Array[], frameBytes: number, index = 0): Uint8Array {
  const all = concat(buffers);
  if (all.byteLength < frameBytes * (index + 1)) {
    throw new PrecedentError(
      'DECODE_FAILED',
      `Pixel Data holds ${all.byteLength} bytes, ${index === 0 ? 'one frame needs' : `frame ${index + 1} ends at`} ${frameBytes * (index + 1)} (truncated?)`,
    );
  }
  return all.subarray(frameBytes * index, frameBytes * (index + 1));
}

export const nativeFirstFrame = (buffers: Uint8Array[], frameBytes: number): Uint8Array => nativeFrame(buffers, frameBytes, 0);

/** True where a fragment begins a new JPEG/JPEG-LS (SOI FFD8) or JPEG 2000 (SOC FF4F) codestream. */
export function startsCodestream(fragment: Uint8Array): boolean {
  return fragment[0] === 0xff && (fragment[1] === 0xd8 || fragment[1] === 0x4f);
}

/**
 * Encapsulated: one buffer per frame (offset table, or one fragment per frame) is the easy case. A
 * single-frame image owns every fragment. Otherwise a frame runs until the next fragment that opens
 * a codestream (RLE has exactly one fragment per frame, PS3.5 A.4.2, so it never gets here).
 */
export function encapsulatedFrames(buffers: Uint8Array[], numberOfFrames: number): Uint8Array[] {
  if (numberOfFrames === 1) return [concat(buffers)];
  if (buffers.length === numberOfFrames) return buffers;
  if (buffers.length < numberOfFrames) {
    throw new PrecedentError('DECODE_FAILED', `Pixel Data has ${buffers.length} fragments for ${numberOfFrames} frames`);
  }
  const frames: Uint8Array[][] = [];
  for (const [i, b] of buffers.entries()) {
    if (i === 0 || (startsCodestream(b) && frames.length < numberOfFrames)) frames.push([b]);
    else frames[frames.length - 1]?.push(b);
  }
  return frames.map(concat);
}

export function encapsulatedFirstFrame(buffers: Uint8Array[], numberOfFrames: number): Uint8Array {
  return encapsulatedFrames(buffers, numberOfFrames)[0] ?? new Uint8Array(0);
}
