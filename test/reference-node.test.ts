// The starter reference archive at start-up: a node with a model and archive.reference on imports and
// embeds it in the background without any manual import (C-STOREs accepted meanwhile), an analysed
// study's SR names those cases as public reference cases (and stays dciodvfy clean), a restart with
// the same model embeds nothing again; with archive.reference off the archive stays empty and the
// start-up log says so. A subset of archive/reference keeps the test short.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildFixtures, type Fixture, type FixtureSpec } from './fixtures/build.js';
import { REPO_ROOT } from './fixtures/shared.js';
import { testModelDir } from './helpers/model-fixture.js';
import { startTestNode, tempDir, type TestNode } from './helpers/node.js';
import { dciodvfy } from './helpers/report-tools.js';
import { parseCsv } from '../src/shared/csv.js';
import { run } from './helpers/tools.js';
import { createLogger } from '../src/shared/log.js';
import { waitFor } from './helpers/wait.js';

const PER_COLLECTION = 3;
let model: string;
let subset: string;
let node: TestNode | undefined;

/** The first PER_COLLECTION rows of each collection of archive/reference, with their thumbnails. */
function referenceSubset(): string {
  const source = join(REPO_ROOT, 'archive', 'reference');
  const [header = [], ...rows] = parseCsv(readFileSync(join(source, 'labels.csv'), 'utf8'));
  const dataset = header.indexOf('dataset');
  const path = header.indexOf('image_path');
  const taken = new Map<string, number>();
  const kept = rows.filter((r) => {
    const n = taken.get(r[dataset] ?? '') ?? 0;
    taken.set(r[dataset] ?? '', n + 1);
    return n < PER_COLLECTION;
  });
  const dir = tempDir('precedent-reference-');
  for (const r of kept) {
    const file = r[path] ?? '';
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(source, file), join(dir, file));
  }
  const quote = (v: string): string => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  writeFileSync(join(dir, 'labels.csv'), `${[header, ...kept].map((r) => r.map(quote).join(',')).join('\n')}\n`);
  return dir;
}

beforeAll(() => {
  model = testModelDir();
  subset = referenceSubset();
});
afterEach(async () => {
  await node?.stop();
  node = undefined;
});

async function sendStudy(port: number, imageIndex: number): Promise<Fixture[]> {
  const files = await buildFixtures(
    [{ variant: 'dx12', syntax: 'ele', imageIndex, patientID: `PREF${imageIndex}`, accessionNumber: `ACC-REF${imageIndex}` } as FixtureSpec],
    tempDir('precedent-reference-study-'),
  );
  const r = await run('dcmsend', ['-aet', 'MODALITY', '-aec', 'PRECEDENT', '-nh', '127.0.0.1', String(port), ...files.map((f) => f.path)]);
  expect(r.code).toBe(0);
  return files;
}

/** The SR among the study's results (the file dsrdump reads as a document). */
async function resultSR(dataDir: string, uid: string): Promise<{ file: string; dump: string }> {
  const dir = join(dataDir, 'results', uid);
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.dcm'))) {
    const r = await run('dsrdump', ['+U8', '+Pl', join(dir, name)]);
    if (r.code === 0 && r.stdout.includes('Similar case')) return { file: join(dir, name), dump: r.stdout };
  }
  throw new Error(`no SR in ${dir}`);
}

const settings = (reference: boolean, dataDir?: string) =>
  [
    { studies: { completeAfterSeconds: 0.4 }, model: { dir: model }, inference: { device: 'cpu' as const }, archive: { reference, referenceDir: subset } },
    dataDir ? { dataDir } : {},
  ] as const;

describe('reference archive at start-up', () => {
  it('is embedded without a manual import, and results name its cases as public reference cases', async () => {
    node = await startTestNode(...settings(true));
    const n = node;
    const cases = PER_COLLECTION * 2;
    // The node accepts studies while the import runs (this one may be compared with fewer cases).
    const early = await sendStudy(n.port, 30);
    await n.node.referenceImported();
    expect(n.logs.some((l) => l.includes('reference archive import started'))).toBe(true);
    expect(n.logs.find((l) => l.includes('reference archive import finished'))).toContain(`"added":${cases}`);
    // The archive is not empty: no warning that it is.
    expect(n.logs.some((l) => l.includes('the similar-case archive has no reference cases'))).toBe(false);
    expect(n.node.archive()?.cases.count()).toBe(cases);

    await waitFor(() => n.node.catalog.study(early[0]?.studyInstanceUID ?? '')?.state === 'done', 60_000);
    const files = await sendStudy(n.port, 60);
    const uid = files[0]?.studyInstanceUID ?? '';
    await waitFor(() => n.node.catalog.study(uid)?.state === 'done', 60_000);
    const results = await n.node.archive()?.retrieve(uid, createLogger('silent'));
    expect(results?.[0]?.cases.length).toBeGreaterThan(0);
    expect(results?.[0]?.cases.every((c) => c.case.publicCollection === 'NIH ChestX-ray14' || c.case.publicCollection === 'Kermany 2018')).toBe(true);
    await waitFor(() => {
      try {
        return readdirSync(join(n.dataDir, 'results', uid)).filter((f) => f.endsWith('.dcm')).length >= 3;
      } catch {
        return false;
      }
    }, 60_000);
    const sr = await resultSR(n.dataDir, uid);
    const named = sr.dump.match(/Public reference case \((NIH ChestX-ray14|Kermany 2018)\), not from this hospital/g) ?? [];
    const cased = sr.dump.match(/#\d+ \(public reference case\):/g) ?? [];
    // Every case this study was compared with is a reference case, and each says so.
    expect(named.length).toBeGreaterThan(0);
    expect(named.length).toBe(cased.length);
    const v = await dciodvfy(sr.file);
    expect(v.errors.length > 0 ? v.output : '').toBe('');

    // A restart with the same model embeds nothing again.
    const dataDir = n.dataDir;
    await n.stop();
    node = await startTestNode(...settings(true, dataDir));
    await node.node.referenceImported();
    expect(node.logs.some((l) => l.includes('reference archive already embedded with this model'))).toBe(true);
    expect(node.logs.some((l) => l.includes('reference archive import started'))).toBe(false);
    expect(node.node.archive()?.cases.count()).toBe(cases);
  }, 180_000);

  it('with archive.reference off, the archive stays empty and the start-up log says so', async () => {
    node = await startTestNode(...settings(false));
    await node.node.referenceImported();
    expect(node.node.archive()?.cases.count()).toBe(0);
    expect(node.logs.some((l) => l.includes('reference archive import'))).toBe(false);
    expect(node.logs.some((l) => l.includes('the similar-case archive has no reference cases'))).toBe(true);
  }, 60_000);
});
