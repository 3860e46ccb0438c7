// Archive cases end to end: studies sent to the archive AE title become cases, labels loaded later by
// accession number reach them (and wait for a study that has not arrived), a clinical study gets its
// similar cases stored (never its own patient's), archive.indexIncoming adds it as a case, and erasure
// (`precedent cases delete`) removes cases from catalog, index, stored results and query answers.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { buildFixtures, cxrDir, type Fixture, type FixtureSpec } from './fixtures/build.js';
import { testModelDir } from './helpers/model-fixture.js';
import { startTestNode, tempDir, type TestNode } from './helpers/node.js';
import { cli, cliDataDir, json, labelsSubset } from './helpers/archive.js';
import { run } from './helpers/tools.js';
import { patientKeyOf } from '../src/shared/case-keys.js';
import { createLogger } from '../src/shared/log.js';
import type { RetrievalResult } from '../src/shared/cases.js';
import type { Archive } from '../src/archive/index.js';
import { createImageDecoder } from '../src/decode/index.js';
import { waitFor } from './helpers/wait.js';

let model: string;
let node: TestNode | undefined;
beforeAll(() => {
  model = testModelDir();
});
afterEach(async () => {
  await node?.stop();
  node = undefined;
});

const log = createLogger('silent');

async function send(port: number, calledAE: string, files: Fixture[]): Promise<void> {
  const r = await run('dcmsend', ['-aet', 'MODALITY', '-aec', calledAE, '-nh', '127.0.0.1', String(port), ...files.map((f) => f.path)]);
  expect(r.code).toBe(0);
}

async function study(imageIndex: number, patientID: string, accessionNumber: string): Promise<Fixture[]> {
  return buildFixtures([{ variant: 'dx12', syntax: 'ele', imageIndex, patientID, accessionNumber } as FixtureSpec], tempDir('precedent-cases-'));
}

function doneAll(n: TestNode, files: Fixture[]): boolean {
  return files.every((f) => n.node.catalog.study(f.studyInstanceUID)?.state === 'done');
}

describe('archive AE title and clinical retrieval', () => {
  it('archive studies become cases, labels join later by accession, clinical studies get stored similar cases of other patients', async () => {
    node = await startTestNode({
      dimse: { archiveAeTitle: 'ARCHIVE' },
      studies: { completeAfterSeconds: 0.4 },
      model: { dir: model },
      inference: { device: 'cpu' },
      archive: { indexIncoming: true },
    });
    const n = node;
    // A fresh node: an empty archive and the default outputs (no export destination, DICOMweb off),
    // and its start-up log says both, with where the results go.
    expect(n.logs.some((l) => l.includes('the similar-case archive has no reference cases'))).toBe(true);
    expect(n.logs.some((l) => l.includes(`results are written as DICOM files under ${join(n.dataDir, 'results')} only`))).toBe(true);
    const a1 = await study(10, 'PA', 'ACC-A1');
    const a2 = await study(200, 'PB', 'ACC-A2');
    const a3 = await study(400, 'PC', 'ACC-A3');
    await send(n.port, 'ARCHIVE', [...a1, ...a2, ...a3]);
    await waitFor(() => doneAll(n, [...a1, ...a2, ...a3]), 60_000);
    const archive = n.node.archive() as Archive;
    expect(archive).toBeDefined();
    expect(archive.cases.count()).toBe(3);
    // An archive study yields no results of its own.
    expect(await archive.retrieve(a1[0]?.studyInstanceUID ?? '', log)).toEqual([]);

    const config = join(tempDir('precedent-cases-cfg-'), 'precedent.yaml');
    writeFileSync(config, `storage:\n  dataDir: ${n.dataDir}\nlog:\n  level: warn\n`);
    const csv = join(tempDir('precedent-cases-labels-'), 'labels.csv');
    writeFileSync(csv, 'AccessionNumber,label,went_icu,age\nACC-A1,COVID-19,Y,61\nACC-A2,normal,N,\nACC-LATER,other pneumonia,,\n');
    const loaded = await cli(['labels', 'load', csv, '--config', config]);
    expect(loaded.code).toBe(0);
    expect(loaded.stdout).toMatch(/3 row\(s\): 2 case\(s\) updated, 1 row\(s\) wait for their study/);

    // A clinical study of patient PA with the very image of archive study A1: A1 must not come back.
    const clinical = await study(10, 'PA', 'ACC-C1');
    await send(n.port, 'PRECEDENT', clinical);
    await waitFor(() => doneAll(n, clinical), 60_000);
    const uid = clinical[0]?.studyInstanceUID ?? '';
    const results = await archive.retrieve(uid, log);
    expect(results).toHaveLength(1);
    // This node has no export destination: the results are written, and the log says nobody gets them.
    await waitFor(() => n.logs.some((l) => l.includes('no export destination serves this study')), 30_000);
    expect(n.logs.find((l) => l.includes('no export destination serves this study'))).toContain(
      `only as files in ${join(n.dataDir, 'results', uid)} (DICOMweb is off)`,
    );
    const [result] = results as [RetrievalResult];
    expect(result.SOPInstanceUID).toBe(clinical[0]?.sopInstanceUID);
    expect(result.cases.map((s) => s.case.AccessionNumber).sort()).toEqual(['ACC-A2', 'ACC-A3']);
    const a2case = result.cases.find((s) => s.case.AccessionNumber === 'ACC-A2')?.case;
    // The peer that sent the archive study is where a viewer retrieves it.
    expect(a2case).toMatchObject({ labels: ['normal'], outcomes: { went_icu: 'N' }, source: 'archive-ae', retrieveAETitle: 'MODALITY' });
    expect(result.vote).toEqual([{ label: 'normal', probability: 1 }]);
    // Drawing the page decoded the two cases' files once and kept a thumbnail of each for later pages.
    const shown = result.cases.map((s) => BigInt(s.case.caseKey));
    const thumbs = archive.cases.thumbnails(shown);
    expect(thumbs.size).toBe(2);
    for (const t of thumbs.values()) expect(Math.max(t.width, t.height)).toBeLessThanOrEqual(256);
    // Stored: the same answer again (replayable), and the clinical study is now an unlabelled case.
    expect(await archive.retrieve(uid, log)).toEqual(results);
    expect(archive.cases.count()).toBe(4);
    expect(archive.cases.keysOf({ StudyInstanceUID: uid })).toHaveLength(1);

    // The study whose labels were loaded before it arrived gets them on arrival.
    const later = await study(600, 'PD', 'ACC-LATER');
    await send(n.port, 'ARCHIVE', later);
    await waitFor(() => doneAll(n, later), 60_000);
    const [laterKey] = archive.cases.keysOf({ StudyInstanceUID: later[0]?.studyInstanceUID ?? '' });
    const modelRef = { name: archive.index.model.name, version: archive.index.model.version };
    expect(archive.cases.cases([laterKey ?? 0n], modelRef).get(laterKey ?? 0n)).toMatchObject({ labels: ['other pneumonia'], source: 'archive-ae' });

    // Erasure of patient PB: out of the catalog, out of stored results, out of the next search.
    const a2vector = n.node.catalog.embeddings(a2[0]?.studyInstanceUID ?? '').at(0)?.vector ?? new Float32Array(0);
    expect(a2vector.length).toBeGreaterThan(0);
    const erased = json<{ removed: number; caseKeys: string[] }>(
      await cli(['cases', 'delete', '--patient', 'PB', '--issuer', 'PRECEDENT', '--json', '--config', config]),
    );
    expect(erased.removed).toBe(1);
    expect(archive.cases.count()).toBe(4);
    const [stored] = archive.cases.retrievals(uid, modelRef);
    expect(stored?.cases.map((s) => s.case.AccessionNumber)).toEqual(['ACC-A3']);
    expect(n.node.catalog.embeddings(a2[0]?.studyInstanceUID ?? '')).toEqual([]);
    expect(archive.cases.thumbnails(shown).size, "the erased case's thumbnail went with it").toBe(1);
    const [again] = await archive.retriever.retrieve([{ SOPInstanceUID: '1.2.3', StudyInstanceUID: '1.2.4', vector: a2vector }], '');
    expect(again?.cases).toHaveLength(4);
    expect(again?.cases.some((s) => s.case.AccessionNumber === 'ACC-A2')).toBe(false);
  }, 300_000);

  it('after embedding, the archive step works from the study handed on, not from its files', async () => {
    node = await startTestNode({
      dimse: { archiveAeTitle: 'ARCHIVE' },
      studies: { completeAfterSeconds: 0.4 },
      model: { dir: model },
      inference: { device: 'cpu' },
    });
    const n = node;
    const archived = [...(await study(200, 'PB', 'ACC-H2')), ...(await study(400, 'PC', 'ACC-H3'))];
    await send(n.port, 'ARCHIVE', archived);
    const clinical = await study(10, 'PA', 'ACC-H1');
    await send(n.port, 'PRECEDENT', clinical);
    await waitFor(() => doneAll(n, [...archived, ...clinical]), 60_000);
    const archive = n.node.archive() as Archive;
    const uid = clinical[0]?.studyInstanceUID ?? '';
    const stored = await archive.retrieve(uid, log);
    expect(stored).toHaveLength(1);

    // The study as the embedding step hands it on: catalog rows, embeddings, and the decoder's header.
    const instances = n.node.catalog.analyzableInstances(uid);
    const [instance] = instances;
    const [embedding] = n.node.catalog.embeddings(uid);
    if (!instance?.path || !embedding) throw new Error('the clinical study was not embedded');
    const file = join(n.dataDir, instance.path);
    const { header } = await createImageDecoder().decodeFile(file);
    expect(header).toBeDefined();
    // Its file gone, the handed-on study is all the step has: it finds the same similar cases.
    renameSync(file, `${file}.away`);
    const handed = await archive.onStudyEmbedded(uid, log, {
      StudyInstanceUID: uid,
      instances,
      images: [{ instance, embedding, ...(header ? { header } : {}) }],
    });
    expect(handed.results.map((r) => r.cases.map((c) => c.case.AccessionNumber).sort())).toEqual([['ACC-H2', 'ACC-H3']]);
    expect(handed.results[0]?.vote).toEqual(stored[0]?.vote);
    // Without it (a remote worker's result) the step reads the file, which is gone: the image is skipped.
    expect((await archive.onStudyEmbedded(uid, log)).results).toEqual([]);
    renameSync(`${file}.away`, file);
  });
});

describe('precedent cases delete', () => {
  it("removes a patient's and a study's cases from the catalog and from query results", async () => {
    const { csv, rows } = labelsSubset((i) => i % 25 === 0 || (i >= 1 && i <= 4));
    const { dataDir, config } = cliDataDir();
    const imported = json<{ casesInArchive: number }>(
      await cli(['import', '--config', config, '--model', model, '--images', cxrDir(), '--labels', csv, '--json']),
    );
    expect(imported.casesInArchive).toBe(rows.length);
    // Imported files are not kept: a small picture of each is, for the similar-cases page, and goes with its case.
    const thumbnails = (): { n: number; side: number } => {
      const db = new Database(join(dataDir, 'catalog.sqlite'), { readonly: true });
      try {
        return (
          db.prepare<[], { n: number; side: number }>('SELECT count(*) AS n, max(max(width, height)) AS side FROM case_thumbnails').get() ?? { n: -1, side: -1 }
        );
      } finally {
        db.close();
      }
    };
    expect(thumbnails()).toEqual({ n: rows.length, side: 256 });
    const [query] = await buildFixtures([{ variant: 'dx12', syntax: 'ele', imageIndex: 2, patientID: 'nobody' } as FixtureSpec], tempDir('precedent-cases-q-'));
    const ask = async () => json<RetrievalResult>(await cli(['query', '--config', config, '--model', model, '--json', '-k', '100', query?.path ?? '']));
    const before = await ask();
    expect(before.cases).toHaveLength(rows.length);

    // Rows 1-4 of labels.csv: the first patient group, several images.
    const group = rows[1]?.split(',')[3] ?? '';
    const secret = readFileSync(join(dataDir, 'patient-key.secret'), 'utf8').trim();
    const key = patientKeyOf(secret, group);
    const ofPatient = before.cases.filter((s) => s.case.patientKey === key).length;
    expect(ofPatient).toBeGreaterThan(1);
    const byPatient = json<{ removed: number; indexFiles: string[] }>(await cli(['cases', 'delete', '--patient', group, '--json', '--config', config]));
    expect(byPatient.removed).toBe(ofPatient);
    expect(byPatient.indexFiles).toHaveLength(1);
    expect(byPatient.indexFiles[0]).toMatch(new RegExp(`${rows.length - ofPatient} vectors`));

    const victim = before.cases.find((s) => s.case.patientKey !== key)?.case;
    const byStudy = json<{ removed: number }>(await cli(['cases', 'delete', '--study', victim?.StudyInstanceUID ?? '', '--json', '--config', config]));
    expect(byStudy.removed).toBe(1);

    const after = await ask();
    expect(after.cases).toHaveLength(rows.length - ofPatient - 1);
    expect(after.cases.some((s) => s.case.patientKey === key || s.case.StudyInstanceUID === victim?.StudyInstanceUID)).toBe(false);
    expect((await cli(['cases', 'count', '--config', config])).stdout.trim()).toBe(String(rows.length - ofPatient - 1));
    expect(thumbnails().n).toBe(rows.length - ofPatient - 1);
    const none = await cli(['cases', 'delete', '--config', config]);
    expect(none.code).toBe(2);
  }, 300_000);
});
