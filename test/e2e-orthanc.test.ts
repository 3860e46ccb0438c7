// End to end with a real Orthanc as the hospital PACS: Orthanc auto-routes a received CXR to the
// node (Lua OnStoredInstance), the node analyses it against an imported archive and sends the SR and
// Secondary Captures back into the same study, which we read back through Orthanc's REST API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/node.js';
import { startPacsScenario, type PacsScenario } from './helpers/pacs.js';
import { run } from './helpers/tools.js';
import Database from 'better-sqlite3';

let pacs: PacsScenario;

beforeAll(async () => {
  pacs = await startPacsScenario();
}, 600_000);

afterAll(async () => {
  await pacs?.stop();
});

describe('Orthanc as the PACS', () => {
  it('routes a CXR to the node and receives SR + heatmap SC + similar-cases SC in the same study', async () => {
    const { source, instances } = await pacs.routeCxr({ imageIndex: 1001, patientName: 'ORTHANC^E2E', patientID: 'E2E-0001' });
    expect(instances.length).toBe(4); // the radiograph, the SR, the heatmap SC, the similar-cases SC

    const results = instances.filter((i) => i.MainDicomTags.SOPInstanceUID !== source.sopInstanceUID);
    const dir = tempDir('precedent-orthanc-results-');
    const kinds: string[] = [];
    const series = new Map<string, string>();
    for (const r of results) {
      const file = join(dir, `${r.ID}.dcm`);
      writeFileSync(file, await pacs.orthanc.file(r.ID));
      const tags = await pacs.orthanc.get<Record<string, string>>(`/instances/${r.ID}/simplified-tags`);
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
    const exportsList = await run('node', ['bin/precedent.js', 'exports', 'list', '--json', '--config', join(pacs.dataDir, 'precedent.json')]);
    const items = JSON.parse(exportsList.stdout) as Array<{ state: string }>;
    expect(items.map((i) => i.state)).toEqual(['sent', 'sent', 'sent']);
    // QIDO-RS finds the radiograph and the three results of the study (the object index).
    const db = new Database(join(pacs.dataDir, 'catalog.sqlite'), { readonly: true });
    const indexed = db
      .prepare('SELECT origin, modality, patient_id FROM dicom_objects WHERE study_instance_uid = ? ORDER BY origin, modality')
      .all(source.studyInstanceUID);
    db.close();
    expect(indexed).toEqual([
      { origin: 'received', modality: 'DX', patient_id: 'E2E-0001' },
      { origin: 'result', modality: 'OT', patient_id: 'E2E-0001' },
      { origin: 'result', modality: 'OT', patient_id: 'E2E-0001' },
      { origin: 'result', modality: 'SR', patient_id: 'E2E-0001' },
    ]);
  });
});
