// WADO-RS retrieve negotiation and pictures, checked with dicomweb-client (and fetch where the client
// cannot ask, e.g. Implicit VR Little Endian): single-part application/dicom, transfer-syntax as
// stored / transcoded / 406, multi-frame compressed frames, rendered and thumbnail pictures windowed
// like the analysis decoder (MONOCHROME1 inverted, colour kept).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import dicomweb from 'dicomweb-client';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { buildFixtures, newUid, type Fixture } from './fixtures/build.js';
import { extraSpec, storedValues } from './helpers/decode-fixtures.js';
import { startTestNode, stopAndCollectLogs, tempDir, type TestNode } from './helpers/node.js';
import { fileParts, splitMultipart, stow } from './helpers/stow.js';
import { installXhr } from './helpers/xhr.js';
import { createImageDecoder } from '../src/decode/index.js';
import { buildHeatmapSC, readSourceImage } from '../src/report/index.js';
import { attentionMap, MODEL } from './helpers/report-fixtures.js';

installXhr();

const TOKEN = 'retrieve-token-0123456789abcdef';
const auth = { Authorization: `Bearer ${TOKEN}` };
let node: TestNode;
let client: InstanceType<typeof dicomweb.api.DICOMwebClient>;
let native: Fixture, jls: Fixture, m1: Fixture, rgb: Fixture, multi: Fixture;
/** A result heatmap SC (RGB) of `native`, as the node writes results, indexed at start. */
let heatmap: { bytes: Uint8Array; SOPInstanceUID: string; SeriesInstanceUID: string };
let base: string;
const dir = tempDir('precedent-retrieve-');

type Ds = ReturnType<typeof dcmjs.data.DicomMessage.readFile>;
const read = (bytes: ArrayBuffer | Buffer): Ds =>
  dcmjs.data.DicomMessage.readFile(
    bytes instanceof ArrayBuffer ? bytes : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer),
  );
const syntaxOf = (d: Ds): unknown => d.meta['00020010']?.Value?.[0];
const pixelsOf = (d: Ds): Buffer => Buffer.from(d.dict['7FE00010']?.Value?.[0] as ArrayBuffer);
const url = (f: Fixture, tail = ''): string => `${base}/studies/${f.studyInstanceUID}/series/${f.seriesInstanceUID}/instances/${f.sopInstanceUID}${tail}`;
const uidsOf = (f: Fixture) => ({ studyInstanceUID: f.studyInstanceUID, seriesInstanceUID: f.seriesInstanceUID, sopInstanceUID: f.sopInstanceUID });
type Opts<K extends keyof typeof client> = (typeof client)[K] extends (o: infer O) => unknown ? O : never;
/**
 * dicomweb-client 0.11's retrieveInstance refuses any mediaTypes (its common-type check compares
 * "application/" with "application/dicom"), so the request it would make is made with the client's
 * own multipart request method: the same Accept header building and multipart decoding.
 */
async function retrieveAs(f: Fixture, transferSyntaxUID: string): Promise<ArrayBuffer> {
  const c = client as unknown as { _httpGetMultipartApplicationDicom(url: string, mediaTypes: unknown[], params: unknown): Promise<ArrayBuffer[]> };
  const [first] = await c._httpGetMultipartApplicationDicom(url(f), [{ mediaType: 'application/dicom', transferSyntaxUID }], false);
  return first as ArrayBuffer;
}

beforeAll(async () => {
  const study = newUid();
  const [rgbSpec, multiSpec] = [await extraSpec('rgb', 'ele'), await extraSpec('multiframe', 'jpegls')];
  [native, jls, m1, rgb, multi] = (await buildFixtures(
    [
      { variant: 'dx12', syntax: 'ele', maxSize: 40, studyInstanceUID: study },
      { variant: 'dx12', syntax: 'jpegls', maxSize: 40, studyInstanceUID: study },
      { variant: 'dx12m1', syntax: 'ele', maxSize: 40, studyInstanceUID: study },
      { ...rgbSpec, maxSize: 40, studyInstanceUID: study },
      { ...multiSpec, studyInstanceUID: study },
    ],
    join(dir, 'in'),
  )) as [Fixture, Fixture, Fixture, Fixture, Fixture];
  const sc = buildHeatmapSC({
    source: readSourceImage(readFileSync(native.path)),
    model: MODEL,
    image: await createImageDecoder().decodeFile(native.path),
    attention: attentionMap(),
  });
  heatmap = { bytes: sc.bytes, SOPInstanceUID: sc.SOPInstanceUID, SeriesInstanceUID: String(read(Buffer.from(sc.bytes)).dict['0020000E']?.Value?.[0]) };
  const dataDir = join(dir, 'data');
  mkdirSync(join(dataDir, 'results', study), { recursive: true });
  writeFileSync(join(dataDir, 'results', study, `${sc.SOPInstanceUID}.dcm`), sc.bytes);
  node = await startTestNode({ dicomweb: { enabled: true, port: 0, host: '127.0.0.1', auth: { type: 'bearer', tokens: [TOKEN] } } }, { dataDir });
  base = `http://127.0.0.1:${node.dicomwebPort}/dicomweb`;
  expect((await stow(`${base}/studies`, fileParts([native, jls, m1, rgb, multi].map((f) => f.path)), { token: TOKEN })).status).toBe(200);
  client = new dicomweb.api.DICOMwebClient({ url: base, headers: auth, singlepart: false, verbose: false });
});

afterAll(async () => {
  await stopAndCollectLogs(node);
});

describe('WADO-RS retrieve negotiation', () => {
  it('answers single-part application/dicom for one instance, 406 for a series of several', async () => {
    const one = await fetch(url(native), { headers: { ...auth, Accept: 'application/dicom' } });
    expect(one.headers.get('content-type')).toBe('application/dicom');
    const single = read(Buffer.from(await one.arrayBuffer()));
    expect(single.dict['00080018']?.Value?.[0]).toBe(native.sopInstanceUID);
    expect(pixelsOf(single).equals(pixelsOf(read(readFileSync(native.path))))).toBe(true);
    const series = await fetch(`${base}/studies/${native.studyInstanceUID}`, { headers: { ...auth, Accept: 'application/dicom' } });
    expect(series.status).toBe(406);
    expect(((await series.json()) as { error: string }).error).toMatch(/single-part application\/dicom holds one object/);
  });

  it("sends as stored for transfer-syntax=* and names each part's syntax", async () => {
    const res = await fetch(`${base}/studies/${native.studyInstanceUID}`, {
      headers: { ...auth, Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
    });
    const parts = splitMultipart(Buffer.from(await res.arrayBuffer()), res.headers.get('content-type') ?? '');
    expect(parts).toHaveLength(6); // five received, one result
    const jlsPart = parts.find((p) => read(p.bytes).dict['00080018']?.Value?.[0] === jls.sopInstanceUID);
    expect(jlsPart?.headers).toMatch(/transfer-syntax=1\.2\.840\.10008\.1\.2\.4\.80/);
    expect(syntaxOf(read(jlsPart?.bytes ?? Buffer.alloc(0)))).toBe('1.2.840.10008.1.2.4.80');
  });

  it('transcodes JPEG-LS to Explicit VR Little Endian for dicomweb-client (the same samples: lossless)', async () => {
    const got = await retrieveAs(jls, '1.2.840.10008.1.2.1');
    const ds = read(got);
    expect(syntaxOf(ds)).toBe('1.2.840.10008.1.2.1');
    expect(pixelsOf(ds).equals(pixelsOf(read(readFileSync(native.path))))).toBe(true);
    expect(ds.dict['00080018']?.Value?.[0]).toBe(jls.sopInstanceUID);
  });

  it('writes Implicit VR Little Endian and JPEG-LS Lossless copies that decode to the stored image', async () => {
    const implicit = await fetch(url(native), { headers: { ...auth, Accept: 'application/dicom; transfer-syntax=1.2.840.10008.1.2' } });
    expect(implicit.headers.get('content-type')).toBe('application/dicom; transfer-syntax=1.2.840.10008.1.2');
    const ids = read(Buffer.from(await implicit.arrayBuffer()));
    expect(syntaxOf(ids)).toBe('1.2.840.10008.1.2');
    expect(pixelsOf(ids).equals(pixelsOf(read(readFileSync(native.path))))).toBe(true);
    const got = await retrieveAs(native, '1.2.840.10008.1.2.4.80');
    expect(syntaxOf(read(got))).toBe('1.2.840.10008.1.2.4.80');
    const copy = join(dir, 'copy-jls.dcm');
    writeFileSync(copy, Buffer.from(got));
    const decoder = createImageDecoder();
    expect(Array.from((await decoder.decodeFile(copy)).pixels)).toEqual(Array.from((await decoder.decodeFile(native.path)).pixels));
  });

  it('refuses a lossy syntax the objects are not stored in (406 with the reason)', async () => {
    const res = await fetch(url(native), {
      headers: { ...auth, Accept: 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.50' },
    });
    expect(res.status).toBe(406);
    expect(((await res.json()) as { error: string }).error).toMatch(/neither how these objects are stored nor one this node writes/);
    const asStored = await fetch(url(jls), {
      headers: { ...auth, Accept: 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.80' },
    });
    expect(asStored.status).toBe(200);
  });

  it('gives frame 2 of a multi-frame JPEG-LS object decoded, and as stored for image/jls', async () => {
    const s = await storedValues();
    const expected = Buffer.from(new Uint16Array(Array.from(s, (v) => 4095 - v)).buffer);
    const [frame] = (await client.retrieveInstanceFrames({ ...uidsOf(multi), frameNumbers: '2' } as Opts<'retrieveInstanceFrames'>)) as ArrayBuffer[];
    expect(Buffer.from(frame as ArrayBuffer).equals(expected)).toBe(true);
    const frames = (await client.retrieveInstanceFrames({
      ...uidsOf(multi),
      frameNumbers: '1,3',
      mediaTypes: [{ mediaType: 'image/jls' }],
    } as unknown as Opts<'retrieveInstanceFrames'>)) as ArrayBuffer[];
    expect(frames).toHaveLength(2);
    expect(frames.every((f) => Buffer.from(f).readUInt16BE(0) === 0xffd8)).toBe(true);
  });
});

describe('WADO-RS rendered and thumbnail', () => {
  const decoder = createImageDecoder();
  const grey = async (f: Fixture): Promise<number[]> => Array.from((await decoder.decodeFile(f.path)).pixels, (v) => Math.round(v * 255));

  it("renders a MONOCHROME1 image as PNG with the analysis decoder's window and inversion", async () => {
    // Single-part answers come back from the client as a one-element array.
    const [got] = (await client.retrieveInstanceRendered({
      ...uidsOf(m1),
      mediaTypes: [{ mediaType: 'image/png' }],
    } as Opts<'retrieveInstanceRendered'>)) as unknown as ArrayBuffer[];
    const png = PNG.sync.read(Buffer.from(got as ArrayBuffer));
    const expected = await grey(m1);
    expect(png.width * png.height).toBe(expected.length);
    const ours = Array.from({ length: expected.length }, (_, i) => png.data[4 * i] as number);
    expect(ours).toEqual(expected);
    // The same image stored as MONOCHROME2 looks the same.
    expect(await grey(native)).toEqual(expected);
  });

  it('keeps colour and fits the viewport, JPEG by default', async () => {
    const [got] = (await client.retrieveInstanceRendered({
      ...uidsOf(rgb),
      mediaTypes: [{ mediaType: 'image/png' }],
    } as Opts<'retrieveInstanceRendered'>)) as unknown as ArrayBuffer[];
    const png = PNG.sync.read(Buffer.from(got as ArrayBuffer));
    const ds = read(readFileSync(rgb.path));
    const stored = pixelsOf(ds);
    expect([png.data[0], png.data[1], png.data[2]]).toEqual([stored[0], stored[1], stored[2]]);
    const res = await fetch(url(native, '/rendered?viewport=20,20'), { headers: auth });
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    const img = jpeg.decode(Buffer.from(await res.arrayBuffer()));
    expect(Math.max(img.width, img.height)).toBe(20);
  });

  it('renders a result heatmap SC in its colours, pixel for pixel', async () => {
    const res = await fetch(`${base}/studies/${native.studyInstanceUID}/series/${heatmap.SeriesInstanceUID}/instances/${heatmap.SOPInstanceUID}/rendered`, {
      headers: { ...auth, Accept: 'image/png' },
    });
    expect(res.status).toBe(200);
    const png = PNG.sync.read(Buffer.from(await res.arrayBuffer()));
    const ds = read(Buffer.from(heatmap.bytes));
    expect([png.width, png.height]).toEqual([ds.dict['00280011']?.Value?.[0], ds.dict['00280010']?.Value?.[0]]);
    const stored = pixelsOf(ds);
    const rgbOf = (data: Uint8Array, i: number, stride: number): number[] => [data[stride * i], data[stride * i + 1], data[stride * i + 2]] as number[];
    const everyHundredth = Array.from({ length: Math.floor((png.width * png.height) / 100) }, (_, k) => k * 100);
    expect(everyHundredth.map((i) => rgbOf(png.data, i, 4))).toEqual(everyHundredth.map((i) => rgbOf(stored, i, 3)));
  });

  it('answers thumbnails for an instance, a series and a study; refuses unknown parameters and media types', async () => {
    for (const path of [
      url(native, '/thumbnail'),
      `${base}/studies/${native.studyInstanceUID}/series/${native.seriesInstanceUID}/thumbnail`,
      `${base}/studies/${native.studyInstanceUID}/thumbnail`,
    ]) {
      const res = await fetch(path, { headers: { ...auth, Accept: 'image/png' } });
      expect(res.status).toBe(200);
      const png = PNG.sync.read(Buffer.from(await res.arrayBuffer()));
      expect(Math.max(png.width, png.height)).toBe(128);
    }
    expect((await fetch(url(native, '/rendered?window=100,200,linear'), { headers: auth })).status).toBe(400);
    expect((await fetch(url(native, '/rendered'), { headers: { ...auth, Accept: 'text/html' } })).status).toBe(406);
    expect((await fetch(url(native, '/rendered'))).status).toBe(401);
  });
});
