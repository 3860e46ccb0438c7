// Input the decoder must refuse with DECODE_FAILED and a reason, without crashing the process or
// poisoning the shared WebAssembly codecs for the next image.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImageDecoder } from '../src/decode/index.js';
import { isPrecedentError } from '../src/shared/errors.js';
import { buildFixture, type Fixture } from './fixtures/build.js';
import { buildExtra, rewritePixelData } from './helpers/decode-fixtures.js';

const decoder = createImageDecoder();
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'precedent-decode-errors-'));
});

afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

/** Resolves to the error's code and message; fails the test if decoding succeeds. */
async function failure(file: string): Promise<{ code: string; message: string }> {
  const err: unknown = await decoder.decodeFile(file).then(
    () => new Error('decoded without error'),
    (e: unknown) => e,
  );
  if (!isPrecedentError(err)) throw err instanceof Error ? err : new Error(String(err));
  return { code: err.code, message: err.message };
}

/** A deterministic pseudo-random buffer. */
function noise(length: number, seed = 12345): Uint8Array {
  let x = seed;
  return Uint8Array.from({ length }, () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x >> 16;
  });
}

/** A garbage frame that still opens with SOI and closes with EOI, so it reaches the codec itself. */
function markedGarbage(length: number): ArrayBuffer {
  const b = new Uint8Array(new ArrayBuffer(length));
  b.set(noise(length));
  b.set([0xff, 0xd8], 0);
  b.set([0xff, 0xd9], length - 2);
  return b.buffer;
}

describe('undecodable input', () => {
  let dx12: Fixture;
  beforeAll(async () => {
    dx12 = await buildFixture({ variant: 'dx12', syntax: 'ele' }, dir);
  });

  it('a PALETTE COLOR image', async () => {
    const fx = await buildExtra('palette', 'ele', dir);
    expect(await failure(fx.path)).toEqual({
      code: 'DECODE_FAILED',
      message: 'PALETTE COLOR images are not supported: a radiograph is expected to be MONOCHROME1 or MONOCHROME2',
    });
  });

  it('native pixel data shorter than one frame', async () => {
    const file = await rewritePixelData(dx12.path, path.join(dir, 'short-native.dcm'), ([b]) => [(b ?? new ArrayBuffer(0)).slice(0, 5000)]);
    expect(await failure(file)).toEqual({ code: 'DECODE_FAILED', message: 'Pixel Data holds 5000 bytes, one frame needs 101376 (truncated?)' });
  });

  it('a file cut off in the middle of its pixel data', async () => {
    const bytes = await readFile(dx12.path);
    const file = path.join(dir, 'cut.dcm');
    await writeFile(file, bytes.subarray(0, bytes.length - 40_000));
    expect(await failure(file)).toEqual({ code: 'DECODE_FAILED', message: 'the file ends inside its Pixel Data (truncated)' });
  });

  it('bytes that are not DICOM', async () => {
    const file = path.join(dir, 'noise.dcm');
    await writeFile(file, noise(4096));
    expect(await failure(file)).toEqual({ code: 'DECODE_FAILED', message: 'the file is not a readable DICOM Part 10 file' });
  });

  it('a missing file', async () => {
    expect(await failure(path.join(dir, 'nope.dcm'))).toEqual({ code: 'DECODE_FAILED', message: 'the image file cannot be read (ENOENT)' });
  });

  it.each([
    ['jpeg-lossless', /^jpeg frame 1 is not a valid codestream: no EOI marker at the end \(truncated\?\)$/],
    ['jpegls', /^jpegls frame 1 is not a valid codestream: no EOI marker at the end \(truncated\?\)$/],
    ['j2k-lossless', /^j2k frame 1 is not a valid codestream: no EOC marker at the end \(truncated\?\)$/],
    // The second RLE segment starts within the kept bytes, so the codec itself finds the overrun.
    ['rle', /^rle codec could not decode frame 1: RleDecoder::Decode::RLE literal run exceeds input buffer length$/],
  ] as const)('a truncated %s frame', async (syntax, message) => {
    const fx = await buildFixture({ variant: 'dx12', syntax }, dir);
    const file = await rewritePixelData(fx.path, path.join(dir, `truncated-${syntax}.dcm`), ([b]) => [(b ?? new ArrayBuffer(0)).slice(0, 20_000)]);
    expect(await failure(file)).toEqual({ code: 'DECODE_FAILED', message: expect.stringMatching(message) as unknown });
  });

  it.each(['jpeg-lossless', 'jpegls', 'j2k-lossless'] as const)(
    'garbage in a %s frame fails in the codec, and the next image still decodes',
    async (syntax) => {
      const fx = await buildFixture({ variant: 'dx12', syntax }, dir);
      const garbage =
        syntax === 'j2k-lossless'
          ? (() => {
              const b = new Uint8Array(markedGarbage(20_000));
              b.set([0xff, 0x4f, 0xff, 0x51], 0);
              return b.buffer;
            })()
          : markedGarbage(20_000);
      const file = await rewritePixelData(fx.path, path.join(dir, `garbage-${syntax}.dcm`), () => [garbage]);
      const codec = syntax === 'j2k-lossless' ? 'j2k' : syntax === 'jpegls' ? 'jpegls' : 'jpeg';
      expect(await failure(file)).toEqual({
        code: 'DECODE_FAILED',
        message: expect.stringMatching(new RegExp(`^${codec} codec could not decode frame 1: .+`)) as unknown,
      });
      // A codec error can leave the WebAssembly instance inconsistent; the decoder must have replaced it.
      for (let i = 0; i < 3; i++) {
        const good = await decoder.decodeFile(fx.path);
        expect([good.width, good.height, good.pixels.some((v) => v > 0)]).toEqual([256, 198, true]);
      }
    },
  );

  it.each(['jpeg-lossless', 'jpegls', 'j2k-lossless', 'rle', 'ile', 'deflate'] as const)('a %s file cut off in its pixel data', async (syntax) => {
    const fx = await buildFixture({ variant: 'dx12', syntax }, dir);
    const bytes = await readFile(fx.path);
    const file = path.join(dir, `cut-${syntax}.dcm`);
    await writeFile(file, bytes.subarray(0, bytes.length - 10_000));
    // dcmjs would zero-fill the missing bytes; the deflated syntax fails earlier, in zlib.
    const message = syntax === 'deflate' ? 'the file is not a readable DICOM Part 10 file' : 'the file ends inside its Pixel Data (truncated)';
    expect(await failure(file)).toEqual({ code: 'DECODE_FAILED', message });
  });

  it('a codec failure during concurrent decodes does not fail the good images', async () => {
    const fx = await buildFixture({ variant: 'dx12', syntax: 'jpegls' }, dir);
    const bad = await rewritePixelData(fx.path, path.join(dir, 'garbage-concurrent.dcm'), () => [markedGarbage(20_000)]);
    const files = [fx.path, bad, fx.path, bad, fx.path, fx.path];
    const results = await Promise.allSettled(files.map((f) => decoder.decodeFile(f)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
  });

  it('a data set without Pixel Data', async () => {
    const file = await rewritePixelData(dx12.path, path.join(dir, 'empty-pixels.dcm'), () => []);
    expect(await failure(file)).toMatchObject({ code: 'DECODE_FAILED' });
  });

  it('an unsupported bit depth', async () => {
    const fx = await buildFixture({ variant: 'dx12', syntax: 'ele', extraAttributes: { BitsAllocated: 32, BitsStored: 32, HighBit: 31 } }, dir);
    expect(await failure(fx.path)).toEqual({ code: 'DECODE_FAILED', message: 'BitsAllocated 32 is not supported (8 or 16)' });
  });

  it('never puts patient data in the message', async () => {
    const fx = await buildExtra('palette', 'ele', dir);
    const { message } = await failure(fx.path);
    expect(message).not.toMatch(/TEST|PATIENT|PRECEDENT-TEST/);
  });
});
