// Fixtures for decode tests beyond the builder's variants: LUT sequences, padding, signed and
// masked pixels, colour, palette, multi-frame, and damaged pixel data. All start from the builder
// (same shared radiograph, same attributes) and override attributes or Pixel Data.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import dcmjs from 'dcmjs';
import { buildFixture, loadSharedImage, VARIANTS, type Fixture, type FixtureSpec, type SyntaxName } from '../fixtures/build.js';
import { toArrayBuffer } from '../fixtures/dcmjs.js';
import { encodePixels } from '../fixtures/image.js';
import { run } from './tools.js';

/** A gamma-0.5 VOI LUT over 12-bit input with 16-bit entries: a curve no window can express. */
export function gammaVoiLutData(): number[] {
  return Array.from({ length: 4096 }, (_, i) => Math.round(65535 * Math.sqrt(i / 4095)));
}

/** A squaring Modality LUT over 12-bit stored values with 16-bit output. */
export function squareModalityLutData(): number[] {
  return Array.from({ length: 4096 }, (_, i) => Math.round(65535 * (i / 4095) ** 2));
}

// dcmjs cannot pick between the dictionary's alternatives (US or SS, US or OW) when writing.
const LUT_VRS = { LUTDescriptor: 'US', LUTData: 'US' };

const NO_WINDOW = { WindowCenter: undefined, WindowWidth: undefined, WindowCenterWidthExplanation: undefined };

export type ExtraVariant = 'voilut' | 'mlut' | 'padding' | 'padding-m1' | 'signed' | 'masked' | 'rgb' | 'palette' | 'multiframe' | 'sigmoid' | 'linear-exact';

/** 16-bit little-endian words. */
function words(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  for (let i = 0; i < values.length; i++) {
    const v = (values[i] ?? 0) & 0xffff;
    out[2 * i] = v & 0xff;
    out[2 * i + 1] = v >> 8;
  }
  return out;
}

/** The stored values of the builder's 12-bit variants (MONOCHROME1 stores 4095 - value). */
export async function storedValues(variant: 'dx12' | 'dx12m1' = 'dx12'): Promise<Uint16Array> {
  const img = await loadSharedImage(0);
  const b = encodePixels(img, VARIANTS[variant]);
  return new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2);
}

/** Padding fixtures declare stored values 0 .. the 5th percentile as padding. */
export async function paddingRange(variant: 'dx12' | 'dx12m1'): Promise<[number, number]> {
  const sorted = Array.from(await storedValues(variant)).sort((a, b) => a - b);
  return [0, sorted[Math.floor(sorted.length * 0.05)] ?? 0];
}

/** The spec of an extra variant in `syntax`. */
export async function extraSpec(variant: ExtraVariant, syntax: SyntaxName): Promise<FixtureSpec> {
  switch (variant) {
    case 'voilut':
      return {
        variant: 'dx12',
        syntax,
        extraAttributes: {
          ...NO_WINDOW,
          VOILUTSequence: [{ LUTDescriptor: [4096, 0, 16], LUTExplanation: 'GAMMA 0.5', LUTData: gammaVoiLutData(), _vrMap: LUT_VRS }],
        },
      };
    case 'mlut':
      return {
        variant: 'dx12',
        syntax,
        extraAttributes: {
          RescaleSlope: undefined,
          RescaleIntercept: undefined,
          RescaleType: undefined,
          ModalityLUTSequence: [{ LUTDescriptor: [4096, 0, 16], ModalityLUTType: 'US', LUTData: squareModalityLutData(), _vrMap: LUT_VRS }],
          WindowCenter: '20000',
          WindowWidth: '40000',
        },
      };
    case 'sigmoid':
      return { variant: 'dx12', syntax, extraAttributes: { WindowCenter: '1800', WindowWidth: '1500', VOILUTFunction: 'SIGMOID' } };
    case 'linear-exact':
      return { variant: 'dx12', syntax, extraAttributes: { WindowCenter: '1800', WindowWidth: '1500', VOILUTFunction: 'LINEAR_EXACT' } };
    case 'padding':
    case 'padding-m1': {
      // The lowest ~5% of stored values: the darkest pixels in MONOCHROME2, the brightest in MONOCHROME1.
      const base = variant === 'padding' ? 'dx12' : 'dx12m1';
      const [value, limit] = await paddingRange(base);
      const _vrMap = { PixelData: 'OW', PixelPaddingValue: 'US', PixelPaddingRangeLimit: 'US' };
      return { variant: base, syntax, extraAttributes: { PixelPaddingValue: value, PixelPaddingRangeLimit: limit, _vrMap } };
    }
    case 'signed': {
      // The 12-bit image shifted to -2048..2047, stored two's complement and sign-extended to 16 bits.
      const s = await storedValues();
      return {
        variant: 'dx12',
        syntax,
        extraAttributes: { PixelRepresentation: 1, WindowCenter: '0', PixelData: [words(Array.from(s, (v) => v - 2048)).buffer] },
      };
    }
    case 'masked': {
      // Junk in the bits above HighBit (0xA000), which a reader must ignore.
      const s = await storedValues();
      return { variant: 'dx12', syntax, extraAttributes: { PixelData: [words(Array.from(s, (v) => v | 0xa000)).buffer] } };
    }
    case 'rgb': {
      // A tinted radiograph: R, G, B differ so that the luminance weights matter.
      const img = await loadSharedImage(0);
      const rgb = new Uint8Array(img.data.length * 3);
      img.data.forEach((g, i) => {
        rgb[3 * i] = Math.round(g);
        rgb[3 * i + 1] = Math.round(g * 0.8);
        rgb[3 * i + 2] = Math.round(255 - g * 0.6);
      });
      return {
        variant: 'dx8',
        syntax,
        sopClassUID: '1.2.840.10008.5.1.4.1.1.7',
        extraAttributes: { ...NO_WINDOW, SamplesPerPixel: 3, PhotometricInterpretation: 'RGB', PlanarConfiguration: 0, PixelData: [rgb.buffer] },
      };
    }
    case 'palette':
      return {
        variant: 'dx8',
        syntax,
        extraAttributes: {
          PhotometricInterpretation: 'PALETTE COLOR',
          RedPaletteColorLookupTableDescriptor: [256, 0, 8],
          GreenPaletteColorLookupTableDescriptor: [256, 0, 8],
          BluePaletteColorLookupTableDescriptor: [256, 0, 8],
        },
      };
    case 'multiframe': {
      // Frame 1 the radiograph, frame 2 its negative, frame 3 black.
      const s = await storedValues();
      const frames = [...s, ...Array.from(s, (v) => 4095 - v), ...new Array<number>(s.length).fill(0)];
      return { variant: 'dx12', syntax, extraAttributes: { NumberOfFrames: '3', PixelData: [words(frames).buffer] } };
    }
  }
}

export async function buildExtra(variant: ExtraVariant, syntax: SyntaxName, dir: string): Promise<Fixture> {
  return buildFixture(await extraSpec(variant, syntax), dir);
}

/** Rewrites a Part 10 file with its Pixel Data buffers replaced (dcmjs re-encapsulates as needed). */
export async function rewritePixelData(src: string, dst: string, change: (buffers: ArrayBuffer[]) => ArrayBuffer[]): Promise<string> {
  const dict = dcmjs.data.DicomMessage.readFile(toArrayBuffer(await readFile(src)));
  const pixel = dict.dict['7FE00010'];
  if (pixel === undefined) throw new Error(`${src} has no Pixel Data`);
  pixel.Value = change((pixel.Value ?? []) as ArrayBuffer[]);
  await writeFile(dst, new Uint8Array(dict.write()));
  return dst;
}

/** Encapsulates an ELE multi-frame file as JPEG lossless with an empty offset table and 1 kB fragments. */
export async function fragmentedJpegLossless(src: string): Promise<string> {
  const dst = path.join(path.dirname(src), `fragmented-${path.basename(src)}`);
  const r = await run('dcmcjpeg', ['+e1', '-ot', '+fs', '1', src, dst]);
  if (r.code !== 0) throw new Error(`dcmcjpeg failed: ${r.stderr}`);
  return dst;
}
