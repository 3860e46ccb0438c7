// WADO-RS Pixel Data for viewers (OHIF loads frames): metadata gives a BulkDataURI, /frames/{n} and
// the bulk data give the stored pixels; a compressed object's frames come as stored when the Accept
// allows that syntax, decoded to native samples otherwise, 406 when neither is accepted. Fetched
// with dicomweb-client as OHIF does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import dicomweb from 'dicomweb-client';
import { buildFixtures, newUid, type Fixture } from './fixtures/build.js';
import { startTestNode, stopAndCollectLogs, tempDir, type TestNode } from './helpers/node.js';
import { fileParts, stow } from './helpers/stow.js';
import { installXhr } from './helpers/xhr.js';

installXhr();

const TOKEN = 'frames-token-0123456789abcdef';
let node: TestNode;
let client: InstanceType<typeof dicomweb.api.DICOMwebClient>;
let native: Fixture;
let compressed: Fixture;
let base: string;

function storedPixels(path: string): Buffer {
  const bytes = readFileSync(path);
  const ds = dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer).dict;
  return Buffer.from(ds['7FE00010']?.Value?.[0] as ArrayBuffer);
}
const path = (f: Fixture, tail: string): string => `${base}/studies/${f.studyInstanceUID}/series/${f.seriesInstanceUID}/instances/${f.sopInstanceUID}/${tail}`;
const uidsOf = (f: Fixture) => ({ studyInstanceUID: f.studyInstanceUID, seriesInstanceUID: f.seriesInstanceUID, sopInstanceUID: f.sopInstanceUID });

beforeAll(async () => {
  const study = newUid();
  [native, compressed] = (await buildFixtures(
    [
      { variant: 'dx12', syntax: 'ele', maxSize: 40, studyInstanceUID: study },
      { variant: 'dx12', syntax: 'jpegls', maxSize: 40, studyInstanceUID: study },
    ],
    join(tempDir('precedent-frames-'), 'in'),
  )) as [Fixture, Fixture];
  node = await startTestNode({ dicomweb: { enabled: true, port: 0, host: '127.0.0.1', auth: { type: 'bearer', tokens: [TOKEN] } } });
  base = `http://127.0.0.1:${node.dicomwebPort}/dicomweb`;
  expect((await stow(`${base}/studies`, fileParts([native.path, compressed.path]), { token: TOKEN })).status).toBe(200);
  client = new dicomweb.api.DICOMwebClient({ url: base, headers: { Authorization: `Bearer ${TOKEN}` }, singlepart: false, verbose: false });
});

afterAll(async () => {
  await stopAndCollectLogs(node);
});

describe('WADO-RS Pixel Data', () => {
  it('metadata refers to Pixel Data by BulkDataURI, and the bulk data and frame 1 are the stored pixels', async () => {
    const [meta] = (await client.retrieveInstanceMetadata({ ...uidsOf(native) } as Parameters<typeof client.retrieveInstanceMetadata>[0])) as Array<
      Record<string, { vr: string; BulkDataURI?: string }>
    >;
    const pixel = meta?.['7FE00010'];
    expect(pixel?.vr).toBe('OW');
    expect(pixel?.BulkDataURI).toBe(
      `${base}/studies/${native.studyInstanceUID}/series/${native.seriesInstanceUID}/instances/${native.sopInstanceUID}/bulkdata/7FE00010`,
    );
    const expected = storedPixels(native.path);
    const [frame] = (await client.retrieveInstanceFrames({ ...uidsOf(native), frameNumbers: '1' } as Parameters<
      typeof client.retrieveInstanceFrames
    >[0])) as ArrayBuffer[];
    expect(Buffer.from(frame as ArrayBuffer).equals(expected)).toBe(true);
    const [bulk] = (await client.retrieveBulkData({ BulkDataURI: pixel?.BulkDataURI ?? '' } as Parameters<typeof client.retrieveBulkData>[0])) as ArrayBuffer[];
    expect(Buffer.from(bulk as ArrayBuffer).equals(expected)).toBe(true);
  });

  it('answers 404 for a frame the object does not have, 400 for a malformed list, 406 for a media type it cannot give', async () => {
    const auth = { Authorization: `Bearer ${TOKEN}` };
    expect((await fetch(path(native, 'frames/2'), { headers: auth })).status).toBe(404);
    expect((await fetch(path(native, 'frames/0'), { headers: auth })).status).toBe(400);
    const jpeg = await fetch(path(native, 'frames/1'), { headers: { ...auth, Accept: 'image/jpeg' } });
    expect(jpeg.status).toBe(406);
    expect(((await jpeg.json()) as { error: string }).error).toMatch(/application\/octet-stream/);
    const jp2 = await fetch(path(compressed, 'frames/1'), { headers: { ...auth, Accept: 'multipart/related; type="image/jp2"' } });
    expect(jp2.status).toBe(406);
    expect(((await jp2.json()) as { error: string }).error).toMatch(/stored in 1\.2\.840\.10008\.1\.2\.4\.80/);
  });

  it("gives a JPEG-LS object's frame as the stored codestream when image/jls is accepted", async () => {
    const [frame] = (await client.retrieveInstanceFrames({
      ...uidsOf(compressed),
      frameNumbers: '1',
      mediaTypes: [{ mediaType: 'image/jls' }],
    } as unknown as Parameters<typeof client.retrieveInstanceFrames>[0])) as ArrayBuffer[];
    expect(Buffer.from(frame as ArrayBuffer).equals(storedPixels(compressed.path))).toBe(true);
    const single = await fetch(path(compressed, 'frames/1'), {
      headers: { Authorization: `Bearer ${TOKEN}`, Accept: 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.4.80' },
    });
    expect(single.headers.get('content-type')).toBe('application/octet-stream; transfer-syntax=1.2.840.10008.1.2.4.80');
    expect(Buffer.from(await single.arrayBuffer()).equals(storedPixels(compressed.path))).toBe(true);
  });

  it('decodes a JPEG-LS frame to the native samples (lossless: the same as the uncompressed copy) for octet-stream', async () => {
    const [frame] = (await client.retrieveInstanceFrames({ ...uidsOf(compressed), frameNumbers: '1' } as Parameters<
      typeof client.retrieveInstanceFrames
    >[0])) as ArrayBuffer[];
    expect(Buffer.from(frame as ArrayBuffer).equals(storedPixels(native.path))).toBe(true);
    const either = await fetch(path(compressed, 'frames/1'), {
      headers: { Authorization: `Bearer ${TOKEN}`, Accept: 'multipart/related; type="image/jp2", multipart/related; type="application/octet-stream"' },
    });
    expect(either.headers.get('content-type')).toMatch(/^multipart\/related; type="application\/octet-stream"; transfer-syntax=1\.2\.840\.10008\.1\.2\.1;/);
  });
});
