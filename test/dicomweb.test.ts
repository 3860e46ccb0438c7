// STOW-RS with a real HTTP client against a listening node: 100 instances in one request, malformed
// parts, wrong media types, tokens, study UID checks, size and disk limits, STOW racing C-STORE, and
// QIDO-RS / WADO-RS of result objects (test/qido.test.ts covers QIDO-RS matching).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFixtures, newUid, type Fixture, type FixtureSpec } from './fixtures/build.js';
import { startTestNode, tempDir, type TestNode, stopAndCollectLogs } from './helpers/node.js';
import { run } from './helpers/tools.js';
import { datasetContent } from './helpers/files.js';
import { fileParts, items, multipartBody, sample, splitMultipart, stow, value } from './helpers/stow.js';
import { parseMediaType, readMultipart } from '../src/dicomweb/multipart.js';

const TOKEN = 'test-token-0123456789abcdef';
const PHI = { patientName: 'SECRETNAME^NOTINLOGS', patientID: 'PHI-ID-24680' };
const bearer = { auth: { type: 'bearer' as const, tokens: [TOKEN, { token: 'pacs-token-0123456789abcdef', aeTitle: 'PACS_WEB' }] } };

let dir: string;
let study100: Fixture[];
let node: TestNode | undefined;

const base = (n: TestNode): string => `http://127.0.0.1:${n.dicomwebPort}/dicomweb`;
const start = (overrides: Parameters<typeof startTestNode>[0] = {}): Promise<TestNode> =>
  startTestNode({ ...overrides, dicomweb: { enabled: true, port: 0, host: '127.0.0.1', ...bearer, ...overrides.dicomweb } });

function specs(n: number, study: string, offset = 0): FixtureSpec[] {
  const series = newUid();
  return Array.from(
    { length: n },
    (_, i) =>
      ({
        variant: 'dx8',
        syntax: 'ele',
        imageIndex: (offset + i) % 40,
        maxSize: 48,
        studyInstanceUID: study,
        seriesInstanceUID: series,
        ...PHI,
      }) as FixtureSpec,
  );
}

beforeAll(async () => {
  dir = tempDir('precedent-stow-');
  study100 = await buildFixtures(specs(100, newUid()), join(dir, 'hundred'));
});

afterEach(async () => {
  if (node) {
    const logs = await stopAndCollectLogs(node);
    node = undefined;
    // No test may ever see patient identity in the logs.
    for (const identity of ['SECRETNAME', PHI.patientID]) expect(logs).not.toContain(identity);
  }
});

describe('STOW-RS', () => {
  it('stores 100 instances sent in one request through ingest, each once, and answers 200 with every reference', async () => {
    node = await start();
    const n = node;
    const answer = await stow(`${base(n)}/studies`, fileParts(study100.map((f) => f.path)), { token: TOKEN });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/dicom\+json/);
    const study = study100[0]?.studyInstanceUID ?? '';
    expect(value(answer.json, '00081190')).toBe(`${base(n)}/studies/${study}`);
    expect(answer.json['00081198']).toBeUndefined();
    const refs = items(answer.json, '00081199');
    expect(refs).toHaveLength(100);
    expect(new Set(refs.map((r) => value(r, '00081155')))).toEqual(new Set(study100.map((f) => f.sopInstanceUID)));
    for (const r of refs) {
      expect(value(r, '00081150')).toBe('1.2.840.10008.5.1.4.1.1.1.1');
      expect(String(value(r, '00081190'))).toMatch(
        new RegExp(`^${base(n)}/studies/${study}/series/[0-9.]+/instances/${String(value(r, '00081155')).replace(/\./g, '\\.')}$`),
      );
    }
    for (const f of study100) {
      const versions = n.node.catalog.instanceVersions(f.sopInstanceUID);
      expect(versions).toHaveLength(1);
      expect(versions[0]?.callingAETitle).toBe('STOW');
      expect(datasetContent(join(n.dataDir, versions[0]?.path ?? ''))).toBe(datasetContent(f.path));
    }
    expect(n.node.catalog.study(study)?.instanceCount).toBe(100);

    // Sent again: acknowledged as duplicates, nothing stored twice.
    const again = await stow(`${base(n)}/studies/${study}`, fileParts(study100.slice(0, 10).map((f) => f.path)), { token: TOKEN });
    expect(again.status).toBe(200);
    expect(items(again.json, '00081199')).toHaveLength(10);
    expect(n.node.catalog.instanceVersions(study100[0]?.sopInstanceUID ?? '')).toHaveLength(1);
    expect(n.logs.filter((l) => l.includes('"msg":"STOW-RS request"'))).toHaveLength(2);
  });

  it('lists a garbage part in the Failed SOP Sequence with 0xC000 and answers 202', async () => {
    node = await start();
    const good = study100.slice(0, 2);
    const parts = [...fileParts(good.map((f) => f.path)), { bytes: Buffer.from('this is not DICOM at all '.repeat(20)) }];
    const answer = await stow(`${base(node)}/studies`, parts, { token: TOKEN });
    expect(answer.status).toBe(202);
    expect(items(answer.json, '00081199')).toHaveLength(2);
    const failed = items(answer.json, '00081198');
    expect(failed).toHaveLength(1);
    expect(value(failed[0] ?? {}, '00081197')).toBe(0xc000);
    // A part with DICM but a data set cut inside Pixel Data: also 0xC000, with its UIDs.
    const whole = readFileSync(study100[5]?.path ?? '');
    const broken = whole.subarray(0, whole.length - 100);
    const second = await stow(`${base(node)}/studies`, [{ bytes: broken }], { token: TOKEN });
    expect(second.status).toBe(409);
    const f2 = items(second.json, '00081198');
    expect(value(f2[0] ?? {}, '00081197')).toBe(0xc000);
    expect(value(f2[0] ?? {}, '00081155')).toBe(study100[5]?.sopInstanceUID);
    expect(node.node.catalog.instanceVersions(study100[5]?.sopInstanceUID ?? '')).toHaveLength(0);
  });

  it('answers 415 to a body that is not multipart/related of application/dicom', async () => {
    node = await start();
    const url = `${base(node)}/studies`;
    const json = await fetch(url, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(415);
    const wrongType = await stow(url, fileParts([study100[0]?.path ?? '']), {
      token: TOKEN,
      contentType: 'multipart/related; type="application/dicom+json"; boundary=x',
    });
    expect(wrongType.status).toBe(415);
    const noBoundary = await stow(url, fileParts([study100[0]?.path ?? '']), { token: TOKEN, contentType: 'multipart/related; type="application/dicom"' });
    expect(noBoundary.status).toBe(415);
    expect(node.node.catalog.instanceCount()).toBe(0);
  });

  it('answers 401 without a token or with a wrong one, and records the AE title a token names', async () => {
    node = await start();
    const url = `${base(node)}/studies`;
    const parts = fileParts([study100[0]?.path ?? '']);
    const none = await stow(url, parts);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrong = await stow(url, parts, { token: 'not-the-token-0123456789' });
    expect(wrong.status).toBe(401);
    expect(node.node.catalog.instanceCount()).toBe(0);
    const qido = await fetch(`${url}/${study100[0]?.studyInstanceUID ?? ''}/series`);
    expect(qido.status).toBe(401);
    const ok = await stow(url, parts, { token: 'pacs-token-0123456789abcdef' });
    expect(ok.status).toBe(200);
    expect(node.node.catalog.instanceVersions(study100[0]?.sopInstanceUID ?? '')[0]?.callingAETitle).toBe('PACS_WEB');
  });

  it('refuses instances of another study than the URL names (0xA901), storing none of them', async () => {
    node = await start();
    const other = await buildFixtures(specs(1, newUid(), 50), join(dir, 'other'));
    const study = study100[0]?.studyInstanceUID ?? '';
    const mixed = await stow(`${base(node)}/studies/${study}`, fileParts([study100[0]?.path ?? '', other[0]?.path ?? '']), { token: TOKEN });
    expect(mixed.status).toBe(202);
    const failed = items(mixed.json, '00081198');
    expect(failed).toHaveLength(1);
    expect(value(failed[0] ?? {}, '00081155')).toBe(other[0]?.sopInstanceUID);
    expect(value(failed[0] ?? {}, '00081197')).toBe(0xa901);
    expect(node.node.catalog.instanceVersions(other[0]?.sopInstanceUID ?? '')).toHaveLength(0);
    const only = await stow(`${base(node)}/studies/${study}`, fileParts([other[0]?.path ?? '']), { token: TOKEN });
    expect(only.status).toBe(409);
    expect(node.node.catalog.study(other[0]?.studyInstanceUID ?? '')).toBeUndefined();
  });

  it('answers 413 above dicomweb.maxRequestBytes and 507 below the free-disk watermark', async () => {
    const parts = fileParts(study100.slice(0, 20).map((f) => f.path));
    const total = parts.reduce((n, p) => n + p.bytes.length, 0);
    node = await start({ dicomweb: { maxRequestBytes: Math.floor(total / 2) } });
    const big = await stow(`${base(node)}/studies`, parts, { token: TOKEN });
    expect(big.status).toBe(413);
    expect(node.node.catalog.instanceCount()).toBe(0);
    await node.stop();
    node = await start({ storage: { minFreeBytes: Number.MAX_SAFE_INTEGER } });
    const full = await stow(`${base(node)}/studies`, fileParts([study100[0]?.path ?? '']), { token: TOKEN });
    expect(full.status).toBe(507);
    expect(node.node.catalog.instanceCount()).toBe(0);
  });

  it('stores a study sent at the same time by STOW-RS and by storescu once, as one study', async () => {
    node = await start({ studies: { completeAfterSeconds: 60 } });
    const study = newUid();
    const built = await buildFixtures(specs(30, study, 60), join(dir, 'race'));
    // dcmtk re-encodes undefined-length sequences with explicit lengths when it sends; files already
    // in dcmtk's encoding make both senders offer the very same data set bytes.
    const fixtures = await Promise.all(
      built.map(async (f) => {
        const path = `${f.path}.dcmtk.dcm`;
        expect((await run('dcmconv', ['+te', f.path, path])).code).toBe(0);
        return { ...f, path };
      }),
    );
    const [answer, cstore] = await Promise.all([
      stow(`${base(node)}/studies/${study}`, fileParts(fixtures.map((f) => f.path)), { token: TOKEN }),
      run('storescu', ['-aet', 'RACESCU', '-aec', 'PRECEDENT', '-xe', '127.0.0.1', String(node.port), ...fixtures.map((f) => f.path)]),
    ]);
    expect(answer.status).toBe(200);
    expect(cstore.code).toBe(0);
    for (const f of fixtures) expect(node.node.catalog.instanceVersions(f.sopInstanceUID)).toHaveLength(1);
    const record = node.node.catalog.study(study);
    expect(record?.instanceCount).toBe(30);
    const n = node;
    const rows = (['receiving', 'queued', 'decoding', 'embedded', 'done', 'failed'] as const).flatMap((state) => n.node.catalog.studiesInState(state));
    expect(rows.filter((s) => s.StudyInstanceUID === study)).toHaveLength(1);
    expect(record?.state).toBe('receiving');
    expect(record?.generation).toBe(1);
    // Every object was offered twice: once stored, once acknowledged as a duplicate.
    const metrics = await (await fetch(`http://127.0.0.1:${node.opsPort}/metrics`)).text();
    const count = (ae: string, outcome: string): number => sample(metrics, 'precedent_objects_received_total', { calling_ae: ae, outcome }) ?? 0;
    expect(count('STOW', 'stored') + count('RACESCU', 'stored')).toBe(30);
    expect(count('STOW', 'duplicate') + count('RACESCU', 'duplicate')).toBe(30);
  });
});

describe('QIDO-RS and WADO-RS of result objects', () => {
  it('finds and retrieves result files a node wrote before the object index existed (start-up backfill)', async () => {
    const [result] = study100;
    const study = result?.studyInstanceUID ?? '';
    const dataDir = tempDir('precedent-results-');
    mkdirSync(join(dataDir, 'results', study), { recursive: true });
    const target = join(dataDir, 'results', study, `${result?.sopInstanceUID ?? ''}.dcm`);
    copyFileSync(result?.path ?? '', target);
    node = await startTestNode({ dicomweb: { enabled: true, port: 0, host: '127.0.0.1', ...bearer } }, { dataDir });
    const auth = { Authorization: `Bearer ${TOKEN}` };

    const series = await fetch(`${base(node)}/studies/${study}/series`, { headers: auth });
    expect(series.status).toBe(200);
    const seriesJson = (await series.json()) as Array<Record<string, { Value?: unknown[] }>>;
    expect(seriesJson).toHaveLength(1);
    expect(seriesJson[0]?.['0020000E']?.Value?.[0]).toBe(result?.seriesInstanceUID);
    expect(seriesJson[0]?.['00201209']?.Value?.[0]).toBe(1);

    const instances = await fetch(`${base(node)}/studies/${study}/instances`, { headers: auth });
    const instancesJson = (await instances.json()) as Array<Record<string, { Value?: unknown[] }>>;
    expect(instancesJson.map((i) => i['00080018']?.Value?.[0])).toEqual([result?.sopInstanceUID]);
    const retrieveUrl = String(instancesJson[0]?.['00081190']?.Value?.[0]);
    expect(retrieveUrl).toBe(`${base(node)}/studies/${study}/series/${result?.seriesInstanceUID ?? ''}/instances/${result?.sopInstanceUID ?? ''}`);

    const wado = await fetch(retrieveUrl, { headers: { ...auth, Accept: 'multipart/related; type="application/dicom"' } });
    expect(wado.status).toBe(200);
    const contentType = wado.headers.get('content-type') ?? '';
    expect(contentType).toMatch(/^multipart\/related; type="application\/dicom"; boundary=/);
    const parts = splitMultipart(Buffer.from(await wado.arrayBuffer()), contentType);
    expect(parts).toHaveLength(1);
    expect(parts[0]?.bytes.equals(readFileSync(target))).toBe(true);

    const metadata = await fetch(`${retrieveUrl}/metadata`, { headers: auth });
    const metadataJson = (await metadata.json()) as Array<Record<string, { Value?: unknown[] }>>;
    expect(metadataJson[0]?.['00080018']?.Value?.[0]).toBe(result?.sopInstanceUID);
    // Pixel Data by reference only, never inline.
    expect(metadataJson[0]?.['7FE00010']).toEqual({ vr: 'OB', BulkDataURI: `${retrieveUrl}/bulkdata/7FE00010` });

    expect((await fetch(`${base(node)}/studies/${newUid()}/series/1.2/instances/1.2.3`, { headers: auth })).status).toBe(404);
    expect((await fetch(retrieveUrl, { headers: { ...auth, Accept: 'application/json' } })).status).toBe(406);
    const studies = (await (await fetch(`${base(node)}/studies?StudyInstanceUID=${study}`, { headers: auth })).json()) as unknown[];
    expect(studies).toHaveLength(1);
  });
});

describe('multipart/related reader', () => {
  const parts = [Buffer.from('first\r\n--xy is not the delimiter, nor is --xyz'), Buffer.alloc(5000, 7), Buffer.alloc(0), Buffer.from('last')];
  const { body } = multipartBody(
    parts.map((bytes) => ({ bytes })),
    'xyz',
  );
  async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }
  async function readAll(source: AsyncIterable<Buffer>, maxBytes = 1e6): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for await (const part of readMultipart(source, 'xyz', { maxBytes })) {
      const chunks: Buffer[] = [];
      for await (const c of part.body) chunks.push(c);
      out.push(Buffer.concat(chunks));
    }
    return out;
  }

  it('reads the same parts whatever the chunking', async () => {
    for (const size of [1, 2, 3, 7, 64, 1000, body.length]) {
      expect(await readAll(chunked(body, size))).toEqual(parts);
    }
  });

  it('throws on bodies that are too large, truncated or without a delimiter', async () => {
    await expect(readAll(chunked(body, 100), 1000)).rejects.toThrow(/exceeds 1000 bytes/);
    await expect(readAll(chunked(body.subarray(0, body.length - 12), 50))).rejects.toThrow(/ended inside a part/);
    await expect(readAll(chunked(Buffer.from('no parts here'), 4))).rejects.toThrow(/no part delimiter/);
    expect(parseMediaType('Multipart/Related; TYPE="application/dicom"; boundary="a;b"')).toEqual({
      type: 'multipart/related',
      params: { type: 'application/dicom', boundary: 'a;b' },
    });
  });
});
