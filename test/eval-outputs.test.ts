// `precedent eval` (the built CLI, the tiny test ONNX model) on a constructed set whose figures are known
// in advance: every image of a class is the same picture, so a model (any model) embeds it identically
// and each query's own class comes first at cosine 1. Checks the summary's chance level, balanced
// accuracy, macro AUC classes and left-out queries, --adults-only, --save-embeddings and neighbours.json.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvalReport } from '../src/eval/index.js';
import { REPO_ROOT } from './fixtures/shared.js';
import { testModelDir } from './helpers/model-fixture.js';

const run = promisify(execFile);
const SIZE = 64;

/** A 64 x 64 8-bit gray PNG whose pixel (x, y) is f(x, y) in [0, 255]. */
function png(f: (x: number, y: number) => number): Buffer {
  const image = new PNG({ width: SIZE, height: SIZE, colorType: 0, inputColorType: 0, bitDepth: 8 });
  image.data = Buffer.from(Array.from({ length: SIZE * SIZE }, (_, i) => Math.round(f(i % SIZE, Math.floor(i / SIZE)))));
  return PNG.sync.write(image, { colorType: 0, inputColorType: 0, bitDepth: 8 });
}
const PICTURES: Record<string, Buffer> = {
  A: png((x) => (x * 255) / (SIZE - 1)),
  B: png((x, y) => (y < SIZE / 2 ? 230 : 20) + (x % 8 < 4 ? 20 : 0)),
};

// dataset, picture (- : no file), patient group, label, age. Class c is picture A (so it votes a) and
// both its images are one patient: no relevant image for either (left out of P@k).
const ROWS: Array<[string, string, string, string, string]> = [
  ['ieee', 'A', 'a1', 'a', '40'],
  ['ieee', 'A', 'a2', 'a', '41'],
  ['kermany-x', 'B', 'k1', 'b', ''], // --adults-only: pediatric collection without an age
  ['ieee', 'A', 'a3', 'a', '67+'],
  ['ieee', 'B', 'b1', 'b', '50'],
  ['ieee', 'A', 'child', 'a', '10'], // --adults-only: under 18
  ['ieee', 'B', 'b2', 'b', '045Y'],
  ['ieee', 'A', 'a4', 'a', ''], // kept: adult collection without an age
  ['ieee', 'B', 'b3', 'b', '55'],
  ['ieee', '-', 'x1', 'b', '60'], // no such file: not embedded
  ['ieee', 'B', 'b4', 'b', '70'],
  ['ieee', 'A', 'a5', 'a', '33'],
  ['ieee', 'B', 'b5', 'b', '44'],
  ['ieee', 'A', 'a6', 'a', 'early 40s'], // kept: no readable age, adult collection
  // Last, so that at cosine 1 the a's rank first (ties go to the earlier row).
  ['ieee', 'A', 'c1', 'c', '30'],
  ['ieee', 'A', 'c1', 'c', '30'],
];
const NOT_EMBEDDED = [
  { row: 2, reason: 'pediatric collection without age' },
  { row: 5, reason: 'under 18' },
  { row: 9, reason: 'could not be decoded or embedded' },
];
const EMBEDDED = [0, 1, 3, 4, 6, 7, 8, 10, 11, 12, 13, 14, 15];

interface Neighbours {
  k: number;
  models: Array<{
    id: string;
    subsets: Record<string, Array<{ row: number; label: string; relevant: number; neighbours: Array<{ row: number; label: string; cosine: number }> }>>;
  }>;
}

let dir: string;
let out: string;
let stdout: string;
let report: EvalReport;
const model = testModelDir();

beforeAll(async () => {
  if (!existsSync(join(REPO_ROOT, 'dist', 'commands', 'eval.js'))) throw new Error('dist/commands/eval.js is missing: run `npm run build` first');
  dir = mkdtempSync(join(tmpdir(), 'precedent-eval-outputs-'));
  const lines = ['dataset,image_path,patient_group,label,age'];
  ROWS.forEach(([dataset, picture, group, label, age], row) => {
    const name = `r${row}.png`;
    if (picture !== '-') writeFileSync(join(dir, name), PICTURES[picture]!);
    lines.push([dataset, name, group, label, age].join(','));
  });
  writeFileSync(join(dir, 'labels.csv'), `${lines.join('\n')}\n`);
  out = join(dir, 'out');
  // One image per batch, so that identical pictures give bit-identical embeddings.
  const args = [
    'eval',
    '--labels',
    join(dir, 'labels.csv'),
    '--images',
    dir,
    '--model',
    model,
    '--out',
    out,
    '-k',
    '1',
    '--bootstrap',
    '0',
    '--batch-size',
    '1',
  ];
  ({ stdout } = await run(process.execPath, ['bin/precedent.js', ...args, '--adults-only', '--save-embeddings', join(dir, 'emb.f32')], {
    cwd: REPO_ROOT,
    timeout: 120_000,
  }));
  report = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8')) as EvalReport;
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('precedent eval on a constructed set (tiny model)', () => {
  it('--adults-only leaves out the child and the pediatric row, and keeps adult rows without an age', () => {
    expect(report.protocol.adultsOnly).toBe(true);
    expect(report.data.adultsOnly).toEqual({ underAge: 1, pediatricWithoutAge: 1, adultWithoutAge: 2, ageColumn: true });
    expect(report.data).toMatchObject({ csvRows: 16, images: 14, evaluated: 13, queries: 13 });
    expect(report.data.decodeFailed.map((f) => f.imagePath)).toEqual(['r9.png']);
    // The kermany row is gone, so there is one collection: the pooled subset only.
    expect(report.subsets.map((s) => s.id)).toEqual(['pooled']);
    expect(readFileSync(join(out, 'eval.md'), 'utf8')).toContain(
      '2 by --adults-only (1 under 18, 1 without a readable age in the pediatric collection; 2 rows without a readable age kept because their collection is adult)',
    );
  });

  it('states the chance level, balanced accuracy, the macro AUC classes and the left-out queries, for the model and raw pixels alike', () => {
    const s = report.subsets[0]!;
    expect(s.chance).toEqual({ classes: 3, uniform: 0.3333, majorityClass: 'a', majorityRate: 0.4615 });
    expect(s.macroAUCClasses).toEqual({ minQueries: 5, included: ['a', 'b'], excluded: { c: 2 } });
    expect(s).toMatchObject({ queries: 13, retrievalQueries: 11, queriesWithoutRelevant: 2, queriesWithoutRelevantPerClass: { c: 2 } });
    for (const id of ['model', 'raw-pixel']) {
      const r = s.results[id]!;
      // a: 5 other a's at cosine 1 (P@5 1); b: 4 other b's (P@5 4/5). The two c's are left out.
      expect(r.retrieval['P@1'].value).toBe(1);
      expect(r.retrieval['P@5'].value).toBeCloseTo(10 / 11, 4);
      expect(r.retrieval['mAP@10'].value).toBe(1);
      // a and b right, c voted a: accuracy 11/13, sensitivities 1, 1, 0.
      expect(r.diagnosis.accuracy.value).toBeCloseTo(11 / 13, 4);
      expect(r.diagnosis.balancedAccuracy.value).toBeCloseTo(2 / 3, 4);
      // AUC(a): the two c's tie with the 6 a's at p(a) = 1: (5 + 2/2) / 7. AUC(b) = 1.
      expect(r.diagnosis.perClass['a']!.auc.value).toBeCloseTo(6 / 7, 4);
      expect(r.diagnosis.macroAUC.value).toBeCloseTo((6 / 7 + 1) / 2, 4);
    }
    expect(stdout).toContain('pooled: 13 queries, 12 patient groups; chance: balanced accuracy 0.333 (1/3 classes), accuracy 0.462 (always a)');
    expect(stdout).toContain('macro AUC over a, b (classes with >= 5 queries and queries of another class); left out: c (2 queries)');
    expect(stdout).toContain('2 queries left out of P@k/mAP: no relevant image (c 2)');
    expect(stdout).toMatch(
      /precedent-test-embedder 0\.0\.1 +P@5 0\.909 {2}mAP@10 1\.000 {2}vote accuracy 0\.846 {2}balanced accuracy 0\.667 {2}macro AUC 0\.929/,
    );
    const md = readFileSync(join(out, 'eval.md'), 'utf8');
    expect(md).toContain('| vote accuracy | balanced accuracy | chance (balanced · accuracy) | macro AUC |');
    expect(md).toContain('| 0.846 | 0.667 | 0.333 · 0.462 | 0.929 (2 of 3 classes) |');
    expect(md).toContain('2 queries left out of P@k/mAP: no relevant image (c 2); the vote still counts them.');
  });

  it('--save-embeddings writes the model vectors in CSV row order with NaN rows, and FILE.json says which', () => {
    const bytes = readFileSync(join(dir, 'emb.f32'));
    expect(bytes.length).toBe(16 * 32 * 4);
    const row = (r: number): number[] => Array.from({ length: 32 }, (_, d) => bytes.readFloatLE((r * 32 + d) * 4));
    for (const r of [2, 5, 9]) expect(row(r).every(Number.isNaN)).toBe(true);
    // Same picture, same vector; L2-normalised; A and B differ.
    expect(row(1)).toEqual(row(0));
    expect(row(14)).toEqual(row(0));
    expect(row(6)).toEqual(row(4));
    expect(row(0).reduce((a, v) => a + v * v, 0)).toBeCloseTo(1, 5);
    expect(row(4)).not.toEqual(row(0));
    const meta = JSON.parse(readFileSync(join(dir, 'emb.f32.json'), 'utf8')) as Record<string, unknown>;
    expect(meta).toMatchObject({
      rows: 16,
      dimension: 32,
      dtype: 'float32',
      byteOrder: 'little-endian',
      model: { name: 'precedent-test-embedder 0.0.1', dir: model },
    });
    expect(meta['embeddedRows']).toEqual(EMBEDDED);
    expect(meta['notEmbedded']).toEqual(NOT_EMBEDDED);
    expect(stdout).toContain(`embeddings of precedent-test-embedder 0.0.1: ${join(dir, 'emb.f32')} and ${join(dir, 'emb.f32')}.json`);
  });

  it('neighbours.json lets anyone re-score: its cosines are the saved vectors’ dot products and its P@5 is eval.json’s', () => {
    const file = JSON.parse(readFileSync(join(out, 'neighbours.json'), 'utf8')) as Neighbours;
    expect(file.k).toBe(1);
    expect(file.models.map((m) => m.id)).toEqual(['model', 'raw-pixel']);
    const queries = file.models[0]!.subsets['pooled']!;
    expect(queries.map((q) => q.row)).toEqual(EMBEDDED);
    const bytes = readFileSync(join(dir, 'emb.f32'));
    const dot = (a: number, b: number): number =>
      Array.from({ length: 32 }, (_, d) => bytes.readFloatLE((a * 32 + d) * 4) * bytes.readFloatLE((b * 32 + d) * 4)).reduce((x, y) => x + y, 0);
    for (const q of queries) {
      expect(q.neighbours).toHaveLength(10);
      for (const n of q.neighbours) expect(n.cosine).toBeCloseTo(dot(q.row, n.row), 5);
    }
    // The c queries (rows 14 and 15, one patient) never see each other, and find a's first.
    const c1 = queries.find((q) => q.row === 14)!;
    expect(c1.neighbours.map((n) => n.row)).not.toContain(15);
    expect(c1.neighbours.slice(0, 6).map((n) => n.label)).toEqual(['a', 'a', 'a', 'a', 'a', 'a']);
    expect(c1.relevant).toBe(0);
    const scored = queries.filter((q) => q.relevant > 0);
    const p5 = scored.reduce((sum, q) => sum + q.neighbours.slice(0, 5).filter((n) => n.label === q.label).length / 5, 0) / scored.length;
    expect(p5).toBeCloseTo(report.subsets[0]!.results['model']!.retrieval['P@5'].value!, 4);
  });
});
