// Cheap structural checks on a compressed frame before it reaches a codec. They catch truncated or
// garbage fragments that some codecs accept silently (libjpeg pads a truncated scan with grey, the
// RLE decoder fills from whatever bytes it finds) and spare the WebAssembly instance a trap.
import { TransferSyntax } from '../dicom/uids.js';
import { PrecedentError } from '../shared/errors.js';
import type { ImageAttributes } from './attributes.js';

const TS = TransferSyntax;

export type CodecName = 'jpeg' | 'jpegls' | 'j2k' | 'htj2k' | 'rle';

/** Transfer syntaxes whose Pixel Data is encapsulated, and the codec for each. */
export const ENCAPSULATED_SYNTAXES: Readonly<Record<string, CodecName>> = {
  [TS.JPEGBaseline8Bit]: 'jpeg', // 8-bit
  [TS.JPEGExtended12Bit]: 'jpeg', // 12-bit
  [TS.JPEGLossless]: 'jpeg', // process 14
  [TS.JPEGLosslessSV1]: 'jpeg', // process 14 SV1
  [TS.JPEGLSLossless]: 'jpegls',
  [TS.JPEGLSNearLossless]: 'jpegls',
  [TS.JPEG2000Lossless]: 'j2k',
  [TS.JPEG2000]: 'j2k',
  [TS.HTJ2KLossless]: 'htj2k',
  [TS.HTJ2KLosslessRPCL]: 'htj2k',
  [TS.HTJ2K]: 'htj2k',
  [TS.RLELossless]: 'rle',
};

function fail(codec: CodecName, why: string): never {
  throw new PrecedentError('DECODE_FAILED', `${codec} frame 1 is not a valid codestream: ${why}`);
}

/** The last two bytes before any trailing 0x00 padding (fragments have even length, PS3.5 A.4). */
function endMarker(b: Uint8Array): number {
  let end = b.byteLength;
  while (end > 2 && b[end - 1] === 0x00) end--;
  return ((b[end - 2] ?? 0) << 8) | (b[end - 1] ?? 0);
}

function checkRle(b: Uint8Array, attrs: ImageAttributes): void {
  // PS3.5 G.3.1: a 64-byte header of 16 little-endian uint32 (segment count, then offsets).
  if (b.byteLength < 64) fail('rle', `${b.byteLength} bytes, shorter than the 64-byte header`);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const segments = view.getUint32(0, true);
  const expected = attrs.samplesPerPixel * (attrs.format.bitsAllocated / 8);
  if (segments !== expected) fail('rle', `${segments} segments, expected ${expected}`);
  let previous = 63;
  for (let s = 0; s < segments; s++) {
    const offset = view.getUint32(4 + 4 * s, true);
    if (offset <= previous || offset >= b.byteLength) fail('rle', `segment ${s + 1} offset ${offset} is out of order or beyond the fragment`);
    previous = offset;
  }
}

export function checkCodestream(codec: CodecName, b: Uint8Array, attrs: ImageAttributes): void {
  if (codec === 'rle') {
    checkRle(b, attrs);
    return;
  }
  if (b.byteLength < 4) fail(codec, `only ${b.byteLength} bytes`);
  const start = ((b[0] ?? 0) << 8) | (b[1] ?? 0);
  if (codec === 'jpeg' || codec === 'jpegls') {
    if (start !== 0xffd8) fail(codec, 'no SOI marker at the start');
    if (endMarker(b) !== 0xffd9) fail(codec, 'no EOI marker at the end (truncated?)');
    return;
  }
  // JPEG 2000 in DICOM is a raw codestream (SOC ... EOC); a JP2 file wrapper is left to the codec.
  if (start === 0xff4f && endMarker(b) !== 0xffd9) fail(codec, 'no EOC marker at the end (truncated?)');
}
