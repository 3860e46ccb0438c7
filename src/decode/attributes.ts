// The Image Pixel module (PS3.3 C.7.6.3) of a data set, checked once so that the pixel code below
// can trust it. Anything a radiograph decoder cannot honour becomes DECODE_FAILED with the reason.
import { PrecedentError } from '../shared/errors.js';
import type { PixelFormat } from './unpack.js';
import { firstCode, firstNumber, requiredInteger, type NaturalDataset } from './values.js';

export const MONOCHROME = new Set(['MONOCHROME1', 'MONOCHROME2']);
export const COLOUR = new Set(['RGB', 'YBR_FULL', 'YBR_FULL_422', 'YBR_PARTIAL_422', 'YBR_PARTIAL_420', 'YBR_ICT', 'YBR_RCT']);

export interface ImageAttributes {
  rows: number;
  columns: number;
  samplesPerPixel: 1 | 3;
  photometric: string;
  /** 0: samples interleaved per pixel (R1 G1 B1 R2 ...); 1: one plane per sample. */
  planarConfiguration: 0 | 1;
  numberOfFrames: number;
  format: PixelFormat;
}

function fail(message: string): never {
  throw new PrecedentError('DECODE_FAILED', message);
}

export function readImageAttributes(ds: NaturalDataset): ImageAttributes {
  if (ds['PixelData'] === undefined) fail('the data set has no Pixel Data');
  const rows = requiredInteger(ds, 'Rows');
  const columns = requiredInteger(ds, 'Columns');
  if (rows < 1 || columns < 1) fail(`image size ${columns}x${rows} is empty`);
  const photometric = firstCode(ds, 'PhotometricInterpretation');
  if (photometric === 'PALETTE COLOR') {
    fail('PALETTE COLOR images are not supported: a radiograph is expected to be MONOCHROME1 or MONOCHROME2');
  }
  if (!MONOCHROME.has(photometric) && !COLOUR.has(photometric)) {
    fail(`PhotometricInterpretation "${photometric || '(missing)'}" is not supported`);
  }
  const samplesPerPixel = firstNumber(ds, 'SamplesPerPixel') ?? (MONOCHROME.has(photometric) ? 1 : 3);
  const expectedSamples = MONOCHROME.has(photometric) ? 1 : 3;
  if (samplesPerPixel !== expectedSamples) fail(`SamplesPerPixel ${samplesPerPixel} does not match ${photometric}`);
  const bitsAllocated = requiredInteger(ds, 'BitsAllocated');
  if (bitsAllocated !== 8 && bitsAllocated !== 16) fail(`BitsAllocated ${bitsAllocated} is not supported (8 or 16)`);
  const bitsStored = firstNumber(ds, 'BitsStored') ?? bitsAllocated;
  const highBit = firstNumber(ds, 'HighBit') ?? bitsStored - 1;
  if (!Number.isInteger(bitsStored) || bitsStored < 1 || bitsStored > bitsAllocated) {
    fail(`BitsStored ${bitsStored} does not fit BitsAllocated ${bitsAllocated}`);
  }
  if (!Number.isInteger(highBit) || highBit < bitsStored - 1 || highBit >= bitsAllocated) {
    fail(`HighBit ${highBit} does not fit BitsStored ${bitsStored} / BitsAllocated ${bitsAllocated}`);
  }
  const pixelRepresentation = firstNumber(ds, 'PixelRepresentation') ?? 0;
  if (pixelRepresentation !== 0 && pixelRepresentation !== 1) fail(`PixelRepresentation ${pixelRepresentation} is not 0 or 1`);
  const planar = firstNumber(ds, 'PlanarConfiguration') ?? 0;
  const frames = firstNumber(ds, 'NumberOfFrames') ?? 1;
  return {
    rows,
    columns,
    samplesPerPixel: expectedSamples,
    photometric,
    planarConfiguration: planar === 1 ? 1 : 0,
    numberOfFrames: Number.isInteger(frames) && frames >= 1 ? frames : 1,
    format: { bitsAllocated, bitsStored, highBit, pixelRepresentation },
  };
}

/** Native YBR_*_422 keeps one Cb/Cr pair per two pixels (PS3.3 C.7.6.3.1.2): 2 samples per pixel. */
export function nativeSamplesPerFrame(a: ImageAttributes): number {
  const pixels = a.rows * a.columns;
  if (a.photometric === 'YBR_FULL_422' || a.photometric === 'YBR_PARTIAL_422') return pixels * 2;
  return pixels * a.samplesPerPixel;
}
