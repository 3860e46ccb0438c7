// The figures that keep `precedent eval`'s summary honest, each on a hand-made set whose value is known:
// chance level, balanced accuracy, macro AUC over classes with >= 5 queries, queries without a relevant
// image left out of P@k, the console summary, --adults-only ages, the embeddings file and neighbours.json.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ageDecision,
  consoleSummary,
  encodeEmbeddings,
  evaluateModels,
  neighboursJson,
  parseAge,
  readEvalSet,
  searchModels,
  writeEmbeddings,
  type EvalItem,
  type EvalReport,
  type ModelVectors,
} from '../src/eval/index.js';

const at = (deg: number): Float32Array => Float32Array.of(Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180));
const item = (row: number, label: string, group = `g${row}`, dataset = 'ieee'): EvalItem => ({
  row,
  imagePath: `${row}.png`,
  patientGroup: group,
  label,
  dataset,
  query: true,
  gallery: true,
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'precedent-eval-summary-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the vote beside its chance level, and macro AUC over classes with >= 5 queries', () => {
  // a: 6 images near 0 deg, b: 5 near 90 deg (each its own patient). c: two images, c1 at 180 deg
  // (nearest: b at 94 deg) and c2 at 300 deg (nearest: a at 5 deg). With k = 1 every vote is one-hot:
  // a and b are always right, c always wrong.
  const angles: Array<[string, number]> = [
    ['a', 0],
    ['a', 1],
    ['a', 2],
    ['a', 3],
    ['a', 4],
    ['a', 5],
    ['b', 90],
    ['b', 91],
    ['b', 92],
    ['b', 93],
    ['b', 94],
    ['c', 180],
    ['c', 300],
  ];
  const items = angles.map(([label], i) => item(i, label));
  const model: ModelVectors = { id: 'model', kind: 'onnx', name: 'm', vectors: angles.map(([, deg]) => at(deg)) };
  const [pooled] = evaluateModels(items, [model], { k: 1, bootstrap: 0, seed: 1 });
  const d = pooled!.results['model']!.diagnosis;

  it('gives accuracy, balanced accuracy and both chance levels', () => {
    expect(d.accuracy.value).toBeCloseTo(11 / 13, 4);
    // Sensitivities 1, 1, 0.
    expect(d.balancedAccuracy.value).toBeCloseTo(2 / 3, 4);
    expect(pooled!.chance).toEqual({ classes: 3, uniform: 0.3333, majorityClass: 'a', majorityRate: 0.4615 });
  });

  it('averages AUC over a and b only, and says that c (2 queries) is left out', () => {
    // AUC(a): 6 positives at p(a) = 1 against 7 negatives, of which c2 (voted a) ties: (6 + 1/2) / 7.
    // AUC(b): 5 positives at p(b) = 1 against 8 negatives, of which c1 ties: (7 + 1/2) / 8.
    expect(d.perClass['a']!.auc.value).toBeCloseTo(6.5 / 7, 4);
    expect(d.perClass['b']!.auc.value).toBeCloseTo(7.5 / 8, 4);
    // AUC(c) = 1/2 (every p(c) is 0); all three classes would give 0.786.
    expect(d.perClass['c']!.auc.value).toBe(0.5);
    expect(d.macroAUC.value).toBeCloseTo((6.5 / 7 + 7.5 / 8) / 2, 4);
    expect(pooled!.macroAUCClasses).toEqual({ minQueries: 5, included: ['a', 'b'], excluded: { c: 2 } });
  });

  it('prints the chance level, the macro AUC classes and balanced accuracy in the console summary', () => {
    const report = { models: [{ id: 'model', name: 'm' }], subsets: [pooled] } as unknown as EvalReport;
    const text = consoleSummary(report);
    expect(text).toContain('pooled: 13 queries, 13 patient groups; chance: balanced accuracy 0.333 (1/3 classes), accuracy 0.462 (always a)');
    expect(text).toContain('macro AUC over a, b (classes with >= 5 queries and queries of another class); left out: c (2 queries)');
    expect(text).toMatch(/vote accuracy 0\.846 {2}balanced accuracy 0\.667 {2}macro AUC 0\.933/);
    expect(text).not.toContain('left out of P@k');
  });
});

describe('queries without a relevant image', () => {
  // a1 (0 deg) and a2 (1 deg) find each other; b1 and b2 are one patient (R = 0 for both) and find a.
  // b's collection alone has no query that can search another patient.
  const items = [item(0, 'a'), item(1, 'a'), item(2, 'b', 'pb', 'solo'), item(3, 'b', 'pb', 'solo')];
  const model: ModelVectors = { id: 'model', kind: 'onnx', name: 'm', vectors: [at(0), at(1), at(90), at(91)] };
  const [pooled, ieee, solo] = evaluateModels(items, [model], { k: 1, bootstrap: 0, seed: 1 });
  const r = pooled!.results['model']!;

  it('are left out of P@k and mAP@10, counted, and kept in the vote', () => {
    // Counted as zeros, P@1 would read 0.5.
    expect(r.retrieval['P@1'].value).toBe(1);
    expect(r.retrieval['mAP@10'].value).toBe(1);
    // a1's only relevant image is a2, at rank 1: P@5 = 1/5.
    expect(r.retrieval['P@5'].value).toBe(0.2);
    expect(r.retrieval.curve[0]).toBe(1);
    expect(pooled).toMatchObject({ queries: 4, retrievalQueries: 2, queriesWithoutRelevant: 2, queriesWithoutRelevantPerClass: { b: 2 } });
    expect(r.diagnosis.accuracy.value).toBe(0.5);
    expect(r.diagnosis.perClass['a']).toMatchObject({ queries: 2, retrievalQueries: 2, 'P@5': { value: 0.2 }, 'mAP@10': { value: 1 } });
    expect(r.diagnosis.perClass['b']).toMatchObject({ queries: 2, retrievalQueries: 0, 'P@5': { value: null }, 'mAP@10': { value: null } });
    const report = { models: [{ id: 'model', name: 'm' }], subsets: [pooled, ieee, solo] } as unknown as EvalReport;
    const text = consoleSummary(report);
    expect(text).toContain('2 queries left out of P@k/mAP: no relevant image (b 2)');
    // Per collection too: ieee's two a's find each other; solo has nothing to search.
    expect(text).toMatch(
      /ieee: 2 queries, 2 patient groups; chance: balanced accuracy 1\.000 \(1\/1 classes\)[^\n]*\n {2}macro AUC: n\/a \(no class with >= 5 queries/,
    );
    expect(text).toContain('solo: 0 queries (no query has an image of another patient group to search)');
  });

  it('are in neighbours.json with relevant 0, and every query lists its neighbours with path, label and cosine', () => {
    const { subsets, searched } = searchModels(items, [model], 10);
    const file = JSON.parse(neighboursJson(items, subsets, searched, { k: 1, depth: 10 })) as {
      k: number;
      depth: number;
      models: Array<{
        id: string;
        subsets: Record<
          string,
          Array<{
            row: number;
            image_path: string;
            label: string;
            relevant: number;
            neighbours: Array<{ row: number; image_path: string; label: string; cosine: number }>;
          }>
        >;
      }>;
    };
    expect([file.k, file.depth]).toEqual([1, 10]);
    const queries = file.models[0]!.subsets['pooled']!;
    expect(queries.map((q) => [q.row, q.label, q.relevant])).toEqual([
      [0, 'a', 1],
      [1, 'a', 1],
      [2, 'b', 0],
      [3, 'b', 0],
    ]);
    // b1 searches a1, a2 (its own patient's b2 never): cosines cos(90 deg), cos(89 deg), best first.
    expect(queries[2]!.neighbours.map((n) => n.image_path)).toEqual(['1.png', '0.png']);
    expect(queries[2]!.neighbours[0]).toEqual({ row: 1, image_path: '1.png', label: 'a', cosine: Number(Math.cos((89 * Math.PI) / 180).toFixed(6)) });
  });
});

describe('--adults-only', () => {
  it('reads ages in years, with a plus, and as DICOM Age Strings', () => {
    expect([parseAge('52'), parseAge('67+'), parseAge(' 045Y'), parseAge('018M'), parseAge('003W'), parseAge('12.5')]).toEqual([
      52,
      67,
      45,
      1.5,
      3 / (365.25 / 7),
      12.5,
    ]);
    expect([parseAge(''), parseAge('early 40s'), parseAge('unknown')]).toEqual([undefined, undefined, undefined]);
    expect(ageDecision('18', 'kermany-x')).toBe('adult');
    expect(ageDecision('17', 'nih')).toBe('under-age');
    expect(ageDecision('', 'nih')).toBe('adult-without-age');
    expect(ageDecision(undefined, 'kermany-pediatric-subset')).toBe('pediatric-without-age');
  });

  it('leaves out minors and pediatric rows without an age, counts them and keeps the CSV row numbers', () => {
    const csv = join(dir, 'ages.csv');
    writeFileSync(
      csv,
      [
        'dataset,image_path,patient_id,label,age',
        'nih,a.png,p1,normal,36',
        'nih,b.png,p2,normal,12',
        'kermany-x,c.png,k1,normal,',
        'nih,d.png,p3,pneumonia,',
        'nih,e.png,p4,pneumonia,017Y',
        'nih,f.png,p5,pneumonia,67+',
      ].join('\n'),
    );
    const set = readEvalSet({ labelsFile: csv, adultsOnly: true });
    expect(set.items.map((i) => [i.row, i.imagePath])).toEqual([
      [0, 'a.png'],
      [3, 'd.png'],
      [5, 'f.png'],
    ]);
    expect(set.adultsOnly).toEqual({ underAge: 2, pediatricWithoutAge: 1, adultWithoutAge: 1, ageColumn: true });
    expect(set.leftOut).toEqual([
      { row: 1, reason: 'under 18' },
      { row: 2, reason: 'pediatric collection without age' },
      { row: 4, reason: 'under 18' },
    ]);
    // Without the flag nothing is left out and nothing is counted.
    const all = readEvalSet({ labelsFile: csv });
    expect([all.items.length, all.adultsOnly, all.leftOut]).toEqual([6, null, []]);
  });
});

describe('--save-embeddings', () => {
  it('writes N x D float32 little-endian in CSV row order, NaN where a row was not embedded, and FILE.json', async () => {
    const bytes = encodeEmbeddings(
      3,
      2,
      new Map([
        [0, Float32Array.of(0.6, 0.8)],
        [2, Float32Array.of(-1, 0)],
      ]),
    );
    expect(bytes.length).toBe(3 * 2 * 4);
    // 0.6 as float32 is 0x3F19999A: little-endian bytes 9A 99 19 3F.
    expect([...bytes.subarray(0, 4)]).toEqual([0x9a, 0x99, 0x19, 0x3f]);
    expect([bytes.readFloatLE(4), bytes.readFloatLE(16), bytes.readFloatLE(20)]).toEqual([Math.fround(0.8), -1, 0]);
    expect([bytes.readFloatLE(8), bytes.readFloatLE(12)].every(Number.isNaN)).toBe(true);
    expect(() => encodeEmbeddings(1, 3, new Map([[0, [1, 2]]]))).toThrow(/2 dimensions, not 3/);

    const file = join(dir, 'emb.f32');
    const notEmbedded = [{ row: 1, reason: 'label map' }];
    await writeEmbeddings(
      file,
      new Map([
        [0, Float32Array.of(0.6, 0.8)],
        [2, Float32Array.of(-1, 0)],
      ]),
      { labels: 'l.csv', model: { name: 'm 1.0', dir: 'models/x' }, rows: 3, dimension: 2, embedded: [0, 2], notEmbedded },
    );
    expect(readFileSync(file).equals(bytes)).toBe(true);
    const meta = JSON.parse(readFileSync(`${file}.json`, 'utf8')) as Record<string, unknown>;
    expect(meta).toMatchObject({ rows: 3, dimension: 2, dtype: 'float32', byteOrder: 'little-endian', embeddedRows: [0, 2], notEmbedded });
    expect(meta['layout']).toContain('all NaN');
  });
});
