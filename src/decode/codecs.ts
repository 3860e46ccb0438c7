// Encapsulated frames through dcmjs-codecs' WebAssembly (libjpeg in 8/12/16-bit builds, CharLS 2.3,
// OpenJPEG 2.5, OpenJPH 0.18, RLE). The module is instantiated once per process and reused. A codec that meets a broken
// codestream can trap (RuntimeError "unreachable") or throw mid-call, which leaves the instance's
// stack and heap inconsistent (measured: the next good JPEG-LS decode then faults), so after any
// codec error the instance is dropped and the next decode builds a fresh one (~50 ms).
import dcmjsCodecs from 'dcmjs-codecs';
import { PrecedentError } from '../shared/errors.js';
import type { ImageAttributes } from './attributes.js';
import { checkCodestream, type CodecName } from './codestream.js';

const { Context, NativeCodecs } = dcmjsCodecs;

let ready: Promise<void> | undefined;

/** Instantiates the codecs once; concurrent callers share the promise, a failure is retried next time. */
export function initCodecs(): Promise<void> {
  if (ready === undefined) {
    ready = NativeCodecs.initializeAsync({ logCodecsInfo: false, logCodecsTrace: false }).catch((cause: unknown) => {
      ready = undefined;
      throw new PrecedentError('DECODE_FAILED', 'the WebAssembly image codecs could not be loaded', { cause });
    });
  }
  return ready;
}

export function discardInstance(): void {
  ready = undefined;
  NativeCodecs.release();
}

export interface DecodedFrame {
  bytes: Uint8Array;
  /** As the codec reports it: JPEG may hand back RGB for YBR input, J2K RGB for YBR_ICT/RCT. */
  photometric: string;
  planarConfiguration: 0 | 1;
}

const DECODERS: Record<CodecName, (ctx: InstanceType<typeof Context>) => InstanceType<typeof Context>> = {
  // convertColorspaceToRgb: a colour JPEG comes back as RGB whatever its YBR flavour.
  jpeg: (ctx) => NativeCodecs.decodeJpeg(ctx, { convertColorspaceToRgb: true }),
  jpegls: (ctx) => NativeCodecs.decodeJpegLs(ctx),
  j2k: (ctx) => NativeCodecs.decodeJpeg2000(ctx),
  htj2k: (ctx) => NativeCodecs.decodeHtJpeg2000(ctx),
  rle: (ctx) => NativeCodecs.decodeRle(ctx),
};

/**
 * Decodes one encapsulated frame. Another image's codec error may have dropped the instance while
 * this call awaited initialisation, so readiness is checked again right before the synchronous
 * decode (nothing can interleave after that check).
 */
export async function decodeFrame(codec: CodecName, encoded: Uint8Array, attrs: ImageAttributes): Promise<DecodedFrame> {
  checkCodestream(codec, encoded, attrs);
  for (let attempt = 0; !NativeCodecs.isInitialized(); attempt++) {
    if (attempt === 3) throw new PrecedentError('DECODE_FAILED', 'the WebAssembly image codecs keep failing to initialise');
    await initCodecs();
  }
  const context = new Context({
    width: attrs.columns,
    height: attrs.rows,
    bitsAllocated: attrs.format.bitsAllocated,
    bitsStored: attrs.format.bitsStored,
    samplesPerPixel: attrs.samplesPerPixel,
    pixelRepresentation: attrs.format.pixelRepresentation,
    planarConfiguration: attrs.planarConfiguration,
    photometricInterpretation: attrs.photometric,
    encodedBuffer: encoded,
  });
  let result: InstanceType<typeof Context>;
  try {
    result = DECODERS[codec](context);
  } catch (cause) {
    discardInstance();
    const detail = cause instanceof Error ? cause.message.trim() : String(cause);
    throw new PrecedentError('DECODE_FAILED', `${codec} codec could not decode frame 1: ${detail}`, { cause });
  }
  const bytes = result.getDecodedBuffer();
  if (bytes === undefined || bytes.byteLength === 0) {
    throw new PrecedentError('DECODE_FAILED', `${codec} codec returned no pixels for frame 1`);
  }
  return {
    bytes,
    photometric: result.getPhotometricInterpretation() ?? attrs.photometric,
    planarConfiguration: result.getPlanarConfiguration() === 1 ? 1 : 0,
  };
}
