// Access to QIDO-RS and WADO-RS: every route is behind the same bearer authentication as STOW-RS,
// and a token scoped to sources (dicomweb.auth.tokens[].sources) sees only the studies received from
// those calling AE titles, with their results: another site's study is answered as absent (404 / no
// match), by every route. Senders: STOW-RS with each site's token, storescu for a DIMSE site.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import dicomweb from 'dicomweb-client';
import { buildFixtures, newUid, type Fixture } from './fixtures/build.js';
import { startTestNode, stopAndCollectLogs, tempDir, type TestNode } from './helpers/node.js';
import { fileParts, stow } from './helpers/stow.js';
import { run } from './helpers/tools.js';
import { installXhr } from './helpers/xhr.js';

installXhr();

const ADMIN = 'scope-admin-token-0123456789';
const SITE_A = 'scope-site-a-token-0123456789';
const SITE_B = 'scope-site-b-token-0123456789';
let node: TestNode;
let a: Fixture, aResult: Fixture, b: Fixture, c: Fixture;
let base: string;

const clientFor = (token: string) =>
  new dicomweb.api.DICOMwebClient({ url: base, headers: { Authorization: `Bearer ${token}` }, singlepart: false, verbose: false });
const studies = async (token: string, query: Record<string, string> = {}): Promise<string[]> =>
  ((await clientFor(token).searchForStudies({ queryParams: query })) as Array<Record<string, { Value?: string[] }>>)
    .map((s) => s['0020000D']?.Value?.[0] ?? '')
    .sort();
const instanceUrl = (f: Fixture): string => `${base}/studies/${f.studyInstanceUID}/series/${f.seriesInstanceUID}/instances/${f.sopInstanceUID}`;
/** Every QIDO-RS and WADO-RS route, for one object. */
const routes = (f: Fixture): string[] => [
  `${base}/studies`,
  `${base}/series`,
  `${base}/instances`,
  `${base}/studies/${f.studyInstanceUID}/series`,
  `${base}/studies/${f.studyInstanceUID}/instances`,
  `${base}/studies/${f.studyInstanceUID}/series/${f.seriesInstanceUID}/instances`,
  `${base}/studies/${f.studyInstanceUID}`,
  `${base}/studies/${f.studyInstanceUID}/metadata`,
  `${base}/studies/${f.studyInstanceUID}/thumbnail`,
  `${base}/studies/${f.studyInstanceUID}/series/${f.seriesInstanceUID}`,
  `${base}/studies/${f.studyInstanceUID}/series/${f.seriesInstanceUID}/metadata`,
  `${base}/studies/${f.studyInstanceUID}/series/${f.seriesInstanceUID}/thumbnail`,
  instanceUrl(f),
  `${instanceUrl(f)}/metadata`,
  `${instanceUrl(f)}/frames/1`,
  `${instanceUrl(f)}/bulkdata/7FE00010`,
  `${instanceUrl(f)}/rendered`,
  `${instanceUrl(f)}/thumbnail`,
];
type Metadata = Parameters<ReturnType<typeof clientFor>['retrieveStudyMetadata']>[0];
const status = async (url: string, token?: string): Promise<number> =>
  (await fetch(url, token ? { headers: { Authorization: `Bearer ${token}` } } : {})).status;

beforeAll(async () => {
  const dir = tempDir('precedent-scope-');
  const [sa, sb, sc] = [newUid(), newUid(), newUid()];
  [a, aResult, b, c] = (await buildFixtures(
    [
      { variant: 'dx12', syntax: 'ele', maxSize: 32, studyInstanceUID: sa, patientID: 'PAT-A' },
      { variant: 'dx8', syntax: 'ele', maxSize: 32, studyInstanceUID: sa, patientID: 'PAT-A', modality: 'OT' },
      { variant: 'dx12', syntax: 'ele', maxSize: 32, studyInstanceUID: sb, patientID: 'PAT-B' },
      { variant: 'dx12', syntax: 'ele', maxSize: 32, studyInstanceUID: sc, patientID: 'PAT-C' },
    ],
    join(dir, 'in'),
  )) as [Fixture, Fixture, Fixture, Fixture];
  // A result of study A, written before the node starts (indexed by the start-up backfill).
  const dataDir = join(dir, 'data');
  mkdirSync(join(dataDir, 'results', sa), { recursive: true });
  copyFileSync(aResult.path, join(dataDir, 'results', sa, `${aResult.sopInstanceUID}.dcm`));
  node = await startTestNode(
    {
      dicomweb: {
        enabled: true,
        port: 0,
        host: '127.0.0.1',
        auth: {
          type: 'bearer',
          tokens: [ADMIN, { token: SITE_A, aeTitle: 'SITEA', sources: ['SITEA'] }, { token: SITE_B, aeTitle: 'SITEB', sources: ['SITEB', 'MODALITYC'] }],
        },
      },
    },
    { dataDir },
  );
  base = `http://127.0.0.1:${node.dicomwebPort}/dicomweb`;
  expect((await stow(`${base}/studies`, fileParts([a.path]), { token: SITE_A })).status).toBe(200);
  expect((await stow(`${base}/studies`, fileParts([b.path]), { token: SITE_B })).status).toBe(200);
  const sent = await run('storescu', ['-aet', 'MODALITYC', '-aec', 'PRECEDENT', '-xe', '127.0.0.1', String(node.port), c.path]);
  expect(sent.code).toBe(0);
});

afterAll(async () => {
  await stopAndCollectLogs(node);
});

describe('DICOMweb access', () => {
  it('refuses every QIDO-RS and WADO-RS route without a valid token (401 with a Bearer challenge)', async () => {
    for (const url of routes(a)) {
      const res = await fetch(url);
      expect({ url, status: res.status, challenge: res.headers.get('www-authenticate') }).toEqual({
        url,
        status: 401,
        challenge: expect.stringMatching(/^Bearer/) as unknown,
      });
      expect({ url, status: await status(url, 'not-a-token-of-this-node-000') }).toEqual({ url, status: 401 });
    }
  });

  it('an unscoped token sees every study; a scoped one only those its sources sent, with their results', async () => {
    expect(await studies(ADMIN)).toEqual([a, b, c].map((f) => f.studyInstanceUID).sort());
    expect(await studies(SITE_A)).toEqual([a.studyInstanceUID]);
    expect(await studies(SITE_B)).toEqual([b.studyInstanceUID, c.studyInstanceUID].sort());
    const instances = (await clientFor(SITE_A).searchForInstances({})) as Array<Record<string, { Value?: string[] }>>;
    expect(instances.map((i) => i['00080018']?.Value?.[0]).sort()).toEqual([a.sopInstanceUID, aResult.sopInstanceUID].sort());
  });

  it("a scoped token searching for another site's patient finds nothing", async () => {
    expect(await studies(SITE_A, { PatientID: 'PAT-B' })).toEqual([]);
    expect(await studies(SITE_A, { '00100020': 'PAT-C' })).toEqual([]);
    expect(await studies(SITE_B, { PatientID: 'PAT-B' })).toEqual([b.studyInstanceUID]);
  });

  it("every WADO-RS route answers another site's objects as absent (404), its own as found", async () => {
    for (const url of routes(b).slice(6)) {
      expect({ url, scopedElsewhere: await status(url, SITE_A), own: await status(url, SITE_B) }).toEqual({ url, scopedElsewhere: 404, own: 200 });
    }
    await expect(clientFor(SITE_A).retrieveStudyMetadata({ studyInstanceUID: b.studyInstanceUID } as Metadata)).rejects.toThrow();
    const own = (await clientFor(SITE_A).retrieveStudyMetadata({ studyInstanceUID: a.studyInstanceUID } as Metadata)) as unknown[];
    expect(own).toHaveLength(2);
  });
});
