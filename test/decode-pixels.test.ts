// The pixel pipeline, step by step, against values worked out by hand from PS3.3 C.11.
import { describe, expect, it } from 'vitest';
import { toLuminance } from '../src/decode/color.js';
import { readGrayscaleSpec, renderGrayscale } from '../src/decode/grayscale.js';
import { lookupLut, parseLut } from '../src/decode/lut.js';
import { applyModalityLut } from '../src/decode/modality.js';
import { blackOutPadding, invertMonochrome1, paddingMask } from '../src/decode/output.js';
import { clampedCodecSamples, unpackSamples, type PixelFormat } from '../src/decode/unpack.js';
import { applyVoi, minMax, windowLinear, windowLinearExact, windowSigmoid } from '../src/decode/voi.js';
import type { ImageAttributes } from '../src/decode/attributes.js';

/** 16-bit words as little-endian bytes. */
const le16 = (...words: number[]): Uint8Array => new Uint8Array(new Uint16Array(words).buffer);
const u16 = (bitsStored: number, signed = false, highBit = bitsStored - 1): PixelFormat => ({
  bitsAllocated: 16,
  bitsStored,
  highBit,
  pixelRepresentation: signed ? 1 : 0,
});
const list = (a: ArrayLike<number>): number[] => Array.from(a);

describe('clampedCodecSamples (JPEG 2000 output)', () => {
  it('10-bit unsigned: lossy overshoot clamps to 1023 and undershoot (a negative 16-bit word) to 0, where masking wraps them', () => {
    const ringing = le16(1030, 1100, 1023, 0xfffd, 500);
    expect(list(clampedCodecSamples(ringing, 5, u16(10)))).toEqual([1023, 1023, 1023, 0, 500]);
    // What masking as stored bits made of the same values: 1030 -> 6, white in MONOCHROME1.
    expect(list(unpackSamples(ringing, 5, u16(10)))).toEqual([6, 76, 1023, 1021, 500]);
  });
  it('12-bit signed clamps to -2048..2047; 16-bit unsigned keeps its whole range', () => {
    expect(list(clampedCodecSamples(le16(2100, 0xf700, 0xffff, 100), 4, u16(12, true)))).toEqual([2047, -2048, -1, 100]);
    expect(list(clampedCodecSamples(le16(0xffff, 0x8000, 0), 3, u16(16)))).toEqual([65535, 32768, 0]);
  });
  it('MONOCHROME1 10-bit: the clamped overshoot renders as black like its neighbours, not as a white speckle', () => {
    const attrs = { format: u16(10), photometric: 'MONOCHROME1' } as unknown as ImageAttributes;
    const spec = readGrayscaleSpec({ WindowCenter: 512, WindowWidth: 1024 }, attrs);
    const stored = clampedCodecSamples(le16(1023, 1030, 1023), 3, u16(10));
    const { pixels } = renderGrayscale(stored, spec);
    expect(Math.max(...pixels)).toBeLessThan(0.01);
  });
});

describe('unpackSamples', () => {
  it('12-bit signed: 0xFFF is -1, 0x800 -2048, 0x7FF 2047, whatever lies above HighBit', () => {
    expect(list(unpackSamples(le16(0x0fff, 0x0800, 0x07ff, 0xf800, 0xafff), 5, u16(12, true)))).toEqual([-1, -2048, 2047, -2048, -1]);
  });
  it('12-bit unsigned ignores bits above HighBit', () => {
    expect(list(unpackSamples(le16(0x0fff, 0xa123, 0xf000), 3, u16(12)))).toEqual([4095, 0x123, 0]);
  });
  it('10 bits stored: bit 10 is not value', () => {
    expect(list(unpackSamples(le16(0x03ff, 0x0400, 0x0401), 3, u16(10)))).toEqual([1023, 0, 1]);
  });
  it('BitsStored 12 at HighBit 15 reads the top 12 bits', () => {
    expect(list(unpackSamples(le16(0xfff0, 0x0010, 0x000f), 3, u16(12, false, 15)))).toEqual([4095, 1, 0]);
  });
  it('16-bit signed and unsigned', () => {
    expect(list(unpackSamples(le16(0x8000, 0xffff, 0x7fff), 3, u16(16, true)))).toEqual([-32768, -1, 32767]);
    expect(list(unpackSamples(le16(0x8000, 0xffff), 2, u16(16)))).toEqual([32768, 65535]);
  });
  it('8-bit unsigned and signed', () => {
    const bytes = new Uint8Array([0, 128, 255]);
    expect(list(unpackSamples(bytes, 3, { bitsAllocated: 8, bitsStored: 8, highBit: 7, pixelRepresentation: 0 }))).toEqual([0, 128, 255]);
    expect(list(unpackSamples(bytes, 3, { bitsAllocated: 8, bitsStored: 8, highBit: 7, pixelRepresentation: 1 }))).toEqual([0, -128, -1]);
  });
  it('too few bytes is DECODE_FAILED', () => {
    expect(() => unpackSamples(new Uint8Array(3), 2, u16(12))).toThrow('pixel data holds 3 bytes, the frame needs 4 (truncated?)');
  });
});

describe('LUTs (Modality and VOI LUT Sequence items)', () => {
  const lut = parseLut({ LUTDescriptor: [4, 10, 8], LUTData: [0, 50, 100, 255] }, false);

  it('maps from the first-mapped value and clamps outside the table', () => {
    expect([5, 10, 11, 12, 13, 100].map((x) => lookupLut(lut, x))).toEqual([0, 0, 50, 100, 255, 255]);
  });
  it('reads a first-mapped value >= 0x8000 as SS when the input can be negative', () => {
    const item = { LUTDescriptor: [3, 65534, 16], LUTData: [7, 8, 9] };
    const signed = parseLut(item, true);
    expect(signed.firstMapped).toBe(-2);
    expect([-5, -2, -1, 0, 5].map((x) => lookupLut(signed, x))).toEqual([7, 7, 8, 9, 9]);
    expect(parseLut(item, false).firstMapped).toBe(65534);
  });
  it('0 entries in the descriptor means 65536', () => {
    const words = new Uint16Array(65536).map((_, i) => 65535 - i);
    const big = parseLut({ LUTDescriptor: [0, 0, 16], LUTData: words.buffer }, false);
    expect([big.entries.length, lookupLut(big, 0), lookupLut(big, 65535), lookupLut(big, 70000)]).toEqual([65536, 65535, 0, 0]);
  });
  it('8-bit entries packed two per word, as OW bytes or US words', () => {
    expect(list(parseLut({ LUTDescriptor: [4, 0, 8], LUTData: new Uint8Array([1, 2, 3, 4]).buffer }, false).entries)).toEqual([1, 2, 3, 4]);
    expect(list(parseLut({ LUTDescriptor: [4, 0, 8], LUTData: [0x0201, 0x0403] }, false).entries)).toEqual([1, 2, 3, 4]);
  });
  it('inconsistent descriptors are DECODE_FAILED', () => {
    expect(() => parseLut({ LUTDescriptor: [5, 0, 16], LUTData: [1, 2, 3] }, false)).toThrow('LUT Data holds 3 values, the LUT Descriptor announces 5');
    expect(() => parseLut({ LUTDescriptor: [5, 0], LUTData: [1, 2, 3] }, false)).toThrow('LUT Descriptor must have 3 values');
  });
});

describe('Modality LUT', () => {
  it('rescale: slope 2, intercept -1024', () => {
    expect(list(applyModalityLut(Int32Array.of(0, 512, 1023), { kind: 'rescale', slope: 2, intercept: -1024 }))).toEqual([-1024, 0, 1022]);
  });
  it('LUT sequence, clamped below and above', () => {
    const lut = parseLut({ LUTDescriptor: [4, 0, 16], LUTData: [100, 200, 300, 400] }, false);
    expect(list(applyModalityLut(Int32Array.of(-5, 0, 1, 3, 9), { kind: 'lut', lut }))).toEqual([100, 100, 200, 400, 400]);
  });
});

describe('VOI LUT', () => {
  it('LINEAR c=2048 w=4096 on 0 / 1024 / 2048 / 4095', () => {
    // (x - 2047.5) / 4095 + 0.5, 0 at or below 0, 1 above 4095.
    expect(windowLinear(0, 2048, 4096)).toBe(0);
    expect(windowLinear(1024, 2048, 4096)).toBeCloseTo(0.25006105, 7);
    expect(windowLinear(2048, 2048, 4096)).toBeCloseTo(0.5001221, 7);
    expect(windowLinear(4095, 2048, 4096)).toBe(1);
  });
  it('LINEAR c=128 w=256 maps 8-bit v to v/255, and w=1 is a threshold', () => {
    expect([0, 127, 255].map((x) => windowLinear(x, 128, 256))).toEqual([0, 127 / 255, 1]);
    expect([-1, 0].map((x) => windowLinear(x, 0, 1))).toEqual([0, 1]);
  });
  it('LINEAR_EXACT c=2048 w=4096', () => {
    expect([0, 1024, 2048, 4096, 5000].map((x) => windowLinearExact(x, 2048, 4096))).toEqual([0, 0.25, 0.5, 1, 1]);
  });
  it('SIGMOID is 0.5 at the centre and 1/(1+e^-2) half a width above', () => {
    expect(windowSigmoid(2048, 2048, 4096)).toBe(0.5);
    expect(windowSigmoid(4096, 2048, 4096)).toBeCloseTo(0.88079708, 7);
    expect(windowSigmoid(0, 2048, 4096)).toBeCloseTo(0.11920292, 7);
  });
  it('applyVoi: window, LUT (scaled by 2^bits - 1), min/max, flat image', () => {
    expect(list(applyVoi(Float32Array.of(0, 2048, 4095), { kind: 'window', center: 2048, width: 4096, fn: 'LINEAR' }))).toEqual([
      0,
      Math.fround(0.5 + 0.5 / 4095),
      1,
    ]);
    const lut = parseLut({ LUTDescriptor: [3, 0, 16], LUTData: [0, 32768, 65535] }, false);
    expect(list(applyVoi(Float32Array.of(0, 1, 2, 7), { kind: 'lut', lut }))).toEqual([0, Math.fround(32768 / 65535), 1, 1]);
    expect(list(applyVoi(Float32Array.of(0, 50, 100), { kind: 'minmax', min: 0, max: 100 }))).toEqual([0, 0.5, 1]);
    expect(list(applyVoi(Float32Array.of(7, 7), { kind: 'minmax', min: 7, max: 7 }))).toEqual([0, 0]);
  });
  it('minMax leaves padding out', () => {
    expect(minMax(Float32Array.of(5, 100, 0, 50), Uint8Array.of(0, 0, 1, 0))).toEqual({ min: 5, max: 100 });
    expect(minMax(Float32Array.of(5), Uint8Array.of(1))).toBeUndefined();
  });
});

describe('MONOCHROME1 and padding', () => {
  it('inverts after VOI', () => {
    expect(list(invertMonochrome1(Float32Array.of(0, 0.25, 1)))).toEqual([1, 0.75, 0]);
  });
  it('padding value alone, and a range in either order', () => {
    const stored = Int32Array.of(0, 5, 10, -3);
    expect(list(paddingMask(stored, { value: 0, rangeLimit: 5 }) ?? [])).toEqual([1, 1, 0, 0]);
    expect(list(paddingMask(stored, { value: 5, rangeLimit: 0 }) ?? [])).toEqual([1, 1, 0, 0]);
    expect(list(paddingMask(stored, { value: -3 }) ?? [])).toEqual([0, 0, 0, 1]);
    expect(paddingMask(stored, undefined)).toBeUndefined();
    expect(list(blackOutPadding(Float32Array.of(0.5, 0.75), Uint8Array.of(1, 0)))).toEqual([0, 0.75]);
  });
});

const mono = (photometric: string, pixelRepresentation: 0 | 1 = 0): ImageAttributes => ({
  rows: 1,
  columns: 4,
  samplesPerPixel: 1,
  photometric,
  planarConfiguration: 0,
  numberOfFrames: 1,
  format: { bitsAllocated: 16, bitsStored: 12, highBit: 11, pixelRepresentation },
});

describe('the grayscale pipeline from data set attributes', () => {
  it('MONOCHROME1 + window + padding: padding stays black after inversion', () => {
    const spec = readGrayscaleSpec({ WindowCenter: '2048', WindowWidth: '4096', PixelPaddingValue: 0 }, mono('MONOCHROME1'));
    const { pixels, notes } = renderGrayscale(Int32Array.of(0, 1, 2048, 4095), spec);
    // 1 - ((x - 2047.5) / 4095 + 0.5) for x = 1 and 2048.
    expect(pixels[0]).toBe(0);
    expect(pixels[1]).toBeCloseTo(0.9997558, 6);
    expect(pixels[2]).toBeCloseTo(0.4998779, 6);
    expect(pixels[3]).toBe(0);
    expect(notes).toEqual(['VOI: window 2048/4096 LINEAR', 'pixel padding: 1 pixels set to 0']);
  });
  it('no VOI: min/max of the rescaled, non-padding values', () => {
    const spec = readGrayscaleSpec({ RescaleSlope: '2', RescaleIntercept: '-1024', PixelPaddingValue: 0 }, mono('MONOCHROME2'));
    // modality values -1024 (padding), -824, -424, -624 -> min -824, max -424.
    expect(list(renderGrayscale(Int32Array.of(0, 100, 300, 200), spec).pixels)).toEqual([0, 0, 1, 0.5]);
    expect(spec.notes).toEqual(['VOI: none usable in file, min/max of modality values']);
  });
  it('prefers the VOI LUT Sequence to a window, with a signed first-mapped value after a negative intercept', () => {
    const spec = readGrayscaleSpec(
      {
        RescaleIntercept: '-1024',
        RescaleSlope: '1',
        WindowCenter: '0',
        WindowWidth: '10',
        VOILUTSequence: [{ LUTDescriptor: [2, 64512, 8], LUTData: [0, 255] }],
      },
      mono('MONOCHROME2'),
    );
    expect(spec.voi).toMatchObject({ kind: 'lut', lut: { firstMapped: -1024 } });
    expect(list(renderGrayscale(Int32Array.of(0, 1, 4000), spec).pixels)).toEqual([0, 1, 1]);
    expect(spec.notes).toEqual(['VOI: VOI LUT Sequence item 1']);
  });
  it('the Modality LUT Sequence wins over rescale; VOI LUT Function and bad widths are honoured or noted', () => {
    const mlut = readGrayscaleSpec({ RescaleSlope: '5', ModalityLUTSequence: [{ LUTDescriptor: [2, 0, 16], LUTData: [10, 20] }] }, mono('MONOCHROME2'));
    expect(mlut.modality.kind).toBe('lut');
    expect(readGrayscaleSpec({ WindowCenter: [100, 200], WindowWidth: [50, 60], VOILUTFunction: 'SIGMOID' }, mono('MONOCHROME2')).voi).toEqual({
      kind: 'window',
      center: 100,
      width: 50,
      fn: 'SIGMOID',
    });
    expect(readGrayscaleSpec({ WindowCenter: '1', WindowWidth: '2', VOILUTFunction: 'GAMMA' }, mono('MONOCHROME2')).notes).toEqual([
      'VOI LUT Function "GAMMA" unknown, LINEAR used',
      'VOI: window 1/2 LINEAR',
    ]);
    const bad = readGrayscaleSpec({ WindowCenter: '1', WindowWidth: '0.5' }, mono('MONOCHROME2'));
    expect([bad.voi.kind, bad.notes]).toEqual([
      'minmax',
      ['window width 0.5 invalid for LINEAR, ignored', 'VOI: none usable in file, min/max of modality values'],
    ]);
  });
  it('a padding value read as US is SS for signed pixels', () => {
    expect(readGrayscaleSpec({ PixelPaddingValue: 65535, PixelPaddingRangeLimit: 65534 }, mono('MONOCHROME2', 1)).padding).toEqual({
      value: -1,
      rangeLimit: -2,
    });
    expect(readGrayscaleSpec({ PixelPaddingValue: 65535 }, mono('MONOCHROME2', 0)).padding).toEqual({ value: 65535 });
  });
});

describe('colour to luminance', () => {
  const layout = (photometric: string, planarConfiguration: 0 | 1 = 0) => ({ photometric, planarConfiguration, bitsAllocated: 8 as const, bitsStored: 8 });
  it('RGB with BT.601 weights, interleaved and planar', () => {
    const primaries = new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255]);
    expect(list(toLuminance(primaries, 3, layout('RGB')))).toEqual([0.299, 0.587, 0.114].map(Math.fround));
    const bytes = new Uint8Array([255, 0, 0, 255, 0, 0]);
    expect(list(toLuminance(bytes, 2, layout('RGB', 1)))).toEqual([0.299, 0.587].map(Math.fround));
    expect(list(toLuminance(bytes, 2, layout('RGB', 0)))).toEqual([0.299, 0.299].map(Math.fround));
  });
  it('YBR: Y is the luminance; 4:2:2 pairs share Cb Cr; PARTIAL scales 16..235', () => {
    expect(list(toLuminance(new Uint8Array([102, 128, 128, 204, 0, 0]), 2, layout('YBR_FULL')))).toEqual([0.4, 0.8].map(Math.fround));
    expect(list(toLuminance(new Uint8Array([51, 204, 128, 128]), 2, layout('YBR_FULL_422')))).toEqual([0.2, 0.8].map(Math.fround));
    expect(list(toLuminance(new Uint8Array([16, 235, 128, 128]), 2, layout('YBR_PARTIAL_422')))).toEqual([0, 1]);
  });
  it('16-bit samples use BitsStored for full scale', () => {
    expect(list(toLuminance(le16(4095, 4095, 4095), 1, { photometric: 'RGB', planarConfiguration: 0, bitsAllocated: 16, bitsStored: 12 }))).toEqual([1]);
  });
});
