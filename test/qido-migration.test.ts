// The object index behind QIDO-RS on catalogs made before it existed (start-up backfill from the
// files), on a corrected patient identity (a new version replaces the old one in searches), and with
// dicomweb.publicUrl in RetrieveURLs.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { buildFixtures, newUid, type FixtureSpec } from './fixtures/build.js';
import { startTestNode, stopAndCollectLogs, tempDir, type TestNode } from './helpers/node.js';
import { fileParts, stow } from './helpers/stow.js';

const TOKEN = 'qido-migration-token-0123456789';
type Item = Record<string, { vr: string; Value?: unknown[] }>;
let node: TestNode | undefined;

const start = (dataDir: string, publicUrl?: string): Promise<TestNode> =>
  startTestNode(
    { dicomweb: { enabled: true, port: 0, host: '127.0.0.1', auth: { type: 'bearer', tokens: [TOKEN] }, ...(publicUrl ? { publicUrl } : {}) } },
    { dataDir },
  );
const search = async (n: TestNode, path: string): Promise<Item[]> => {
  const res = await fetch(`http://127.0.0.1:${n.dicomwebPort}/dicomweb${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as Item[];
};
const store = async (n: TestNode, paths: string[]): Promise<void> => {
  expect((await stow(`http://127.0.0.1:${n.dicomwebPort}/dicomweb/studies`, fileParts(paths), { token: TOKEN })).status).toBe(200);
};

afterEach(async () => {
  if (node) await stopAndCollectLogs(node);
  node = undefined;
});

describe('object index migration and updates', () => {
  it('a catalog without the object index is backfilled from the stored files at start', async () => {
    const study = newUid();
    const spec: FixtureSpec = { variant: 'dx8', syntax: 'ele', maxSize: 32, studyInstanceUID: study, patientID: 'PAT-MIGRATE-1' };
    const fixtures = await buildFixtures([spec, spec], tempDir('precedent-qido-mig-'));
    const dataDir = tempDir('precedent-qido-mig-data-');
    node = await start(dataDir);
    await store(
      node,
      fixtures.map((f) => f.path),
    );
    await node.stop();
    node = undefined;
    // As a catalog from before the object index (and before user_version): no table, no migration record.
    const db = new Database(join(dataDir, 'catalog.sqlite'));
    db.exec('DROP TABLE dicom_objects; DROP TABLE migrations; PRAGMA user_version = 0;');
    db.close();

    node = await start(dataDir, 'https://pacs.example.org/precedent/dicomweb/');
    const [found, ...others] = await search(node, '/studies?PatientID=PAT-MIGRATE-1');
    expect(others).toEqual([]);
    expect(found?.['0020000D']?.Value).toEqual([study]);
    expect(found?.['00201208']?.Value).toEqual([2]);
    expect(found?.['00081190']?.Value).toEqual([`https://pacs.example.org/precedent/dicomweb/studies/${study}`]);
    expect(node.logs.some((l) => l.includes('object index (QIDO-RS) built') && l.includes('"indexed":2'))).toBe(true);
  });

  it('a new version of an instance with a corrected Patient ID is found under the new ID only', async () => {
    const sop = newUid();
    const study = newUid();
    const base: FixtureSpec = { variant: 'dx8', syntax: 'ele', maxSize: 32, studyInstanceUID: study, sopInstanceUID: sop };
    const [wrong] = await buildFixtures([{ ...base, patientID: 'PAT-WRONG-1' }], tempDir('precedent-qido-v1-'));
    const [right] = await buildFixtures([{ ...base, patientID: 'PAT-RIGHT-2' }], tempDir('precedent-qido-v2-'));
    node = await start(tempDir('precedent-qido-ver-'));
    await store(node, [wrong?.path ?? '']);
    expect(await search(node, '/instances?PatientID=PAT-WRONG-1')).toHaveLength(1);
    await store(node, [right?.path ?? '']);
    expect(node.node.catalog.instanceVersions(sop)).toHaveLength(2);
    expect(await search(node, '/instances?PatientID=PAT-WRONG-1')).toEqual([]);
    expect(await search(node, '/studies?PatientID=PAT-WRONG-1')).toEqual([]);
    const [now] = await search(node, '/instances?PatientID=PAT-RIGHT-2');
    expect(now?.['00080018']?.Value).toEqual([sop]);
  });
});
