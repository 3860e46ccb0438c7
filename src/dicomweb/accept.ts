// WADO-RS Accept negotiation (PS3.18 8.7): which representation of frames, instances and pictures a
// client accepts, and in which transfer syntax. Entries are tried by quality (q), then in order; each
// function answers the first entry this node can satisfy, or the reason none can (406).
import { NATIVE_SYNTAXES, TransferSyntax, WRITABLE_SYNTAXES } from '../dicom/uids.js';
import { parseMediaType, type MediaType } from './multipart.js';

const TS = TransferSyntax;

/** Compressed bulk data media types and the syntaxes each carries; the first is its default (PS3.18 Table 8.7.3-2). */
const IMAGE_SYNTAXES: Readonly<Record<string, readonly string[]>> = {
  'image/jpeg': [TS.JPEGBaseline8Bit, TS.JPEGExtended12Bit, TS.JPEGLossless, TS.JPEGLosslessSV1],
  'image/jls': [TS.JPEGLSLossless, TS.JPEGLSNearLossless],
  'image/jp2': [TS.JPEG2000Lossless, TS.JPEG2000],
  'image/jpx': [TS.JPEG2000MCLossless, TS.JPEG2000MC],
  'image/jphc': [TS.HTJ2KLossless, TS.HTJ2KLosslessRPCL, TS.HTJ2K],
  'image/x-dicom-rle': [TS.RLELossless],
};
/** Names clients use besides the standard ones (dicomweb-client sends image/x-jls and image/jhc). */
const ALIASES: Readonly<Record<string, string>> = { 'image/x-jls': 'image/jls', 'image/jhc': 'image/jphc', 'image/dicom-rle': 'image/x-dicom-rle' };

/** The media type a compressed frame of `syntax` is sent as. */
export function imageTypeOf(syntax: string): string {
  return Object.entries(IMAGE_SYNTAXES).find(([, list]) => list.includes(syntax))?.[0] ?? 'application/octet-stream';
}

/** Accept entries by quality, stable; an absent header accepts anything. */
export function acceptEntries(accept: string | undefined): MediaType[] {
  if (!accept?.trim()) return [{ type: '*/*', params: {} }];
  const entries: Array<MediaType & { q: number; at: number }> = [];
  for (const [at, raw] of splitList(accept).entries()) {
    const media = parseMediaType(raw);
    if (!media) continue;
    const q = media.params.q === undefined ? 1 : Number(media.params.q);
    if (!(q > 0)) continue; // q=0: explicitly not acceptable
    entries.push({ ...media, q, at });
  }
  return entries.sort((a, b) => b.q - a.q || a.at - b.at);
}

/** Splits on ',' outside quoted strings. */
function splitList(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const c of value) {
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.filter((s) => s.trim() !== '');
}

/** The part type an entry asks for and whether it wants multipart (multipart/related; type=...). */
function unwrap(entry: MediaType, defaultPart: string): { part: string; multipart: boolean; syntax: string | undefined } {
  const syntax = entry.params['transfer-syntax'];
  if (entry.type === 'multipart/related') return { part: (entry.params.type ?? defaultPart).toLowerCase(), multipart: true, syntax };
  if (entry.type === 'multipart/*') return { part: '*/*', multipart: true, syntax };
  return { part: entry.type, multipart: false, syntax };
}

export type FrameChoice = { as: 'stored' | 'native'; partType: string; transferSyntaxUID: string; multipart: boolean } | { refused: string };

/**
 * Frames and Pixel Data bulk data of an object stored in `stored`: the stored codestreams when a
 * compressed media type of that syntax (or octet-stream with its transfer-syntax, or `*`) is
 * accepted, else native samples in Explicit VR Little Endian when application/octet-stream is.
 * Single-part answers hold one frame.
 */
export function chooseFrames(accept: string | undefined, stored: string, frameCount: number): FrameChoice {
  const compressed = !NATIVE_SYNTAXES.has(stored);
  const native = { as: 'native' as const, partType: 'application/octet-stream', transferSyntaxUID: TransferSyntax.ExplicitVRLittleEndian };
  const asStored = {
    as: 'stored' as const,
    partType: compressed ? imageTypeOf(stored) : 'application/octet-stream',
    transferSyntaxUID: compressed ? stored : TransferSyntax.ExplicitVRLittleEndian,
  };
  for (const entry of acceptEntries(accept)) {
    const { part, multipart, syntax } = unwrap(entry, 'application/octet-stream');
    if (!multipart && frameCount > 1 && part !== '*/*') continue;
    const multi = multipart || frameCount > 1;
    // A wildcard gets what PS3.18 makes the default: multipart octet-stream.
    if (part === '*/*' || part === 'application/*') return { ...(syntax === '*' ? asStored : native), multipart: true };
    if (part === 'application/octet-stream') {
      if (syntax === undefined || syntax === TransferSyntax.ExplicitVRLittleEndian) return { ...native, multipart: multi };
      if (syntax === '*' || syntax === stored) return { ...asStored, partType: 'application/octet-stream', multipart: multi };
      continue;
    }
    const family = IMAGE_SYNTAXES[ALIASES[part] ?? part] ?? (part === 'image/*' ? [stored] : undefined);
    if (!family || !compressed || !family.includes(stored)) continue;
    // Without transfer-syntax a media type means its default syntax (PS3.18 8.7.3.5.2).
    if (syntax === undefined ? part !== 'image/*' && family[0] !== stored : syntax !== '*' && syntax !== stored) continue;
    return { ...asStored, partType: part === 'image/*' ? asStored.partType : part, multipart: multi };
  }
  return {
    refused: compressed
      ? `frames are stored in ${stored}: offered as ${imageTypeOf(stored)} (transfer-syntax=${stored}) or decoded as application/octet-stream (transfer-syntax=${TransferSyntax.ExplicitVRLittleEndian})`
      : `frames are offered as application/octet-stream (transfer-syntax=${TransferSyntax.ExplicitVRLittleEndian}) only`,
  };
}

export type RetrieveChoice = { multipart: boolean; transferSyntaxUID: string | undefined } | { refused: string };

/**
 * Instances, series and studies (PS3.18 10.4.1.1.1): application/dicom single-part for one object,
 * multipart/related; type="application/dicom" otherwise; transfer-syntax absent or `*`: as stored
 * (undefined); a syntax this node writes: transcoded where stored otherwise; any other: only when
 * `storedSyntaxes` (those of the objects with pixels) all match it.
 */
export function chooseRetrieve(accept: string | undefined, objectCount: number, storedSyntaxes: ReadonlySet<string>): RetrieveChoice {
  const why: string[] = [];
  for (const entry of acceptEntries(accept)) {
    const { part, multipart, syntax } = unwrap(entry, 'application/dicom');
    if (part !== 'application/dicom' && part !== '*/*' && part !== 'application/*') continue;
    if (!multipart && part === 'application/dicom' && objectCount > 1) {
      why.push(`single-part application/dicom holds one object; ${objectCount} are selected (ask multipart/related; type="application/dicom")`);
      continue;
    }
    const single = !multipart && part === 'application/dicom';
    if (syntax === undefined || syntax === '*') return { multipart: !single, transferSyntaxUID: undefined };
    if (WRITABLE_SYNTAXES.has(syntax) || [...storedSyntaxes].every((s) => s === syntax)) return { multipart: !single, transferSyntaxUID: syntax };
    why.push(`transfer-syntax ${syntax} is neither how these objects are stored nor one this node writes (${[...WRITABLE_SYNTAXES].join(', ')})`);
  }
  return { refused: why[0] ?? 'only application/dicom (single-part, one object) or multipart/related; type="application/dicom" is offered' };
}

/** Rendered and thumbnail pictures: image/jpeg (the default) or image/png. */
export function chooseRendered(accept: string | undefined): { format: 'jpeg' | 'png' } | { refused: string } {
  for (const entry of acceptEntries(accept)) {
    if (entry.type === 'image/png') return { format: 'png' };
    if (entry.type === 'image/jpeg' || entry.type === 'image/*' || entry.type === '*/*') return { format: 'jpeg' };
  }
  return { refused: 'rendered pictures are offered as image/jpeg or image/png' };
}
