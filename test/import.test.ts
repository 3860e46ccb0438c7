// `precedent import` and `precedent query` as an operator runs them (the built CLI, real radiographs
// from ../shared/data/cxr, the test ONNX model): idempotent re-runs, a SIGKILLed import that resumes to
// the same archive as an uninterrupted one, a query that finds similar cases of other patients only,
// a corrupt or deleted index file rebuilt with identical answers, and DICOM archives with labels joined
// by UID.
import { beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFixtures, cxrDir, readSharedLabels, type FixtureSpec } from './fixtures/build.js';
import { testModelDir } from './helpers/model-fixture.js';
import { tempDir } from './helpers/node.js';
import { cli, cliDataDir, json, labelsSubset, startCli } from './helpers/archive.js';
import { patientKeyOf } from '../src/shared/case-keys.js';
import type { RetrievalResult } from '../src/shared/cases.js';

interface Summary {
  items: number;
  added: number;
  updated: number;
  unchanged: number;
  failed: number;
  casesInArchive: number;
  index: { size: number; mode: string; rebuilt: boolean; file: string };
}

let model: string;
beforeAll(() => {
  model = testModelDir();
});

const importImages = (config: string, csv: string, extra: string[] = []) => [
  'import',
  '--config',
  config,
  '--model',
  model,
  '--images',
  cxrDir(),
  '--labels',
  csv,
  '--json',
  ...extra,
];

function caseSops(dataDir: string): string[] {
  const db = new Database(join(dataDir, 'catalog.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT sop_instance_uid AS s FROM cases ORDER BY 1').all() as { s: string }[]).map((r) => r.s);
  } finally {
    db.close();
  }
}

function caseCount(dataDir: string): number {
  if (!existsSync(join(dataDir, 'catalog.sqlite'))) return 0;
  const db = new Database(join(dataDir, 'catalog.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'cases'").get() as { n: number }).n === 0
      ? 0
      : (db.prepare('SELECT COUNT(*) AS n FROM cases').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('precedent import --images', () => {
  // Every 8th row: adult and paediatric images, several images per patient group.
  const subset = () => labelsSubset((i) => i % 8 === 0);

  it('is idempotent on re-run; query --json returns similar cases of other patients; a corrupt or deleted index file is rebuilt', async () => {
    const { csv, rows } = subset();
    const { dataDir, config } = cliDataDir();
    // The fixtures' IssuerOfPatientID is PRECEDENT: the CSV's patient IDs are given the same issuer.
    const first = json<Summary>(await cli(importImages(config, csv, ['--issuer', 'PRECEDENT'])));
    expect(first).toMatchObject({ items: rows.length, added: rows.length, updated: 0, unchanged: 0, failed: 0, casesInArchive: rows.length });
    expect(first.index).toMatchObject({ size: rows.length, mode: 'exact', rebuilt: true });

    const second = json<Summary>(await cli(importImages(config, csv, ['--issuer', 'PRECEDENT'])));
    expect(second).toMatchObject({ items: rows.length, added: 0, updated: 0, unchanged: rows.length, casesInArchive: rows.length });
    expect(second.index).toMatchObject({ size: rows.length, rebuilt: false });

    // A query DICOM of the patient group of the first rows: none of that group's cases may come back.
    const shared = readSharedLabels();
    const group = shared[0]?.['patient_group'] ?? '';
    const [fixture] = await buildFixtures([{ variant: 'dx12', syntax: 'ele', imageIndex: 0, patientID: group } as FixtureSpec], tempDir('precedent-query-'));
    const query = async (): Promise<RetrievalResult & { file: string }> =>
      json(await cli(['query', '--config', config, '--model', model, '--json', fixture?.path ?? '']));
    const q1 = await query();
    expect(q1.cases.length).toBeGreaterThanOrEqual(5);
    expect(q1.cases).toHaveLength(10);
    expect(q1.StudyInstanceUID).toBe(fixture?.studyInstanceUID);
    const secret = readFileSync(join(dataDir, 'patient-key.secret'), 'utf8').trim();
    const excluded = patientKeyOf(secret, group, 'PRECEDENT');
    expect(rows.some((r) => r.includes(`,${group},`))).toBe(true);
    for (const s of q1.cases) expect(s.case.patientKey).not.toBe(excluded);
    expect(q1.vote.length).toBeGreaterThan(0);
    expect(q1.vote.reduce((a, v) => a + v.probability, 0)).toBeCloseTo(1, 9);

    const index = join(dataDir, 'index', readdirSync(join(dataDir, 'index')).find((n) => n.endsWith('.usearch')) ?? '');
    writeFileSync(index, Buffer.alloc(statSync(index).size, 0x42));
    expect(await query()).toEqual(q1);
    rmSync(index);
    expect(await query()).toEqual(q1);
    expect(existsSync(index)).toBe(true);
  }, 600_000);

  it('a SIGKILLed import resumes and ends with the same cases as an uninterrupted import', async () => {
    const { csv, rows } = subset();
    const whole = cliDataDir();
    expect(json<Summary>(await cli(importImages(whole.config, csv))).casesInArchive).toBe(rows.length);

    const killed = cliDataDir();
    const run = startCli(importImages(killed.config, csv, ['--batch', '4']));
    const deadline = Date.now() + 120_000;
    while (caseCount(killed.dataDir) < 12 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    run.child.kill('SIGKILL');
    const outcome = await run.done;
    expect(outcome.signal).toBe('SIGKILL');
    const before = caseCount(killed.dataDir);
    expect(before).toBeGreaterThanOrEqual(12);
    expect(before).toBeLessThan(rows.length);

    const resumed = json<Summary>(await cli(importImages(killed.config, csv)));
    expect(resumed.added).toBe(rows.length - before);
    expect(resumed.unchanged).toBe(before);
    expect(resumed.casesInArchive).toBe(rows.length);
    expect(caseSops(killed.dataDir)).toEqual(caseSops(whole.dataDir));
    expect(resumed.index.size).toBe(rows.length);
  }, 600_000);

  it('changed labels update the cases without new inference', async () => {
    const { csv, rows } = labelsSubset((i) => i % 40 === 0);
    const { config } = cliDataDir();
    json<Summary>(await cli(importImages(config, csv)));
    const relabelled = readFileSync(csv, 'utf8').replace(/,normal,/g, ',relabelled,');
    const changed = rows.filter((r) => r.includes(',normal,')).length;
    expect(changed).toBeGreaterThan(0);
    writeFileSync(csv, relabelled);
    const again = json<Summary>(await cli(importImages(config, csv)));
    expect(again).toMatchObject({ added: 0, updated: changed, unchanged: rows.length - changed });
  }, 300_000);

  it('stores a thumbnail of every case, and adds the missing ones of an earlier import without new inference', async () => {
    const { csv, rows } = labelsSubset((i) => i % 60 === 0);
    const { dataDir, config } = cliDataDir();
    json<Summary>(await cli(importImages(config, csv)));
    const db = new Database(join(dataDir, 'catalog.sqlite'));
    const count = (sql: string): number => db.prepare<[], { n: number }>(sql).get()?.n ?? -1;
    try {
      expect(count('SELECT count(*) AS n FROM case_thumbnails')).toBe(rows.length);
      const embeddedAt = count('SELECT max(created_at) AS n FROM embeddings');
      // As an import before thumbnails left it.
      db.exec('DELETE FROM case_thumbnails WHERE case_key % 2 = 0');
      const missing = rows.length - count('SELECT count(*) AS n FROM case_thumbnails');
      expect(missing).toBeGreaterThan(0);
      const again = json<Summary>(await cli(importImages(config, csv)));
      expect(again).toMatchObject({ added: 0, updated: 0, unchanged: rows.length });
      expect(count('SELECT count(*) AS n FROM case_thumbnails')).toBe(rows.length);
      expect(count('SELECT max(created_at) AS n FROM embeddings'), 'no embedding written again').toBe(embeddedAt);
    } finally {
      db.close();
    }
  }, 300_000);
});

describe('precedent import --dicom', () => {
  it('imports DICOM files with labels joined by StudyInstanceUID or AccessionNumber, idempotently', async () => {
    const dir = tempDir('precedent-dicom-archive-');
    const specs: FixtureSpec[] = [0, 50, 100, 150].map((imageIndex, i) => ({
      variant: i % 2 ? 'cr12m1' : 'dx12',
      syntax: i % 2 ? 'jpegls' : 'ele',
      imageIndex,
      patientID: `P${i}`,
      accessionNumber: `ACC${i}`,
    }));
    const files = await buildFixtures(specs, dir);
    writeFileSync(join(dir, 'not-dicom.txt'), 'hello');
    const csv = join(tempDir('precedent-dicom-labels-'), 'labels.csv');
    writeFileSync(csv, `StudyInstanceUID,AccessionNumber,label,intubated,temperature\n${files[0]?.studyInstanceUID},,COVID-19,Y,38.5\n,ACC1,normal,,\n`);
    const { config, dataDir } = cliDataDir();
    const args = ['import', '--config', config, '--model', model, '--dicom', dir, '--labels', csv, '--json'];
    const first = json<Summary & { ignored: number }>(await cli(args));
    expect(first).toMatchObject({ items: 4, added: 4, ignored: 1, failed: 0, casesInArchive: 4 });
    expect(json<Summary>(await cli(args))).toMatchObject({ added: 0, unchanged: 4 });
    // --ae names the archive that holds the studies: a re-run with it updates every case without
    // inference (also those without a CSV row, whose stored facts stay), and query shows it.
    expect(json<Summary>(await cli([...args, '--ae', 'PACS_ARCHIVE']))).toMatchObject({ added: 0, updated: 4, unchanged: 0 });
    expect(json<Summary>(await cli([...args, '--ae', 'PACS_ARCHIVE']))).toMatchObject({ added: 0, updated: 0, unchanged: 4 });
    const query = json<RetrievalResult>(await cli(['query', '--config', config, '--model', model, '--json', files[0]?.path ?? '']));
    expect(query.cases.length).toBeGreaterThan(0);
    expect(query.cases.every((s) => s.case.retrieveAETitle === 'PACS_ARCHIVE')).toBe(true);
    const badAe = await cli([...args, '--ae', 'A\\B']);
    expect(badAe.code).toBe(2);
    expect(badAe.stderr).toMatch(/--ae "A\\\\B": AE title: printable ASCII without backslash/);

    const db = new Database(join(dataDir, 'catalog.sqlite'), { readonly: true });
    const rows = db
      .prepare(
        'SELECT study_instance_uid AS study, accession_number AS acc, labels, outcomes, clinical, age, sex, patient_key AS pk, retrieve_ae_title AS ae FROM cases',
      )
      .all() as Record<string, string | number | null>[];
    db.close();
    const byAcc = new Map(rows.map((r) => [r['acc'], r]));
    expect(byAcc.get('ACC0')).toMatchObject({ labels: '["COVID-19"]', outcomes: '{"intubated":"Y"}', clinical: '{"temperature":"38.5"}' });
    expect(byAcc.get('ACC1')).toMatchObject({ labels: '["normal"]' });
    expect(byAcc.get('ACC2')).toMatchObject({ labels: '[]', ae: 'PACS_ARCHIVE' });
    // The patient identity is stored only as its keyed hash.
    const secret = readFileSync(join(dataDir, 'patient-key.secret'), 'utf8').trim();
    expect(byAcc.get('ACC3')?.['pk']).toBe(patientKeyOf(secret, 'P3', 'PRECEDENT'));
  }, 300_000);

  it('refuses two sources and a missing folder with clear messages', async () => {
    const { config } = cliDataDir();
    const both = await cli(['import', '--config', config, '--images', 'a', '--dicom', 'b']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/exactly one of --images DIR or --dicom DIR/);
    const noLabels = await cli(['import', '--config', config, '--images', 'a']);
    expect(noLabels.code).toBe(2);
    expect(noLabels.stderr).toMatch(/--images needs --labels CSV, or --unlabelled/);
    const twice = await cli(['import', '--config', config, '--images', 'a', '--labels', 'x.csv', '--unlabelled']);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/--labels CSV or --unlabelled, not both/);
    const missing = await cli(['import', '--config', config, '--model', model, '--images', '/nonexistent-folder', '--unlabelled']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/INPUT_INVALID: \/nonexistent-folder is not a folder/);
  }, 300_000);
});

describe('index.backend: faiss', () => {
  it('imports and answers a query with the same cases as usearch', async () => {
    const { csv } = labelsSubset((i) => i % 20 === 0);
    const [fixture] = await buildFixtures([{ variant: 'dx12', syntax: 'ele', imageIndex: 3 } as FixtureSpec], tempDir('precedent-faiss-query-'));
    const answers: RetrievalResult[] = [];
    for (const backend of ['faiss', 'usearch']) {
      const { config } = cliDataDir(`index:\n  backend: ${backend}\n`);
      const summary = json<Summary>(await cli(importImages(config, csv)));
      expect(summary.index.file.endsWith(`.${backend}`)).toBe(true);
      expect(summary.index.mode).toBe('exact');
      answers.push(json<RetrievalResult>(await cli(['query', '--config', config, '--model', model, '--json', fixture?.path ?? ''])));
    }
    const [faiss, usearch] = answers;
    expect(faiss?.cases).toHaveLength(10);
    expect(faiss?.cases.map((c) => c.case.caseKey)).toEqual(usearch?.cases.map((c) => c.case.caseKey));
    faiss?.cases.forEach((c, i) => expect(Math.abs(c.similarity - (usearch?.cases[i]?.similarity ?? NaN))).toBeLessThan(1e-5));
  }, 300_000);
});
