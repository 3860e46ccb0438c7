// End to end with a real Orthanc as the hospital PACS: Orthanc auto-routes a received CXR to the
// node (Lua OnStoredInstance), the node analyses it against an imported archive and sends the SR and
// Secondary Captures back into the same study, which we read back through Orthanc's REST API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFixture } from './fixtures/build.js';
import { cxrDir } from './fixtures/shared.js';
import { startTestNode, tempDir, type TestNode } from './helpers/node.js';
import { freePort } from './helpers/process.js';
import { startOrthanc, type TestOrthanc } from './helpers/orthanc.js';
import { testModelDir } from './helpers/model-fixture.js';
import { run } from './helpers/tools.js';
import Database from 'better-sqlite3';

let orthanc: TestOrthanc;
let node: TestNode;
let dataDir: string;

beforeAll(async () => {
  const modelDir = testModelDir();
  dataDir = tempDir();
  const nodePort = await freePort();
  orthanc = await startOrthanc({ aeTitle: 'PRECEDENT', port: nodePort });
  const overrides = {
    dimse: { port: nodePort },
    model: { dir: modelDir },
    inference: { device: 'cpu' as const },
    studies: { completeAfterSeconds: 1 },
    export: { destinations: [{ name: 'orthanc', aeTitle: orthanc.aeTitle, host: '127.0.0.1', port: orthanc.dicomPort, forCallingAETitles: [] }], backoffSeconds: 0.5 },
  };
  // A small labelled archive from the shared radiographs, imported with the CLI as an operator would.
  const labels = readFileSync(join(cxrDir(), 'labels.csv'), 'utf8').trim().split('\n');
  const subset = [labels[0], ...labels.slice(1).filter((_, i) => i % 60 === 0)].join('\n');
  const csv = join(dataDir, 'archive.csv');
  writeFileSync(csv, `${subset}\n`);
  const config = join(dataDir, 'precedent.json');
  writeFileSync(config, JSON.stringify({ ...overrides, storage: { dataDir, minFreeBytes: 0 }, dimse: { port: 0 } }));
  const imported = await run('node', ['bin/precedent.js', 'import', '--config', config, '--images', cxrDir(), '--labels', csv], { timeoutMs: 300_000 });
  if (imported.code !== 0) throw new Error(`precedent import failed: ${imported.stderr.slice(-500)}`);
  node = await startTestNode(overrides, { dataDir });
}, 600_000);

afterAll(async () => {
  await node?.stop();
  await orthanc?.stop();
});

interface OrthancInstance {
  ID: string;
  MainDicomTags: { SOPInstanceUID: string };
}

describe('Orthanc as the PACS', () => {
  it('routes a CXR to the node and receives SR + heatmap SC + similar-cases SC in the same study', async () => {
    const source = await buildFixture({ variant: 'dx12', syntax: 'ele', imageIndex: 1001, patientName: 'ORTHANC^E2E', patientID: 'E2E-0001' }, tempDir());
    const sent = await run('storescu', ['-aet', 'MODALITY', '-aec', orthanc.aeTitle, '127.0.0.1', String(orthanc.dicomPort), source.path]);
    expect(sent.code).toBe(0);

    let studyId = '';
    let instances: OrthancInstance[] = [];
    const end = Date.now() + 120_000;
    while (Date.now() < end) {
      const found = await fetch(`${orthanc.url}/tools/lookup`, { method: 'POST', body: source.studyInstanceUID });
      const hits = (await found.json()) as Array<{ ID: string; Type: string }>;
      studyId = hits.find((h) => h.Type === 'Study')?.ID ?? '';
      if (studyId) {
        instances = await orthanc.get<OrthancInstance[]>(`/studies/${studyId}/instances`);
        if (instances.length >= 4) break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(instances.length).toBe(4); // the radiograph, the SR, the heatmap SC, the similar-cases SC

    const results = instances.filter((i) => i.MainDicomTags.SOPInstanceUID !== source.sopInstanceUID);
    const dir = tempDir('precedent-orthanc-results-');
    const kinds: string[] = [];
    const series = new Map<string, string>();
    for (const r of results) {
      const file = join(dir, `${r.ID}.dcm`);
      writeFileSync(file, await orthanc.file(r.ID));
      const tags = await orthanc.get<Record<string, string>>(`/instances/${r.ID}/simplified-tags`);
      expect(tags.StudyInstanceUID).toBe(source.studyInstanceUID);
      expect(tags.PatientID).toBe('E2E-0001');
      kinds.push(tags.Modality ?? '');
      series.set(tags.SeriesInstanceUID ?? '', `${tags.SeriesNumber ?? ''} ${tags.SeriesDescription ?? ''}`);
      const check = await run('dciodvfy', [file]);
      expect(check.stderr.split('\n').filter((l) => l.startsWith('Error'))).toEqual([]);
      if (tags.Modality === 'SR') {
        const sr = await run('dsrdump', [file]);
        expect(sr.code).toBe(0);
        expect(sr.stdout).toMatch(/most similar prior cases/i);
        expect(tags.VerificationFlag).toBe('UNVERIFIED');
      } else {
        const png = await run('dcmj2pnm', ['+on', file, join(dir, `${r.ID}.png`)]);
        expect(png.code).toBe(0);
      }
    }
    expect(kinds.sort()).toEqual(['OT', 'OT', 'SR']);
    // Each result kind in its own series: Series Number and Description are series-level attributes.
    expect(series.size).toBe(3);
    expect(new Set(series.values()).size).toBe(3);
    // The node recorded the deliveries.
    const exportsList = await run('node', ['bin/precedent.js', 'exports', 'list', '--json', '--config', join(dataDir, 'precedent.json')]);
    const items = JSON.parse(exportsList.stdout) as Array<{ state: string }>;
    expect(items.map((i) => i.state)).toEqual(['sent', 'sent', 'sent']);
    // QIDO-RS finds the radiograph and the three results of the study (the object index).
    const db = new Database(join(dataDir, 'catalog.sqlite'), { readonly: true });
    const indexed = db.prepare('SELECT origin, modality, patient_id FROM dicom_objects WHERE study_instance_uid = ? ORDER BY origin, modality').all(source.studyInstanceUID);
    db.close();
    expect(indexed).toEqual([
      { origin: 'received', modality: 'DX', patient_id: 'E2E-0001' },
      { origin: 'result', modality: 'OT', patient_id: 'E2E-0001' },
      { origin: 'result', modality: 'OT', patient_id: 'E2E-0001' },
      { origin: 'result', modality: 'SR', patient_id: 'E2E-0001' },
    ]);
  });
});
