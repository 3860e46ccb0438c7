// ImageDecoder: Part 10 file -> frame 1 -> display intensities in [0, 1] (see shared/analysis.ts).
import { readImageFile } from './raster.js';
import dcmjs, { type DicomDataset } from 'dcmjs';
import { NATIVE_SYNTAXES, TransferSyntax } from '../dicom/uids.js';
import { silenceDcmjsConsole } from '../shared/dcmjs-log.js';
import type { DecodedImage, ImageDecoder } from '../shared/analysis.js';
import { isPrecedentError, PrecedentError } from '../shared/errors.js';
import { COLOUR, nativeSamplesPerFrame, readImageAttributes, type ImageAttributes } from './attributes.js';
import { decodeFrame } from './codecs.js';
import { ENCAPSULATED_SYNTAXES } from './codestream.js';
import { toLuminance } from './color.js';
import { datasetBytes, pixelDataExtent } from './extent.js';
import { encapsulatedFrames, nativeFrame, pixelDataBuffers } from './frames.js';
import { readGrayscaleSpec, renderGrayscale } from './grayscale.js';
import { clampedCodecSamples, frameByteLength, unpackSamples } from './unpack.js';
import { firstCode, type NaturalDataset } from './values.js';

silenceDcmjsConsole();

const IMPLICIT = TransferSyntax.ImplicitVRLittleEndian;
const DEFLATED = TransferSyntax.DeflatedExplicitVRLittleEndian;

export interface Parsed {
  transferSyntaxUID: string;
  dataset: NaturalDataset;
  /** As dcmjs read it (tags, VRs): what a transcoded copy is written from. */
  raw: { meta: DicomDataset; dict: DicomDataset };
  /** The file up to Pixel Data (see DecodedImage.header); undefined when deflated or not found. */
  header?: Uint8Array;
}

export function parse(bytes: Buffer): Parsed {
  let parsed: Parsed;
  try {
    const dict = dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    const meta = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.meta);
    const ts = meta['TransferSyntaxUID'];
    parsed = {
      transferSyntaxUID: typeof ts === 'string' ? ts.trim() : '',
      dataset: dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict),
      raw: { meta: dict.meta, dict: dict.dict },
    };
  } catch (cause) {
    throw new PrecedentError('DECODE_FAILED', 'the file is not a readable DICOM Part 10 file', { cause });
  }
  // dcmjs zero-fills a value cut off by the end of the file; the deflated syntax fails in zlib instead.
  const dataset = parsed.transferSyntaxUID === DEFLATED ? undefined : datasetBytes(bytes);
  if (dataset === undefined) return parsed;
  const extent = pixelDataExtent(dataset, parsed.transferSyntaxUID !== IMPLICIT);
  if (!extent.complete) throw new PrecedentError('DECODE_FAILED', 'the file ends inside its Pixel Data (truncated)');
  if (extent.start === undefined) return parsed;
  // A copy of its own (a few KB): the file's buffer is dropped after decoding.
  return { ...parsed, header: new Uint8Array(bytes.subarray(0, dataset.byteOffset - bytes.byteOffset + extent.start)) };
}

/** A frame's (0-based `index`) raw little-endian samples plus the layout they are in after decompression. */
export async function frameSamples(
  p: Parsed,
  attrs: ImageAttributes,
  index = 0,
): Promise<{ bytes: Uint8Array; photometric: string; planarConfiguration: 0 | 1; clamp?: boolean }> {
  const buffers = pixelDataBuffers(p.dataset['PixelData']);
  if (NATIVE_SYNTAXES.has(p.transferSyntaxUID)) {
    const bytes = nativeFrame(buffers, frameByteLength(nativeSamplesPerFrame(attrs), attrs.format.bitsAllocated), index);
    return { bytes, photometric: attrs.photometric, planarConfiguration: attrs.planarConfiguration };
  }
  const codec = ENCAPSULATED_SYNTAXES[p.transferSyntaxUID];
  if (codec === undefined) {
    throw new PrecedentError('DECODE_FAILED', `transfer syntax ${p.transferSyntaxUID || '(missing)'} is not supported for decoding`);
  }
  const frame = await decodeFrame(codec, encapsulatedFrames(buffers, attrs.numberOfFrames)[index] ?? new Uint8Array(0), attrs);
  // JPEG 2000 decodes right-aligned values that may overshoot the stored range (clampedCodecSamples).
  return codec === 'j2k' || codec === 'htj2k' ? { ...frame, clamp: true } : frame;
}

async function decodeParsed(p: Parsed): Promise<DecodedImage> {
  const image = await decodePixels(p);
  return p.header ? { ...image, header: p.header } : image;
}

async function decodePixels(p: Parsed): Promise<DecodedImage> {
  const attrs = readImageAttributes(p.dataset);
  const notes: string[] = [];
  if (attrs.numberOfFrames > 1) notes.push(`multi-frame: frame 1 of ${attrs.numberOfFrames} used`);
  if (firstCode(p.dataset, 'LossyImageCompression') === '01') notes.push('source is lossy compressed');
  const frame = await frameSamples(p, attrs);
  const pixels = attrs.rows * attrs.columns;
  if (COLOUR.has(frame.photometric) || attrs.samplesPerPixel === 3) {
    const full = frameByteLength(pixels * 3, attrs.format.bitsAllocated);
    // Codecs expand 4:2:2 to one triplet per pixel; only native 4:2:2 keeps the pair layout.
    const photometric = frame.bytes.byteLength >= full && frame.photometric.endsWith('_422') ? 'YBR_FULL' : frame.photometric;
    const needed = photometric.endsWith('_422') ? frameByteLength(pixels * 2, attrs.format.bitsAllocated) : full;
    if (frame.bytes.byteLength < needed) throw new PrecedentError('DECODE_FAILED', `frame 1 holds ${frame.bytes.byteLength} bytes, needs ${needed}`);
    notes.push(`${attrs.photometric} converted to luminance (BT.601)`);
    const luminance = toLuminance(frame.bytes, pixels, {
      photometric,
      planarConfiguration: frame.planarConfiguration,
      bitsAllocated: attrs.format.bitsAllocated,
      bitsStored: attrs.format.bitsStored,
    });
    return { width: attrs.columns, height: attrs.rows, pixels: luminance, notes };
  }
  const stored = frame.clamp ? clampedCodecSamples(frame.bytes, pixels, attrs.format) : unpackSamples(frame.bytes, pixels, attrs.format);
  const rendered = renderGrayscale(stored, readGrayscaleSpec(p.dataset, attrs));
  return { width: attrs.columns, height: attrs.rows, pixels: rendered.pixels, notes: [...notes, ...rendered.notes] };
}

/** Decodes radiographs for analysis; the WebAssembly codecs load on first use and are shared. */
export function createImageDecoder(): ImageDecoder {
  return {
    async decodeFile(path: string): Promise<DecodedImage> {
      const bytes = await readImageFile(path);
      try {
        return await decodeParsed(parse(bytes));
      } catch (err) {
        if (isPrecedentError(err)) throw err;
        // Anything else (a RangeError on a malformed LUT, ...) is still "this image cannot be decoded".
        throw new PrecedentError('DECODE_FAILED', `pixel decoding failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    },
  };
}
