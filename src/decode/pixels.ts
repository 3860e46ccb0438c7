// WADO-RS pixels (shared/pixels.ts) from a stored Part 10 file: frames as stored (native samples, or
// one codestream per frame) or decoded to native samples, and the whole object written in another
// transfer syntax. Runs on the decode threads (pixel-pool.ts): decoding and encoding are CPU-bound.
import dcmjs from 'dcmjs';
import dcmjsCodecs from 'dcmjs-codecs';
import { PrecedentError } from '../shared/errors.js';
import { NATIVE_SYNTAXES, TransferSyntax } from '../dicom/uids.js';
import type { FrameAnswer, FrameRequest } from '../shared/pixels.js';
import { nativeSamplesPerFrame, readImageAttributes } from './attributes.js';
import { discardInstance, initCodecs } from './codecs.js';
import { frameSamples, parse } from './decoder.js';
import { encapsulatedFrames, nativeFrame, pixelDataBuffers } from './frames.js';
import { readImageFile } from './raster.js';
import { frameByteLength } from './unpack.js';

/** A copy in a buffer of its own: a view into the whole Pixel Data would post all of it to the caller. */
const own = (bytes: Uint8Array): Uint8Array => bytes.slice();

export async function readFrames(request: FrameRequest): Promise<FrameAnswer> {
  const p = parse(await readImageFile(request.path));
  if (p.dataset['PixelData'] === undefined) return { ok: false, why: 'none', frameCount: 0 };
  const attrs = readImageAttributes(p.dataset);
  const count = attrs.numberOfFrames;
  const numbers = request.numbers ?? Array.from({ length: count }, (_, i) => i + 1);
  if (numbers.some((n) => n < 1 || n > count)) return { ok: false, why: 'range', frameCount: count };
  const buffers = pixelDataBuffers(p.dataset['PixelData']);
  if (NATIVE_SYNTAXES.has(p.transferSyntaxUID)) {
    // Every native syntax holds little-endian samples: frames of Implicit VR files are the same bytes.
    const size = frameByteLength(nativeSamplesPerFrame(attrs), attrs.format.bitsAllocated);
    return { ok: true, transferSyntaxUID: TransferSyntax.ExplicitVRLittleEndian, frames: numbers.map((n) => own(nativeFrame(buffers, size, n - 1))) };
  }
  if (request.as === 'stored') {
    const frames = encapsulatedFrames(buffers, count);
    return { ok: true, transferSyntaxUID: p.transferSyntaxUID, frames: numbers.map((n) => own(frames[n - 1] ?? new Uint8Array(0))) };
  }
  const frames: Uint8Array[] = [];
  for (const n of numbers) frames.push(own((await frameSamples(p, attrs, n - 1)).bytes));
  return { ok: true, transferSyntaxUID: TransferSyntax.ExplicitVRLittleEndian, frames };
}

function concat(parts: Uint8Array[]): ArrayBuffer {
  const out = new Uint8Array(parts.reduce((n, b) => n + b.byteLength, 0));
  let at = 0;
  for (const b of parts) {
    out.set(b, at);
    at += b.byteLength;
  }
  return out.buffer;
}

/**
 * The object in `target`: compressed Pixel Data is first decoded to native samples (every syntax the
 * decoder reads, frame by frame), the data set is written natively by dcmjs, and a compressed target
 * is then encoded by dcmjs-codecs' Transcoder. Objects without Pixel Data are written natively
 * (Explicit VR Little Endian when a compressed syntax is asked: there is nothing to compress).
 */
export async function transcodeFile(path: string, target: string): Promise<Uint8Array> {
  const bytes = await readImageFile(path);
  const p = parse(bytes);
  if (p.transferSyntaxUID === target) return new Uint8Array(bytes);
  const { meta, dict } = p.raw;
  const hasPixels = p.dataset['PixelData'] !== undefined;
  if (hasPixels && !NATIVE_SYNTAXES.has(p.transferSyntaxUID)) {
    const attrs = readImageAttributes(p.dataset);
    const frames: Uint8Array[] = [];
    let layout = { photometric: attrs.photometric, planarConfiguration: attrs.planarConfiguration };
    for (let i = 0; i < attrs.numberOfFrames; i++) {
      const f = await frameSamples(p, attrs, i);
      frames.push(f.bytes);
      layout = { photometric: f.photometric, planarConfiguration: f.planarConfiguration };
    }
    dict['7FE00010'] = { vr: attrs.format.bitsAllocated > 8 ? 'OW' : 'OB', Value: [concat(frames)] };
    // A codec may hand back another colour layout (JPEG YBR as RGB): the copy says what it holds.
    dict['00280004'] = { vr: 'CS', Value: [layout.photometric] };
    if (attrs.samplesPerPixel === 3) dict['00280006'] = { vr: 'US', Value: [layout.planarConfiguration] };
  }
  const native = NATIVE_SYNTAXES.has(target) ? target : TransferSyntax.ExplicitVRLittleEndian;
  meta['00020010'] = { vr: 'UI', Value: [native] };
  const out = new dcmjs.data.DicomDict(meta);
  out.dict = dict;
  const written = out.write();
  if (native === target || !hasPixels) return new Uint8Array(written);
  await initCodecs();
  try {
    const transcoder = new dcmjsCodecs.Transcoder(written);
    transcoder.transcode(target);
    return new Uint8Array(transcoder.getDicomPart10());
  } catch (cause) {
    discardInstance();
    throw new PrecedentError('DECODE_FAILED', `the object could not be encoded in ${target}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}
