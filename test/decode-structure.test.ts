// Reading the pixel container: attributes, frames and fragments, codestream checks, and the
// truncation walker, on bytes built by hand.
import { describe, expect, it } from 'vitest';
import { nativeSamplesPerFrame, readImageAttributes, type ImageAttributes } from '../src/decode/attributes.js';
import { checkCodestream } from '../src/decode/codestream.js';
import { datasetBytes, pixelDataComplete } from '../src/decode/extent.js';
import { encapsulatedFirstFrame, nativeFirstFrame, pixelDataBuffers, startsCodestream } from '../src/decode/frames.js';
import { firstNumber, numbers } from '../src/decode/values.js';

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);
const list = (a: ArrayLike<number>): number[] => Array.from(a);
const PIXELS = [new ArrayBuffer(12)];

describe('readImageAttributes', () => {
  it('fills the defaults of the Image Pixel module', () => {
    expect(readImageAttributes({ PixelData: PIXELS, Rows: 2, Columns: 3, BitsAllocated: 16, PhotometricInterpretation: 'MONOCHROME2' })).toEqual({
      rows: 2,
      columns: 3,
      samplesPerPixel: 1,
      photometric: 'MONOCHROME2',
      planarConfiguration: 0,
      numberOfFrames: 1,
      format: { bitsAllocated: 16, bitsStored: 16, highBit: 15, pixelRepresentation: 0 },
    });
  });
  it('reads IS strings (NumberOfFrames) and colour layout', () => {
    const a = readImageAttributes({
      PixelData: PIXELS,
      Rows: 2,
      Columns: 2,
      BitsAllocated: 8,
      BitsStored: 8,
      SamplesPerPixel: 3,
      PhotometricInterpretation: 'YBR_FULL_422',
      PlanarConfiguration: 0,
      NumberOfFrames: '3 ',
    });
    expect([a.numberOfFrames, a.samplesPerPixel, nativeSamplesPerFrame(a)]).toEqual([3, 3, 8]);
  });
  it.each([
    [{ PhotometricInterpretation: 'PALETTE COLOR' }, 'PALETTE COLOR images are not supported: a radiograph is expected to be MONOCHROME1 or MONOCHROME2'],
    [{ PhotometricInterpretation: 'CMYK' }, 'PhotometricInterpretation "CMYK" is not supported'],
    [{ BitsAllocated: 1 }, 'BitsAllocated 1 is not supported (8 or 16)'],
    [{ BitsStored: 17 }, 'BitsStored 17 does not fit BitsAllocated 16'],
    [{ HighBit: 10 }, 'HighBit 10 does not fit BitsStored 12 / BitsAllocated 16'],
    [{ Rows: undefined }, 'Rows is missing or not an integer'],
    [{ SamplesPerPixel: 3 }, 'SamplesPerPixel 3 does not match MONOCHROME2'],
    [{ PixelData: undefined }, 'the data set has no Pixel Data'],
  ])('refuses %j', (change, message) => {
    const ds = { PixelData: PIXELS, Rows: 2, Columns: 3, BitsAllocated: 16, BitsStored: 12, HighBit: 11, PhotometricInterpretation: 'MONOCHROME2', ...change };
    expect(() => readImageAttributes(ds)).toThrow(message);
  });
});

describe('values', () => {
  it('reads DS/IS strings, scalars and arrays', () => {
    expect([firstNumber({ a: ' 2048 ' }, 'a'), firstNumber({ a: [1, 2] }, 'a'), firstNumber({ a: 'abc' }, 'a'), firstNumber({}, 'a')]).toEqual([
      2048,
      1,
      undefined,
      undefined,
    ]);
    expect(numbers({ a: ['1', 2, 'x'] }, 'a')).toEqual([1, 2]);
  });
});

describe('frames', () => {
  it('native: frame 1 is the first frame-length bytes; short data is DECODE_FAILED', () => {
    expect(list(nativeFirstFrame([bytes(1, 2, 3, 4, 5, 6)], 4))).toEqual([1, 2, 3, 4]);
    expect(() => nativeFirstFrame([bytes(1, 2, 3)], 4)).toThrow('Pixel Data holds 3 bytes, one frame needs 4 (truncated?)');
  });
  it('encapsulated: one buffer per frame, or a single frame spread over fragments', () => {
    expect(list(encapsulatedFirstFrame([bytes(1), bytes(2), bytes(3)], 3))).toEqual([1]);
    expect(list(encapsulatedFirstFrame([bytes(0xff, 0xd8, 1), bytes(2, 3)], 1))).toEqual([0xff, 0xd8, 1, 2, 3]);
  });
  it('encapsulated without an offset table: frame 1 runs to the next SOI / SOC', () => {
    const fragments = [bytes(0xff, 0xd8, 1), bytes(2, 3), bytes(0xff, 0xd8, 4), bytes(0xff, 0x4f, 5)];
    expect(list(encapsulatedFirstFrame(fragments, 3))).toEqual([0xff, 0xd8, 1, 2, 3]);
    expect(() => encapsulatedFirstFrame([bytes(1)], 2)).toThrow('Pixel Data has 1 fragments for 2 frames');
    expect([startsCodestream(bytes(0xff, 0xd8)), startsCodestream(bytes(0xff, 0x4f)), startsCodestream(bytes(0, 0))]).toEqual([true, true, false]);
  });
  it('Pixel Data forms dcmjs produces, and ones it does not', () => {
    expect(pixelDataBuffers([new ArrayBuffer(2), bytes(1)]).map((b) => b.byteLength)).toEqual([2, 1]);
    expect(() => pixelDataBuffers(['x'])).toThrow('Pixel Data has an unexpected form');
    expect(() => pixelDataBuffers([])).toThrow('Pixel Data is empty');
  });
});

const MONO16: ImageAttributes = {
  rows: 2,
  columns: 2,
  samplesPerPixel: 1,
  photometric: 'MONOCHROME2',
  planarConfiguration: 0,
  numberOfFrames: 1,
  format: { bitsAllocated: 16, bitsStored: 12, highBit: 11, pixelRepresentation: 0 },
};

/** An RLE header with the given segment offsets, padded to `length`. */
function rle(offsets: number[], length: number, count = offsets.length): Uint8Array {
  const b = new Uint8Array(length);
  const v = new DataView(b.buffer);
  v.setUint32(0, count, true);
  offsets.forEach((o, i) => v.setUint32(4 + 4 * i, o, true));
  return b;
}

describe('checkCodestream', () => {
  it('JPEG and JPEG-LS need SOI first and EOI last (even-length padding allowed)', () => {
    expect(() => checkCodestream('jpeg', bytes(0xff, 0xd8, 1, 2, 0xff, 0xd9, 0), MONO16)).not.toThrow();
    expect(() => checkCodestream('jpegls', bytes(0xff, 0xd8, 1, 2, 3, 4), MONO16)).toThrow(
      'jpegls frame 1 is not a valid codestream: no EOI marker at the end (truncated?)',
    );
    expect(() => checkCodestream('jpeg', bytes(0, 0xd8, 1, 2, 0xff, 0xd9), MONO16)).toThrow(
      'jpeg frame 1 is not a valid codestream: no SOI marker at the start',
    );
  });
  it('a JPEG 2000 codestream ends with EOC', () => {
    expect(() => checkCodestream('j2k', bytes(0xff, 0x4f, 0xff, 0x51, 0xff, 0xd9), MONO16)).not.toThrow();
    expect(() => checkCodestream('htj2k', bytes(0xff, 0x4f, 0xff, 0x51, 0, 1), MONO16)).toThrow(
      'htj2k frame 1 is not a valid codestream: no EOC marker at the end (truncated?)',
    );
  });
  it('RLE: one segment per byte of sample, offsets ascending inside the fragment', () => {
    expect(() => checkCodestream('rle', rle([64, 80], 100), MONO16)).not.toThrow();
    expect(() => checkCodestream('rle', rle([64], 100), MONO16)).toThrow('rle frame 1 is not a valid codestream: 1 segments, expected 2');
    expect(() => checkCodestream('rle', rle([64, 120], 100), MONO16)).toThrow('segment 2 offset 120 is out of order or beyond the fragment');
    expect(() => checkCodestream('rle', rle([64, 60], 100), MONO16)).toThrow('segment 2 offset 60 is out of order or beyond the fragment');
    expect(() => checkCodestream('rle', new Uint8Array(10), MONO16)).toThrow('10 bytes, shorter than the 64-byte header');
  });
});

/** Explicit VR little endian element bytes. */
function explicit(group: number, element: number, vr: string, value: Uint8Array, declared = value.length): number[] {
  const long = ['OB', 'OW', 'SQ', 'UN', 'UT'].includes(vr);
  const h = new DataView(new ArrayBuffer(long ? 12 : 8));
  h.setUint16(0, group, true);
  h.setUint16(2, element, true);
  h.setUint8(4, vr.charCodeAt(0));
  h.setUint8(5, vr.charCodeAt(1));
  if (long) h.setUint32(8, declared, true);
  else h.setUint16(6, declared, true);
  return [...new Uint8Array(h.buffer), ...value];
}

/** An item or delimiter (FFFE,xxxx) with a 4-byte length. */
function tag32(element: number, length: number): number[] {
  const h = new DataView(new ArrayBuffer(8));
  h.setUint16(0, 0xfffe, true);
  h.setUint16(2, element, true);
  h.setUint32(4, length, true);
  return [...new Uint8Array(h.buffer)];
}

describe('pixelDataComplete (the walker behind "truncated" detection)', () => {
  const rows = explicit(0x0028, 0x0010, 'US', bytes(2, 0));
  it('native Pixel Data that fits, or runs past the end', () => {
    expect(pixelDataComplete(bytes(...rows, ...explicit(0x7fe0, 0x0010, 'OW', new Uint8Array(8))), true)).toBe(true);
    expect(pixelDataComplete(bytes(...rows, ...explicit(0x7fe0, 0x0010, 'OW', new Uint8Array(4), 8)), true)).toBe(false);
  });
  it('undefined-length sequences with nested items are skipped; encapsulated fragments are checked', () => {
    const item = [...tag32(0xe000, 0xffffffff), ...rows, ...tag32(0xe00d, 0)];
    const sq = [...explicit(0x0028, 0x3010, 'SQ', bytes(), 0xffffffff), ...item, ...tag32(0xe0dd, 0)];
    const encapsulated = (fragment: number[], declared: number): number[] => [
      ...explicit(0x7fe0, 0x0010, 'OB', bytes(), 0xffffffff),
      ...tag32(0xe000, 0),
      ...tag32(0xe000, declared),
      ...fragment,
      ...tag32(0xe0dd, 0),
    ];
    expect(pixelDataComplete(bytes(...sq, ...encapsulated([1, 2, 3, 4], 4)), true)).toBe(true);
    expect(pixelDataComplete(bytes(...sq, ...encapsulated([1, 2, 3, 4], 4)).subarray(0, -10), true)).toBe(false);
  });
  it('implicit VR', () => {
    const implicitPixels = (declared: number, actual: number): Uint8Array => {
      const b = new DataView(new ArrayBuffer(8 + actual));
      b.setUint16(0, 0x7fe0, true);
      b.setUint16(2, 0x0010, true);
      b.setUint32(4, declared, true);
      return new Uint8Array(b.buffer);
    };
    expect([pixelDataComplete(implicitPixels(8, 8), false), pixelDataComplete(implicitPixels(8, 6), false)]).toEqual([true, false]);
  });
  it('datasetBytes skips the preamble and the File Meta group by its group length', () => {
    const file = new Uint8Array(144 + 10 + 3);
    const v = new DataView(file.buffer);
    file.set([0x44, 0x49, 0x43, 0x4d], 128);
    v.setUint16(132, 2, true);
    v.setUint32(140, 10, true);
    file.set([7, 8, 9], 154);
    expect(list(datasetBytes(file) ?? [])).toEqual([7, 8, 9]);
    expect(datasetBytes(new Uint8Array(100))).toBeUndefined();
  });
});
