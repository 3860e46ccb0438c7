// `precedent eval` end to end: the built CLI on 40 real shared radiographs from four collections,
// four of them as DICOM files (built by the fixture builder from the same rows, in several transfer
// syntaxes), the test ONNX model next to a letterbox variant and the raw-pixel baseline.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Estimate, EvalReport } from '../src/eval/index.js';
import { buildFixtures, cxrDir, readSharedLabels, type FixtureSpec } from './fixtures/build.js';
import { REPO_ROOT } from './fixtures/shared.js';
import { testModelDir } from './helpers/model-fixture.js';

const run = promisify(execFile);

/** Rows per (dataset, label) taken from labels.csv, in file order: 40 in all. */
const QUOTAS: Record<string, Record<string, number>> = {
  'kermany-pediatric-subset': { 'normal/': 4, 'other pneumonia/bacterial': 4, 'other pneumonia/viral': 4 },
  'ieee8023-covid-chestxray': { 'COVID-19/viral': 8, 'normal/': 4, 'other pneumonia/bacterial': 2, 'other pneumonia/viral': 2 },
  'actualmed-covid-chestxray': { 'COVID-19/viral': 3, 'normal/': 3 },
  'figure1-covid-chestxray': { 'COVID-19/viral': 4, 'normal/': 2 },
};
const DICOM: Array<Pick<FixtureSpec, 'variant' | 'syntax'>> = [
  { variant: 'dx8', syntax: 'jpeg-baseline' },
  { variant: 'dx12m1', syntax: 'jpegls' },
  { variant: 'cr12m1', syntax: 'ele' },
  { variant: 'dx16', syntax: 'rle' },
];

let dir: string;
let labelsCsv: string;
let splitCsv: string;
let labelMap: string;
const model = testModelDir();
const letterbox = testModelDir({ resize: 'letterbox' });

function csvField(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** The labelled images and the model every run here evaluates. */
const dataset = (): string[] => ['--labels', labelsCsv, '--images', cxrDir(), '--model', model];
/** The seeded run with a letterbox baseline, written to `out` (run twice: the same eval.json). */
const seededArgs = (out: string): string[] => [...dataset(), '--baseline', letterbox, '--out', out, '--bootstrap', '200', '--seed', '3', '-k', '5'];

async function precedentEval(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ['bin/precedent.js', 'eval', ...args], { cwd: REPO_ROOT, maxBuffer: 16 << 20, timeout: 240_000 });
}

function readReport(out: string): EvalReport {
  return JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8')) as EvalReport;
}

/** Checks that every start tag has its end tag (a small well-formedness check of our own SVG). */
function expectWellFormedSvg(text: string): void {
  expect(text.startsWith('<svg')).toBe(true);
  expect(text.trimEnd().endsWith('</svg>')).toBe(true);
  const stack: string[] = [];
  for (const m of text.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, close, name, selfClosing] = m;
    if (selfClosing) continue;
    if (close) expect(stack.pop()).toBe(name);
    else stack.push(name ?? '');
  }
  expect(stack).toEqual([]);
  expect(text).not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
}

function expectUnit(e: Estimate): void {
  expect(e.value).not.toBeNull();
  expect(e.value).toBeGreaterThanOrEqual(0);
  expect(e.value).toBeLessThanOrEqual(1);
  if (e.ci95) {
    expect(e.ci95[0]).toBeGreaterThanOrEqual(0);
    expect(e.ci95[1]).toBeLessThanOrEqual(1);
    expect(e.ci95[0]).toBeLessThanOrEqual(e.ci95[1]);
  }
}

beforeAll(async () => {
  if (!existsSync(join(REPO_ROOT, 'dist', 'commands', 'eval.js'))) throw new Error('dist/commands/eval.js is missing: run `npm run build` first');
  dir = mkdtempSync(join(tmpdir(), 'precedent-eval-cli-'));
  const all = readSharedLabels();
  const header = Object.keys(all[0] ?? {});
  const left = JSON.parse(JSON.stringify(QUOTAS)) as typeof QUOTAS;
  const picked: number[] = [];
  all.forEach((r, i) => {
    const q = left[r['dataset'] ?? ''];
    const key = `${r['label']}/${r['label_group']}`;
    if (q && (q[key] ?? 0) > 0) {
      q[key]! -= 1;
      picked.push(i);
    }
  });
  expect(picked).toHaveLength(40);
  // Four rows (one per collection) become DICOM files; the CSV points at them by absolute path.
  const dicomRows = Object.keys(QUOTAS).map((name) => picked.find((i) => all[i]?.['dataset'] === name)!);
  const fixtures = await buildFixtures(
    dicomRows.map((imageIndex, i) => ({ ...DICOM[i]!, imageIndex, maxSize: 512 })),
    join(dir, 'dicom'),
  );
  const rows = picked.map((i) => {
    const r = { ...all[i]! };
    const at = dicomRows.indexOf(i);
    if (at >= 0) r['image_path'] = fixtures[at]!.path;
    return r;
  });
  labelsCsv = join(dir, 'labels.csv');
  writeFileSync(labelsCsv, [header.join(','), ...rows.map((r) => header.map((h) => csvField(r[h] ?? '')).join(','))].join('\n') + '\n');
  // Split by patient group: every other group is test.
  const groups = [...new Set(rows.map((r) => r['patient_group']))];
  splitCsv = join(dir, 'split.csv');
  writeFileSync(
    splitCsv,
    ['image_path,split', ...rows.map((r) => `${csvField(r['image_path'] ?? '')},${groups.indexOf(r['patient_group']) % 2 === 0 ? 'test' : 'train'}`)].join(
      '\n',
    ) + '\n',
  );
  labelMap = join(dir, 'label-map.json');
  writeFileSync(
    labelMap,
    JSON.stringify({ 'COVID-19': 'COVID-19', normal: 'normal', 'other pneumonia/viral': 'viral', 'other pneumonia/bacterial': 'bacterial' }),
  );
}, 240_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('precedent eval (built CLI)', () => {
  let out: string;
  let report: EvalReport;
  let stdout: string;

  beforeAll(async () => {
    out = join(dir, 'out-a');
    const args = seededArgs(out);
    ({ stdout } = await precedentEval(args));
    report = readReport(out);
  }, 240_000);

  it('embeds all 40 images, the DICOM ones included, with three models side by side', () => {
    expect(stdout).toContain('pooled: 40 queries');
    expect(report.data).toMatchObject({ csvRows: 40, images: 40, evaluated: 40, queries: 40, decodeFailed: [] });
    expect(report.models.map((m) => [m.id, m.kind])).toEqual([
      ['model', 'onnx'],
      ['raw-pixel', 'raw-pixel'],
      ['baseline-1', 'onnx'],
    ]);
    expect(report.models[0]).toMatchObject({ dir: model, embeddingDimension: 32, resize: 'stretch', device: 'cpu' });
    expect(report.models[2]).toMatchObject({ dir: letterbox, resize: 'letterbox' });
    expect(report.protocol).toMatchObject({ k: 5, bootstrap: 200, seed: 3, split: null, labelMap: null });
    expect(report.protocol.definitions['mAP@10']).toContain('min(10, R)');
    expect(report.data.classes).toEqual(['COVID-19', 'normal', 'other pneumonia']);
  });

  it('reports pooled, adult and per-collection subsets with values in [0, 1]', () => {
    expect(report.subsets.map((s) => s.id)).toEqual([
      'pooled',
      'adult',
      'actualmed-covid-chestxray',
      'figure1-covid-chestxray',
      'ieee8023-covid-chestxray',
      'kermany-pediatric-subset',
    ]);
    const pooled = report.subsets[0]!;
    const adult = report.subsets[1]!;
    expect(adult.queries + (report.subsets.at(-1)?.queries ?? 0)).toBe(pooled.queries);
    for (const s of report.subsets) {
      expect(Object.keys(s.results)).toEqual(['model', 'raw-pixel', 'baseline-1']);
      for (const r of Object.values(s.results)) {
        for (const metric of ['P@1', 'P@5', 'P@10', 'mAP@10'] as const) expectUnit(r.retrieval[metric]);
        expect(r.retrieval.curve).toHaveLength(10);
        for (const v of r.retrieval.curve) expect(v).toBeGreaterThanOrEqual(0);
        expect(r.retrieval.curve[0]).toBe(r.retrieval['P@1'].value);
        expectUnit(r.diagnosis.accuracy);
        for (const pc of Object.values(r.diagnosis.perClass)) {
          if (pc.sensitivity.value !== null) expectUnit(pc.sensitivity);
          if (pc.specificity.value !== null) expectUnit(pc.specificity);
        }
        const total = r.diagnosis.confusion.matrix.flat().reduce((a, b) => a + b, 0);
        expect(total).toBe(s.queries);
      }
      expect(Object.keys(s.differences)).toEqual(['model-vs-raw-pixel', 'baseline-1-vs-raw-pixel']);
    }
    // 40 images in 30-odd groups: the pooled intervals exist and are not degenerate.
    const p5 = pooled.results['model']?.retrieval['P@5'];
    expect(p5?.ci95).not.toBeNull();
    expect((p5?.ci95?.[1] ?? 0) - (p5?.ci95?.[0] ?? 0)).toBeGreaterThan(0);
    expectUnit(pooled.results['model']!.diagnosis.macroAUC);
  });

  it('writes eval.md and well-formed SVG figures', () => {
    const md = readFileSync(join(out, 'eval.md'), 'utf8');
    expect(md).toMatch(/^# Retrieval evaluation/);
    expect(md).toContain(
      '| subset | queries (groups) | model | P@1 | P@5 | P@10 | mAP@10 | vote accuracy | balanced accuracy | chance (balanced · accuracy) | macro AUC |',
    );
    // Per class for every subset, collections included (never only pooled).
    expect(md).toContain('Per class (kermany-pediatric-subset;');
    expect(existsSync(join(out, 'neighbours.json'))).toBe(true);
    expect(md).toContain('Confusion matrix, precedent-test-embedder');
    expect(md).toContain('AP@10 = sum_{k<=10} P@k * rel_k / min(10, R)');
    const svgs = readdirSync(out).filter((f) => f.endsWith('.svg'));
    expect(svgs).toContain('pk-pooled.svg');
    expect(svgs).toContain('pk-adult.svg');
    expect(svgs).toContain('confusion-model-pooled.svg');
    expect(svgs).toContain('confusion-raw-pixel-adult.svg');
    // P@k per subset (6) + confusion matrices of 3 models for pooled and adult (6).
    expect(svgs).toHaveLength(12);
    for (const f of svgs) expectWellFormedSvg(readFileSync(join(out, f), 'utf8'));
    expect(readFileSync(join(out, 'pk-pooled.svg'), 'utf8').match(/<polyline/g)).toHaveLength(3);
    for (const f of svgs) expect(md).toContain(`](${f})`);
  });

  it('gives the same eval.json for the same seed', async () => {
    const again = join(dir, 'out-b');
    await precedentEval(seededArgs(again));
    expect(readFileSync(join(again, 'eval.json'), 'utf8')).toBe(readFileSync(join(out, 'eval.json'), 'utf8'));
  }, 240_000);

  it('restricts queries and gallery to a split and applies a label map', async () => {
    const split = join(dir, 'out-split');
    await precedentEval([...dataset(), '--split', splitCsv, '--subset', 'test', '--label-map', labelMap, '--out', split, '--bootstrap', '100']);
    const r = readReport(split);
    expect(r.protocol.split).toEqual({ file: splitCsv, querySubset: ['test'], gallerySubset: ['test'] });
    expect(r.protocol.gallery).toContain('queries AND gallery are restricted');
    expect(r.data.evaluated).toBeLessThan(40);
    expect(r.data.evaluated + r.data.excludedBySplit).toBe(40);
    expect(r.data.classes).toEqual(['COVID-19', 'bacterial', 'normal', 'viral']);
    expect(r.models.map((m) => m.id)).toEqual(['model', 'raw-pixel']);
    expect(r.subsets[0]?.galleryImages).toBe(r.data.evaluated);

    // The archive protocol: test queries searching the train images only.
    const archive = join(dir, 'out-archive');
    await precedentEval([...dataset(), '--split', splitCsv, '--subset', 'test', '--gallery-subset', 'train', '--out', archive, '--bootstrap', '100']);
    const a = readReport(archive);
    expect(a.protocol.split?.gallerySubset).toEqual(['train']);
    expect(a.data.evaluated).toBe(40);
    expect(a.subsets[0]?.queries).toBe(40 - (a.subsets[0]?.galleryImages ?? 0));
    expect(a.protocol.gallery).toContain('split is train');
  }, 240_000);

  it('exits with status 2 and a message for bad input', async () => {
    await expect(precedentEval(['--labels', join(dir, 'missing.csv'), '--images', cxrDir(), '--model', model, '--out', join(dir, 'x')])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('cannot read the labels CSV') as unknown,
    });
    await expect(precedentEval([...dataset(), '--subset', 'test'])).rejects.toMatchObject({ code: 2 });
  });
});
