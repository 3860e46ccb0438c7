// QIDO-RS over every stored object, asked by the DICOMweb community's client (dicomweb-client, over
// test/helpers/xhr.ts) as OHIF asks: the patient mix-up of issue 13 (a patient-filtered search
// returned another patient's study) must never come back. Two patients, three received studies
// (STOW-RS) and one result object (found by the start-up backfill of <dataDir>/results).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import dicomweb from 'dicomweb-client';
import { buildFixtures, newUid, type Fixture, type FixtureSpec } from './fixtures/build.js';
import { startTestNode, stopAndCollectLogs, tempDir, type TestNode } from './helpers/node.js';
import { fileParts, stow } from './helpers/stow.js';
import { installXhr } from './helpers/xhr.js';

installXhr();

const TOKEN = 'qido-token-0123456789abcdef';
type Item = Record<string, { vr: string; Value?: unknown[] }>;
const A = { patientID: 'PAT-A-13579', patientName: 'DOE^JANE' };
const B = { patientID: 'PAT-B-24680', patientName: 'ROE^RICHARD' };
const uids = { a1: newUid(), a2: newUid(), b1: newUid(), a1series: newUid() };

let node: TestNode;
let client: InstanceType<typeof dicomweb.api.DICOMwebClient>;
let received: Fixture[];
let result: Fixture;
let base: string;

const first = (item: Item | undefined, tag: string): unknown => item?.[tag]?.Value?.[0];
const studyUids = (items: unknown): string[] => (items as Item[]).map((i) => String(first(i, '0020000D'))).sort();
const studies = async (queryParams: Record<string, unknown>): Promise<Item[]> => (await client.searchForStudies({ queryParams })) as Item[];
const get = (path: string, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${TOKEN}`, ...headers } });

beforeAll(async () => {
  const dir = tempDir('precedent-qido-');
  const spec = (over: Partial<FixtureSpec>): FixtureSpec => ({ variant: 'dx8', syntax: 'ele', maxSize: 32, ...over });
  // Two images of patient A's study A1, in one series.
  const a1 = { ...A, studyInstanceUID: uids.a1, seriesInstanceUID: uids.a1series, studyDate: '20240301', studyTime: '093000', accessionNumber: 'ACC-A1' };
  received = await buildFixtures(
    [
      spec({ ...a1, extraAttributes: { ReferringPhysicianName: [{ Alphabetic: 'HOUSE^GREGORY' }] } }),
      spec({ ...a1, extraAttributes: { InstanceNumber: '2' } }),
      spec({ ...A, variant: 'cr12m1', studyInstanceUID: uids.a2, studyDate: '20230115', studyTime: '141500', accessionNumber: 'ACC-A2' }),
      spec({ ...B, studyInstanceUID: uids.b1, studyDate: '20240301', studyTime: '100000', accessionNumber: 'ACC-B1' }),
    ],
    join(dir, 'received'),
  );
  // A result object of patient B's study, as the node writes them, present before the node starts.
  [result] = (await buildFixtures(
    [spec({ ...B, studyInstanceUID: uids.b1, modality: 'OT', studyDate: '20240301', studyTime: '100000', accessionNumber: 'ACC-B1' })],
    join(dir, 'result'),
  )) as [Fixture];
  const dataDir = tempDir('precedent-qido-data-');
  mkdirSync(join(dataDir, 'results', uids.b1), { recursive: true });
  copyFileSync(result.path, join(dataDir, 'results', uids.b1, `${result.sopInstanceUID}.dcm`));

  node = await startTestNode({ dicomweb: { enabled: true, port: 0, host: '127.0.0.1', auth: { type: 'bearer', tokens: [TOKEN] } } }, { dataDir });
  base = `http://127.0.0.1:${node.dicomwebPort}/dicomweb`;
  const stored = await stow(`${base}/studies`, fileParts(received.map((f) => f.path)), { token: TOKEN });
  expect(stored.status).toBe(200);
  // singlepart is required by the package's typings; false is its default. verbose off: no console noise.
  client = new dicomweb.api.DICOMwebClient({ url: base, headers: { Authorization: `Bearer ${TOKEN}` }, singlepart: false, verbose: false });
});

afterAll(async () => {
  const logs = await stopAndCollectLogs(node);
  for (const identity of [A.patientID, B.patientID, 'DOE^JANE', 'ROE^RICHARD', 'HOUSE']) expect(logs).not.toContain(identity);
});

describe('QIDO-RS: a patient-filtered search never returns another patient', () => {
  it('PatientID by keyword and by tag (as OHIF asks) gives only that patient’s studies; an unknown patient gives none', async () => {
    const byKeyword = await studies({ PatientID: B.patientID });
    expect(studyUids(byKeyword)).toEqual([uids.b1]);
    expect(first(byKeyword[0], '00100020')).toBe(B.patientID);
    // The result object is part of the study: its modality and count are the study's.
    expect(byKeyword[0]?.['00080061']?.Value).toEqual(['DX', 'OT']);
    expect(first(byKeyword[0], '00201208')).toBe(2);

    const byTag = await studies({ '00100020': A.patientID });
    expect(studyUids(byTag)).toEqual([uids.a1, uids.a2].sort());
    for (const s of byTag) expect(first(s, '00100020')).toBe(A.patientID);
    expect(await studies({ '00100020': 'NO-SUCH-PATIENT' })).toEqual([]);
    expect(await studies({ PatientID: 'NO-SUCH-PATIENT' })).toEqual([]);
  });

  it('StudyDate and StudyTime ranges, open or closed, match only the studies inside them', async () => {
    expect(await studies({ StudyDate: '19000101-19000102' })).toEqual([]);
    expect(studyUids(await studies({ StudyDate: '20240301' }))).toEqual([uids.a1, uids.b1].sort());
    expect(studyUids(await studies({ StudyDate: '20230101-20231231' }))).toEqual([uids.a2]);
    expect(studyUids(await studies({ StudyDate: '-20231231' }))).toEqual([uids.a2]);
    expect(studyUids(await studies({ StudyDate: '20240101-' }))).toEqual([uids.a1, uids.b1].sort());
    expect(studyUids(await studies({ StudyDate: '20240301', StudyTime: '0900-0959' }))).toEqual([uids.a1]);
    expect(studyUids(await studies({ StudyTime: '10' }))).toEqual([uids.b1]);
    expect(studyUids(await studies({ PatientID: B.patientID, StudyDate: '20230101-20231231' }))).toEqual([]);
  });

  it('ModalitiesInStudy matches any object of the study, results included', async () => {
    expect(await studies({ ModalitiesInStudy: 'CT' })).toEqual([]);
    expect(studyUids(await studies({ ModalitiesInStudy: 'CR' }))).toEqual([uids.a2]);
    expect(studyUids(await studies({ ModalitiesInStudy: 'OT' }))).toEqual([uids.b1]);
    expect(studyUids(await studies({ '00080061': 'CT,CR' }))).toEqual([uids.a2]);
    expect(studyUids(await studies({ PatientID: A.patientID, ModalitiesInStudy: 'DX' }))).toEqual([uids.a1]);
  });

  it('PatientName with wildcards, case-insensitive, literal otherwise; other keys exact', async () => {
    expect(studyUids(await studies({ PatientName: 'doe*' }))).toEqual([uids.a1, uids.a2].sort());
    expect(studyUids(await studies({ PatientName: 'D?E^JANE' }))).toEqual([uids.a1, uids.a2].sort());
    expect(studyUids(await studies({ PatientName: '*rich*' }))).toEqual([uids.b1]);
    expect(await studies({ PatientName: 'ROE' })).toEqual([]);
    expect(studyUids(await studies({ AccessionNumber: 'ACC-A2' }))).toEqual([uids.a2]);
    expect(await studies({ AccessionNumber: 'acc-a2' })).toEqual([]);
    expect(studyUids(await studies({ ReferringPhysicianName: 'house^*' }))).toEqual([uids.a1]);
    expect(studyUids(await studies({ StudyInstanceUID: [uids.a2, uids.b1] }))).toEqual([uids.a2, uids.b1].sort());
    const repeated = await get(`/studies?StudyInstanceUID=${uids.a1}&StudyInstanceUID=${uids.b1}`);
    expect(studyUids(await repeated.json())).toEqual([uids.a1, uids.b1].sort());
  });
});

describe('QIDO-RS series and instance searches', () => {
  it('study-specific and root series searches, with study attributes at the root', async () => {
    const series = (await client.searchForSeries({ studyInstanceUID: uids.b1 })) as Item[];
    expect(series.map((s) => first(s, '00080060')).sort()).toEqual(['DX', 'OT']);
    expect(series.every((s) => first(s, '00201209') === 1)).toBe(true);
    const root = (await client.searchForSeries({ queryParams: { Modality: 'OT' } })) as Item[];
    expect(root.map((s) => first(s, '0020000E'))).toEqual([result.seriesInstanceUID]);
    expect(first(root[0], '00100020')).toBe(B.patientID);
    expect(await client.searchForSeries({ queryParams: { PatientID: A.patientID, Modality: 'OT' } })).toEqual([]);
    const a1 = (await client.searchForSeries({ studyInstanceUID: uids.a1 })) as Item[];
    expect(first(a1[0], '00201209')).toBe(2);
    expect(String(first(a1[0], '00081190'))).toBe(`${base}/studies/${uids.a1}/series/${uids.a1series}`);
  });

  it('instance searches match on SOP Instance/Class UID and Instance Number, never across patients', async () => {
    const ofA = (await client.searchForInstances({ queryParams: { PatientID: A.patientID } })) as Item[];
    expect(ofA).toHaveLength(3);
    expect(ofA.every((i) => first(i, '00100020') === A.patientID)).toBe(true);
    const second = (await client.searchForInstances({
      studyInstanceUID: uids.a1,
      seriesInstanceUID: uids.a1series,
      queryParams: { InstanceNumber: '2' },
    })) as Item[];
    expect(second.map((i) => first(i, '00080018'))).toEqual([received[1]?.sopInstanceUID]);
    const bySop = (await client.searchForInstances({ studyInstanceUID: uids.b1, queryParams: { SOPInstanceUID: result.sopInstanceUID } })) as Item[];
    expect(bySop.map((i) => first(i, '0020000E'))).toEqual([result.seriesInstanceUID]);
    const byClass = (await client.searchForInstances({ queryParams: { SOPClassUID: received[2]?.sopClassUID ?? '' } })) as Item[];
    expect(byClass.map((i) => first(i, '00080018'))).toEqual([received[2]?.sopInstanceUID]);
    // The RetrieveURL of a received instance leads to it (WADO-RS serves every stored object).
    const url = String(first(second[0], '00081190'));
    const metadata = (await (await get(url.slice(base.length) + '/metadata')).json()) as Item[];
    expect(first(metadata[0], '00080018')).toBe(received[1]?.sopInstanceUID);
  });

  it('empty attributes keep their VR and omit Value (PS3.18 F.2.5)', async () => {
    const [item] = await studies({ AccessionNumber: 'ACC-A2', includefield: 'PatientBirthDate' });
    expect(item?.['00100030']).toEqual({ vr: 'DA' });
    expect(item?.['00080090']).toEqual({ vr: 'PN' });
    const [meta] = (await (await get(`/studies/${uids.a2}/metadata`)).json()) as Item[];
    expect(meta?.['00100030']).toEqual({ vr: 'DA' });
  });
});

describe('QIDO-RS parameters: nothing is ignored', () => {
  it.each([
    ['PerformedProcedureStepStartDate=20240301', /not supported/],
    ['NoSuchKeyword=1', /not a query parameter/],
    ['StudyDate=2024-03-01', /StudyDate: .* is not a date/],
    ['StudyDate=20240230', /not a date/],
    ['StudyTime=25', /not a time/],
    ['Modality=DX', /series-level attribute/],
    ['ModalitiesInStudy=ct', /not a code string/],
    [`PatientID=${A.patientID}&00100020=${B.patientID}`, /more than once/],
    ['PatientID=X&PatientID=Y', /more than once/],
    ['StudyInstanceUID=1.2.abc', /not a UID/],
    ['limit=0', /limit/],
    ['offset=-1', /offset/],
    ['fuzzymatching=maybe', /fuzzymatching/],
    ['includefield=NotAnAttribute', /includefield/],
  ])('/studies?%s is 400 with the reason', async (query, reason) => {
    const res = await get(`/studies?${query}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(reason);
  });

  it('a 400 reaches dicomweb-client as a failed request', async () => {
    await expect(client.searchForStudies({ queryParams: { Modality: 'DX' } })).rejects.toMatchObject({ status: 400 });
    await expect(client.searchForInstances({ queryParams: { InstanceNumber: 'one' } })).rejects.toMatchObject({ status: 400 });
  });

  it('fuzzymatching=true is answered literally with the PS3.18 warning', async () => {
    const res = await get(`/studies?PatientName=doe*&fuzzymatching=true`);
    expect(res.status).toBe(200);
    expect(res.headers.get('warning')).toMatch(/^299 .*: The fuzzymatching parameter is not supported\. Only literal matching has been performed\.$/);
    expect(studyUids(await res.json())).toEqual([uids.a1, uids.a2].sort());
    expect((await get('/studies?fuzzymatching=false')).headers.get('warning')).toBeNull();
  });

  it('limit and offset page through results, with a Warning while more remain', async () => {
    const page1 = await get('/studies?limit=2');
    expect(page1.headers.get('warning')).toMatch(/Additional results can be requested/);
    const page2 = await get('/studies?limit=2&offset=2');
    expect(page2.headers.get('warning')).toBeNull();
    const all = [...((await page1.json()) as Item[]), ...((await page2.json()) as Item[])];
    expect(studyUids(all)).toEqual([uids.a1, uids.a2, uids.b1].sort());
  });

  it('includefield adds attributes, reports what it cannot give, and all gives every indexed one', async () => {
    const [plain] = (await (await get(`/studies/${uids.a1}/series`)).json()) as Item[];
    expect(plain?.['00100020']).toBeUndefined();
    const res = await get(`/studies/${uids.a1}/series?includefield=00100020,BodyPartExamined`);
    const [withPatient] = (await res.json()) as Item[];
    expect(first(withPatient, '00100020')).toBe(A.patientID);
    expect(res.headers.get('warning')).toMatch(/includefield attributes not available in this search: 00180015/);
    const [all] = (await (await get(`/studies/${uids.a1}/instances?includefield=all`)).json()) as Item[];
    expect(first(all, '00280010')).toBeGreaterThan(0);
    expect(first(all, '00100010')).toEqual({ Alphabetic: 'DOE^JANE' });
  });

  it('406 when Accept allows no JSON; RetrieveURL ignores the Host header', async () => {
    expect((await get('/studies', { Accept: 'application/dicom+xml' })).status).toBe(406);
    const { request } = await import('node:http');
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(`${base}/studies?AccessionNumber=ACC-B1`, { headers: { Host: 'evil.example.com', Authorization: `Bearer ${TOKEN}` } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end();
    });
    const [item] = JSON.parse(body) as Item[];
    expect(String(first(item, '00081190'))).toBe(`${base}/studies/${uids.b1}`);
  });
});
