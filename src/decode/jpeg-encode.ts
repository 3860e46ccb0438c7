// JPEG Baseline (Process 1) encoding of 8-bit RGB rasters for the Secondary Captures, through the
// same dcmjs-codecs WebAssembly libjpeg that decodes. Chrominance is subsampled 4:2:2 (Y sampled 2x1),
// which PS3.5 8.2.1 labels YBR_FULL_422: the one colour JPEG Baseline form that dciodvfy accepts for
// an SC and that every viewer decodes (jpeg-js writes only 4:4:4, "YBR_FULL", which dciodvfy rejects).
import dcmjsCodecs from 'dcmjs-codecs';
import { PrecedentError } from '../shared/errors.js';
import { initCodecs } from './codecs.js';

const { Context, NativeCodecs } = dcmjsCodecs;

export interface RgbRaster {
  width: number;
  height: number;
  /** RGB interleaved, row-major. */
  data: Uint8Array;
}

export type JpegBaselineEncoder = (image: RgbRaster) => Uint8Array;

/** Captions and thumbnails stay legible at 90; the captures say "not for diagnostic use" anyway. */
export const JPEG_QUALITY = 90;
const SAMPLE_FACTOR_422 = 1;

/** Loads the codecs, then returns a synchronous encoder (report/ builds objects synchronously). */
export async function createJpegBaselineEncoder(): Promise<JpegBaselineEncoder> {
  await initCodecs();
  return (image) => {
    // A codec error elsewhere in this thread drops the instance (codecs.ts); say so rather than crash.
    if (!NativeCodecs.isInitialized()) throw new PrecedentError('ENCODE_FAILED', 'the WebAssembly image codecs are not loaded');
    const context = new Context({
      width: image.width,
      height: image.height,
      bitsAllocated: 8,
      bitsStored: 8,
      samplesPerPixel: 3,
      pixelRepresentation: 0,
      planarConfiguration: 0,
      photometricInterpretation: 'RGB',
      decodedBuffer: image.data,
    });
    const encoded = NativeCodecs.encodeJpeg(context, {
      lossy: true,
      quality: JPEG_QUALITY,
      sampleFactor: SAMPLE_FACTOR_422,
      predictor: 0,
      pointTransform: 0,
    }).getEncodedBuffer();
    if (!encoded || encoded.byteLength === 0) throw new PrecedentError('ENCODE_FAILED', 'the JPEG encoder returned nothing');
    return encoded;
  };
}
