// Decoding and result drawing on worker threads (decode/pool.ts, render/pool.ts): the same output as
// in the calling thread, coded failures kept, and the event loop that answers associations free while
// a full-size radiograph is decoded and drawn.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseThumbnail, createDecoderPool, createImageDecoder, type DecoderPool } from '../src/decode/index.js';
import { createResultRenderer, renderResults, type RenderRequest, type ResultRenderer } from '../src/render/index.js';
import { readSourceImage, type RgbImage } from '../src/report/index.js';
import { readPart10 } from './fixtures/dcmjs.js';
import { findText } from './helpers/report-tools.js';
import { buildFixture, type Fixture, type FixtureSpec } from './fixtures/build.js';
import { loopTurnsDuring } from './helpers/event-loop.js';
import { capturingLogger } from './helpers/model-images.js';
import { tempDir } from './helpers/node.js';
import { renderRequestFor, retrievalFor } from './helpers/report-fixtures.js';

const dir = tempDir('precedent-image-threads-');
const inThread = createImageDecoder();
let decoder: DecoderPool;
let renderer: ResultRenderer;
const small: Fixture[] = [];
let large: Fixture;

const SMALL: FixtureSpec[] = [
  { variant: 'dx12', syntax: 'j2k', maxSize: 384 },
  { variant: 'cr12m1', syntax: 'jpegls', maxSize: 384, imageIndex: 7 },
  { variant: 'dx16', syntax: 'ele', maxSize: 384, imageIndex: 11 },
];

beforeAll(async () => {
  decoder = createDecoderPool({ threads: 1, log: capturingLogger().log });
  renderer = createResultRenderer({ threads: 1, log: capturingLogger().log });
  for (const spec of SMALL) small.push(await buildFixture(spec, dir));
  // Detector resolution: decoding and drawing cost hundreds of ms to seconds at this size.
  large = await buildFixture({ variant: 'dx12', syntax: 'j2k', enlargeTo: 2600, imageIndex: 3 }, dir);
}, 120_000);

afterAll(async () => {
  await decoder.close();
  await renderer.close();
});

async function request(source: Fixture, cases: Fixture[]): Promise<RenderRequest> {
  const retrieval = retrievalFor(readSourceImage(await readFile(source.path)));
  const casePaths: Record<string, string> = {};
  // Every case but the third has pixels (the third gets a placeholder).
  retrieval.cases.forEach((c, i) => {
    const file = cases[i % cases.length];
    if (i !== 2 && file) casePaths[c.case.SOPInstanceUID] = file.path;
  });
  return renderRequestFor(source.path, retrieval, casePaths, 'TEST');
}

describe('decoding threads', () => {
  it('decode every syntax exactly as the calling thread does, into shared memory', async () => {
    for (const f of small) {
      const [mine, theirs] = [await inThread.decodeFile(f.path), await decoder.decodeFile(f.path)];
      expect([theirs.width, theirs.height, theirs.notes], `${f.syntax}`).toEqual([mine.width, mine.height, mine.notes]);
      expect(Buffer.from(theirs.pixels.buffer).equals(Buffer.from(mine.pixels.buffer)), `${f.variant} ${f.syntax} pixels`).toBe(true);
      expect(theirs.pixels.buffer).toBeInstanceOf(SharedArrayBuffer);
    }
  });

  it('keep DECODE_FAILED (never retried) for a file that is not DICOM, and go on decoding', async () => {
    const bad = join(dir, 'not-dicom.dcm');
    await writeFile(bad, 'this is not a DICOM file'.repeat(20));
    await expect(decoder.decodeFile(bad)).rejects.toMatchObject({ code: 'DECODE_FAILED', message: /not a readable DICOM/ });
    await expect(decoder.decodeFile(small[0]?.path ?? '')).resolves.toMatchObject({ width: expect.any(Number) as number });
  });

  it('leave the event loop turning while a full-size JPEG 2000 radiograph is decoded', async () => {
    const there = await loopTurnsDuring(() => decoder.decodeFile(large.path));
    const here = await inThread.decodeFile(large.path);
    expect([there.value.width, there.value.height]).toEqual([here.width, here.height]);
    // How long the loop is held up, here and there, is measured by npm run bench (responsiveness).
    expect(there.turns).toBeGreaterThan(0);
  });
});

describe('result drawing threads', () => {
  it('write the same bytes as drawing in the calling thread', async () => {
    const req = await request(small[0] as Fixture, small);
    const [mine, theirs] = [await renderResults(req, inThread), await renderer.render(req)];
    expect(theirs.objects.map((r) => r.kind)).toEqual(['sr', 'heatmap', 'cases']);
    expect(theirs.objects.map((r) => r.SOPInstanceUID)).toEqual(['2.25.221', '2.25.222', '2.25.223']);
    theirs.objects.forEach((r, i) => expect(Buffer.from(r.bytes).equals(Buffer.from(mine.objects[i]?.bytes ?? [])), `${r.kind} bytes`).toBe(true));
    expect(theirs.madeThumbnails).toEqual(mine.madeThumbnails);
  });

  it('make a thumbnail of each case drawn from its file, and draw the same page from the thumbnails alone', async () => {
    const req = await request(small[0] as Fixture, small);
    const first = await renderer.render(req);
    // Every case with a file (all but the third) got a thumbnail of at most 256 px.
    const withFile = Object.keys(req.casePaths);
    expect(Object.keys(first.madeThumbnails).sort()).toEqual(withFile.sort());
    for (const t of Object.values(first.madeThumbnails)) expect(Math.max(t.width, t.height)).toBeLessThanOrEqual(256);
    const again = await renderer.render({ ...req, casePaths: {}, caseThumbnails: first.madeThumbnails });
    expect(again.madeThumbnails).toEqual({});
    const page = (o: typeof first): Buffer => Buffer.from(o.objects.find((r) => r.kind === 'cases')?.bytes ?? []);
    expect(page(again).equals(page(first)), 'the same page without decoding a case file').toBe(true);
  });

  it('draw the heatmap on the image the analysis decoded, when it is handed over, instead of decoding again', async () => {
    const req = await request(small[0] as Fixture, small);
    // Another radiograph in its place shows that the one handed over is what gets drawn.
    const other = await decoder.decodeFile(small[1]?.path ?? '');
    const [plain, handed, mine] = [
      await renderer.render(req),
      await renderer.render({ ...req, sourceImage: other }),
      await renderResults({ ...req, sourceImage: other }, inThread),
    ];
    const heatmap = (o: { objects: { kind: string; bytes: Uint8Array }[] }): Buffer => Buffer.from(o.objects.find((r) => r.kind === 'heatmap')?.bytes ?? []);
    expect(heatmap(handed).equals(heatmap(plain))).toBe(false);
    expect(heatmap(handed).equals(heatmap(mine))).toBe(true);
  });

  it('draw the stored thumbnail of a case whose file the node does not keep, and a placeholder without one', async () => {
    const req = await request(small[0] as Fixture, small);
    const third = req.retrieval.cases[2]?.case.SOPInstanceUID ?? '';
    const thumbnail = caseThumbnail(await inThread.decodeFile(small[1]?.path ?? ''));
    expect(Math.max(thumbnail.width, thumbnail.height)).toBe(256);
    const page = async (r: RenderRequest): Promise<RgbImage> => {
      const bytes = (await renderer.render(r)).objects.find((o) => o.kind === 'cases')?.bytes ?? new Uint8Array(0);
      const { dataset } = readPart10(bytes);
      const pixelData = dataset['PixelData'];
      const buffer = (Array.isArray(pixelData) ? pixelData[0] : pixelData) as ArrayBuffer;
      // The page is stored as JPEG Baseline: decoded here (jpeg-js) and the text found near its colour.
      const rgba = jpeg.decode(Buffer.from(buffer), { useTArray: true, formatAsRGBA: true });
      const data = new Uint8Array(rgba.width * rgba.height * 3);
      for (let i = 0, j = 0; j < data.length; i += 4, j += 3) data.set(rgba.data.subarray(i, i + 3), j);
      return { width: Number(dataset['Columns']), height: Number(dataset['Rows']), data };
    };
    expect(findText(await page(req), 'NO IMAGE', [200, 200, 200], [1, 2, 3, 4], 48), 'placeholder without a thumbnail').not.toBeNull();
    expect(findText(await page({ ...req, caseThumbnails: { [third]: thumbnail } }), 'NO IMAGE', [200, 200, 200], [1, 2, 3, 4], 48)).toBeNull();
  });

  it('leave the event loop turning while the results of a full-size radiograph are drawn', async () => {
    const req = await request(large, small);
    const there = await loopTurnsDuring(() => renderer.render(req));
    expect(there.value.objects.map((r) => r.kind)).toEqual(['sr', 'heatmap', 'cases']);
    expect(there.turns).toBeGreaterThan(0);
  });
});
