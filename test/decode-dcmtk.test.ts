// End to end: our decoder against dcmtk's rendering of the same file (dcmj2pnm, dcml2pnm for
// JPEG-LS) with the same VOI. dcmtk cannot decode JPEG 2000 here, so JPEG 2000 and HTJ2K are
// compared with dcmtk's rendering of the uncompressed original, and JPEG 2000 also with dcmtk's
// rendering of gdcm's decompression (an independent OpenJPEG build).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import dcmjsCodecs from 'dcmjs-codecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImageDecoder, initCodecs } from '../src/decode/index.js';
import { buildFixture, decodeToEle, sharedDir, type Fixture, type PixelVariant, type SyntaxName } from './fixtures/build.js';
import { compareWith, renderWithDcmtk, type Difference, type Gray8 } from './helpers/decode-dcmtk.js';
import { buildExtra, fragmentedJpegLossless, paddingRange, storedValues, type ExtraVariant } from './helpers/decode-fixtures.js';
import { requireTool } from './helpers/tools.js';

// Lossless: dcmtk and we only differ in rounding to 8 bits.
const LOSSLESS = { mean: 1.5, max: 3 };
// Lossy: the two decoders' IDCT / wavelet arithmetic differs by a grey level or so; against the
// uncompressed original (j2k at 10:1) the compression error itself is measured, so the bound is looser.
const LOSSY_SAME_FILE = { mean: 1.5, max: 4 };
const LOSSY_VS_ORIGINAL = { mean: 2, max: 12 };

const WINDOW = ['+Wi', '1'];
const decoder = createImageDecoder();
const measured: Array<{ name: string; reference: string; diff: Difference }> = [];
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'precedent-decode-'));
});

// A missing tool fails here and in every comparison (renderWithDcmtk runs it), never skips:
// a failing beforeAll would only mark the tests skipped.
it.each(['dcmj2pnm', 'dcml2pnm', 'gdcmconv', 'dcmcjpeg'])('the reference tool %s is installed', (tool) => {
  expect(requireTool(tool)).toMatch(new RegExp(`/${tool}$`));
});

afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
  const rows = measured.map((m) => `${m.name.padEnd(34)} ${m.reference.padEnd(24)} mean ${m.diff.mean.toFixed(3)}  max ${m.diff.max.toFixed(2)}`);
  console.log(`decoded vs dcmtk, grey levels of 255:\n${rows.join('\n')}`);
});

interface Outcome extends Difference {
  sameSize: boolean;
  inUnitRange: boolean;
  withinBound: boolean;
}

interface Reference {
  image: Gray8;
  label: string;
}

/** dcmtk's rendering of the file itself. */
async function sameFile(file: string, voi = WINDOW, extra: string[] = []): Promise<Reference> {
  return { image: await renderWithDcmtk(file, voi, extra), label: 'dcmtk, same file' };
}

/** dcmtk's rendering of the uncompressed original (for syntaxes dcmtk cannot decode). */
async function uncompressed(file: string, voi = WINDOW, extra: string[] = []): Promise<Reference> {
  return { image: await renderWithDcmtk(file, voi, extra), label: 'dcmtk, uncompressed' };
}

/** Decodes `file` and compares it with the reference; the test asserts on the returned outcome. */
async function measure(name: string, file: string, ref: Reference, bound: { mean: number; max: number }, include?: (i: number) => boolean): Promise<Outcome> {
  const { image: reference, label: referenceName } = ref;
  const img = await decoder.decodeFile(file);
  // Shared memory: handing the image to an embedding worker must not copy it.
  expect(img.pixels.buffer).toBeInstanceOf(SharedArrayBuffer);
  const sameSize = img.width === reference.width && img.height === reference.height;
  const diff = sameSize ? compareWith(img.pixels, reference.data, include) : { mean: NaN, max: NaN, compared: 0 };
  measured.push({ name, reference: referenceName, diff });
  return {
    ...diff,
    sameSize,
    inUnitRange: img.pixels.every((v) => v >= 0 && v <= 1),
    withinBound: diff.mean <= bound.mean && diff.max <= bound.max,
  };
}

/** What every comparison must show (the received object also shows the measured mean and max). */
const GOOD = { sameSize: true, inUnitRange: true, withinBound: true };

const eleCache = new Map<string, Promise<Fixture>>();
/** The uncompressed original of a variant (built once per file run). */
function ele(variant: PixelVariant): Promise<Fixture> {
  let p = eleCache.get(variant);
  if (p === undefined) {
    p = buildFixture({ variant, syntax: 'ele' }, dir);
    eleCache.set(variant, p);
  }
  return p;
}

describe('every pixel variant in Explicit VR Little Endian', () => {
  it.each(['dx8', 'dx12', 'dx12m1', 'dx16', 'cr12m1', 'cr10rescale'] as const)('%s matches dcmj2pnm with the file window', async (variant) => {
    const fx = await ele(variant);
    expect(await measure(`${variant} ele`, fx.path, await sameFile(fx.path), LOSSLESS)).toMatchObject(GOOD);
  });
});

// One variant per syntax, spread so that each pixel format meets a codec.
const SYNTAX_CASES: Array<[SyntaxName, PixelVariant, boolean]> = [
  ['ile', 'cr10rescale', false],
  ['deflate', 'dx12m1', false],
  ['jpeg-baseline', 'dx8', true],
  ['jpeg-extended', 'dx12', true],
  ['jpeg-lossless', 'dx16', false],
  ['jpeg-sv1', 'cr12m1', false],
  ['jpegls', 'dx12', false],
  ['jpegls-near', 'cr10rescale', true],
  ['rle', 'dx12m1', false],
];

describe('transfer syntaxes dcmtk decodes', () => {
  it.each(SYNTAX_CASES)('%s (%s) matches dcmtk on the same file', async (syntax, variant, lossy) => {
    const fx = await buildFixture({ variant, syntax }, dir);
    expect(await measure(`${variant} ${syntax}`, fx.path, await sameFile(fx.path), lossy ? LOSSY_SAME_FILE : LOSSLESS)).toMatchObject(GOOD);
  });
});

describe('JPEG 2000 (dcmtk cannot decode it)', () => {
  it.each([
    ['j2k-lossless', 'dx12', false],
    ['j2k-lossless', 'cr12m1', false],
    ['j2k', 'dx12', true],
    ['j2k', 'dx16', true],
  ] as const)("%s (%s) matches dcmtk on the original and on gdcm's decompression", async (syntax, variant, lossy) => {
    const fx = await buildFixture({ variant, syntax }, dir);
    const original = await ele(variant);
    expect(await measure(`${variant} ${syntax}`, fx.path, await uncompressed(original.path), lossy ? LOSSY_VS_ORIGINAL : LOSSLESS)).toMatchObject(GOOD);
    const raw = path.join(dir, `gdcm-raw-${path.basename(fx.path)}`);
    await decodeToEle(syntax, fx.path, raw);
    expect(await measure(`${variant} ${syntax}`, fx.path, { image: await renderWithDcmtk(raw, WINDOW), label: 'dcmtk, gdcm-decoded' }, LOSSLESS)).toMatchObject(
      GOOD,
    );
  });

  it('HTJ2K lossless (encoded with dcmjs-codecs: no other encoder here) matches dcmtk on the original', async () => {
    await initCodecs();
    const original = await ele('dx12');
    const bytes = await readFile(original.path);
    const transcoder = new dcmjsCodecs.Transcoder(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    transcoder.transcode(dcmjsCodecs.constants.TransferSyntax.HtJpeg2000Lossless);
    const file = path.join(dir, 'dx12-htj2k.dcm');
    await writeFile(file, new Uint8Array(transcoder.getDicomPart10()));
    expect(await measure('dx12 htj2k-lossless', file, await uncompressed(original.path), LOSSLESS)).toMatchObject(GOOD);
  });
});

// Attribute-level features, each with the dcmtk option that applies the same transform.
const FEATURE_CASES: Array<[ExtraVariant, SyntaxName, string[], string[]]> = [
  ['voilut', 'ele', ['+Wl', '1'], []],
  ['voilut', 'jpegls', ['+Wl', '1'], []],
  ['mlut', 'ele', WINDOW, []],
  ['mlut', 'rle', WINDOW, []],
  ['sigmoid', 'ele', WINDOW, []],
  ['linear-exact', 'ele', WINDOW, []],
  ['signed', 'ele', WINDOW, []],
  ['signed', 'jpeg-lossless', WINDOW, []],
  ['signed', 'jpegls', WINDOW, []],
  ['masked', 'ele', WINDOW, []],
  ['multiframe', 'ele', WINDOW, []],
  ['rgb', 'ele', [], ['+G']],
  ['rgb', 'rle', [], ['+G']],
  ['rgb', 'jpegls', [], ['+G']],
];

describe('LUT sequences, VOI LUT functions, signed, masked, colour and multi-frame pixels', () => {
  it.each(FEATURE_CASES)('%s in %s matches dcmtk %j %j', async (variant, syntax, voi, extra) => {
    const fx = await buildExtra(variant, syntax, dir);
    expect(await measure(`${variant} ${syntax}`, fx.path, await sameFile(fx.path, voi, extra), LOSSLESS)).toMatchObject(GOOD);
  });

  it('colour JPEG baseline (YBR_FULL_422) matches dcmtk +G within the lossy bound', async () => {
    const fx = await buildExtra('rgb', 'jpeg-baseline', dir);
    expect(await measure('rgb jpeg-baseline', fx.path, await sameFile(fx.path, [], ['+G']), LOSSY_SAME_FILE)).toMatchObject(GOOD);
  });

  it('colour JPEG 2000 lossless matches dcmtk +G on the original', async () => {
    const fx = await buildExtra('rgb', 'j2k-lossless', dir);
    const original = await buildExtra('rgb', 'ele', dir);
    expect(await measure('rgb j2k-lossless', fx.path, await uncompressed(original.path, [], ['+G']), LOSSLESS)).toMatchObject(GOOD);
  });

  it('multi-frame: frame 1 is used and noted, also from fragmented JPEG with an empty offset table', async () => {
    const fx = await buildExtra('multiframe', 'ele', dir);
    const fragmented = await fragmentedJpegLossless(fx.path);
    const img = await decoder.decodeFile(fragmented);
    expect(img.notes).toContain('multi-frame: frame 1 of 3 used');
    expect(await measure('multiframe jpeg-sv1 fragmented', fragmented, await uncompressed(fx.path), LOSSLESS)).toMatchObject(GOOD);
  });

  it.each([
    // The range dcmtk's (padding-unaware) rendering of those pixels falls in.
    ['padding', 'dx12', [0, 100]],
    ['padding-m1', 'dx12m1', [180, 255]],
  ] as const)('%s: padding pixels are black (also where MONOCHROME1 would show them white), the rest match dcmtk', async (variant, base, [refLow, refHigh]) => {
    const fx = await buildExtra(variant, 'ele', dir);
    const [lo, hi] = await paddingRange(base);
    const stored = await storedValues(base);
    const isPadding = (i: number): boolean => (stored[i] ?? -1) >= lo && (stored[i] ?? -1) <= hi;
    const img = await decoder.decodeFile(fx.path);
    const padding = Array.from(stored.keys()).filter(isPadding);
    expect(padding.length).toBeGreaterThan(stored.length * 0.03);
    expect(padding.filter((i) => img.pixels[i] !== 0)).toEqual([]);
    expect(img.notes).toContain(`pixel padding: ${padding.length} pixels set to 0`);
    const ref = await renderWithDcmtk(fx.path, WINDOW);
    // dcmtk shows padding as ordinary pixels: for MONOCHROME1 bright ones, which we must not.
    const refMean = padding.reduce((sum, i) => sum + (ref.data[i] ?? 0), 0) / padding.length;
    expect(refMean).toBeGreaterThanOrEqual(refLow);
    expect(refMean).toBeLessThanOrEqual(refHigh);
    expect(await measure(`${variant} ele (non-padding)`, fx.path, { image: ref, label: 'dcmtk, same file' }, LOSSLESS, (i) => !isPadding(i))).toMatchObject(
      GOOD,
    );
  });
});

describe('a real radiograph', () => {
  it('rsna-cr-chest-ap-jpeg-baseline.dcm matches dcmj2pnm with a min/max window', async () => {
    const file = path.join(sharedDir(), 'data', 'dicom', 'rsna-cr-chest-ap-jpeg-baseline.dcm');
    const ref = await renderWithDcmtk(file, ['+Wm']);
    expect(await measure('rsna CR jpeg-baseline (no VOI)', file, { image: ref, label: 'dcmtk +Wm, same file' }, LOSSY_SAME_FILE)).toMatchObject(GOOD);
    const img = await decoder.decodeFile(file);
    expect(img.notes).toEqual(['source is lossy compressed', 'VOI: none usable in file, min/max of modality values']);
    // Sanity for the comparison itself: both renderings span the full range.
    expect([ref.data.reduce((a, b) => Math.min(a, b), 255), ref.data.reduce((a, b) => Math.max(a, b), 0)]).toEqual([0, 255]);
    expect([img.pixels.reduce((a, b) => Math.min(a, b), 1), img.pixels.reduce((a, b) => Math.max(a, b), 0)]).toEqual([0, 1]);
  });

  it('is read without dcmjs printing on the console (its Patient\'s Age "68" is malformed)', () => {
    // A separate process: dcmjs's loggers write to the console, which vitest would capture.
    const file = path.join(sharedDir(), 'data', 'dicom', 'rsna-cr-chest-ap-jpeg-baseline.dcm');
    const script = `
      const { createImageDecoder } = await import(${JSON.stringify(pathToFileURL(path.resolve('dist/decode/index.js')).href)});
      const { readSourceImage } = await import(${JSON.stringify(pathToFileURL(path.resolve('dist/report/index.js')).href)});
      const { readFileSync } = await import('node:fs');
      const image = await createImageDecoder().decodeFile(${JSON.stringify(file)});
      const source = readSourceImage(readFileSync(${JSON.stringify(file)}));
      process.stdout.write(image.width + ' ' + source.SOPInstanceUID.length);`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^\d+ \d+$/);
    expect(run.stderr).toBe('');
  });
});
