// Assembling eval.json (and neighbours.json) from the evaluation set and the embeddings, and writing
// eval.json, eval.md, neighbours.json and the SVG figures.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvalItem, EvalSet, SplitSelection } from './dataset.js';
import { DEFINITIONS } from './definitions.js';
import { CURVE_DEPTH, evaluateSearched } from './evaluate.js';
import { renderMarkdown, type Figures } from './markdown.js';
import { neighboursJson } from './neighbours.js';
import { searchModels } from './search.js';
import { confusionMatrixSvg, precisionCurveSvg } from './svg.js';
import type { EvalReport, ModelInfo, ModelVectors } from './types.js';

export const RAW_PIXEL_ID = 'raw-pixel';

export interface ReportInput {
  labelsFile: string;
  imagesDir: string;
  labelMapFile?: string;
  split?: SplitSelection;
  adultsOnly?: boolean;
  set: EvalSet;
  /** The items that were decoded (vectors are aligned with these). */
  items: EvalItem[];
  decodeFailed: Array<{ imagePath: string; error: string }>;
  models: Array<{ info: ModelInfo; vectors: Float32Array[] }>;
  k: number;
  bootstrap: number;
  seed: number;
}

function describeSelection(split: SplitSelection | undefined): { queries: string; gallery: string } {
  if (split === undefined) {
    return {
      queries: 'every image of the labels CSV (no split restriction)',
      gallery: 'every image of the labels CSV, minus the query’s own patient group',
    };
  }
  const q = split.subset.join(', ');
  const queries = `the images whose split is ${q} in ${split.file}`;
  if (split.gallerySubset === undefined) {
    return { queries, gallery: `the same images, split ${q} in ${split.file} (queries AND gallery are restricted to it), minus the query’s own patient group` };
  }
  return {
    queries,
    gallery: `the images whose split is ${split.gallerySubset.join(', ')} in ${split.file} (not the queries’ split unless listed), minus the query’s own patient group`,
  };
}

function countBy<T>(values: readonly T[], key: (v: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[key(v)] = (out[key(v)] ?? 0) + 1;
  return out;
}

export interface BuiltReport {
  report: EvalReport;
  /** neighbours.json as text. */
  neighbours: string;
}

export function buildReport(input: ReportInput): BuiltReport {
  const { items } = input;
  const vectors: ModelVectors[] = input.models.map((m) => ({ id: m.info.id, kind: m.info.kind, name: m.info.name, vectors: m.vectors }));
  const depth = Math.max(input.k, CURVE_DEPTH);
  const searchedSubsets = searchModels(items, vectors, depth);
  const subsets = evaluateSearched(items, searchedSubsets.subsets, searchedSubsets.searched, {
    k: input.k,
    bootstrap: input.bootstrap,
    seed: input.seed,
    reference: RAW_PIXEL_ID,
  });
  const collections: EvalReport['data']['collections'] = {};
  for (const name of [...new Set(items.map((it) => it.dataset))].sort()) {
    const of = items.filter((it) => it.dataset === name);
    collections[name] = {
      images: of.length,
      patientGroups: new Set(of.map((it) => it.patientGroup)).size,
      perClass: Object.fromEntries(Object.entries(countBy(of, (it) => it.label)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    };
  }
  const selection = describeSelection(input.split);
  const report: EvalReport = {
    tool: 'precedent eval',
    protocol: {
      labels: input.labelsFile,
      images: input.imagesDir,
      labelMap: input.labelMapFile ?? null,
      adultsOnly: input.adultsOnly ?? false,
      split: input.split ? { file: input.split.file, querySubset: input.split.subset, gallerySubset: input.split.gallerySubset ?? input.split.subset } : null,
      queries: selection.queries,
      gallery: selection.gallery,
      k: input.k,
      bootstrap: input.bootstrap,
      seed: input.seed,
      definitions: DEFINITIONS,
    },
    data: {
      csvRows: input.set.rows,
      images: input.set.items.length,
      evaluated: items.length,
      queries: items.filter((it) => it.query).length,
      galleryImages: items.filter((it) => it.gallery).length,
      patientGroups: new Set(items.map((it) => it.patientGroup)).size,
      classes: [...new Set(items.map((it) => it.label))].sort(),
      collections,
      excludedByLabelMap: input.set.excludedByLabelMap,
      excludedBySplit: input.set.excludedBySplit,
      adultsOnly: input.set.adultsOnly,
      missingFromSplit: input.set.missingFromSplit,
      decodeFailed: input.decodeFailed,
    },
    models: input.models.map((m) => m.info),
    subsets,
  };
  return { report, neighbours: neighboursJson(items, searchedSubsets.subsets, searchedSubsets.searched, { k: input.k, depth }) };
}

/** A file-name-safe version of an id. */
export function fileSafe(id: string): string {
  return id.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
}

/** Writes eval.json, eval.md, neighbours.json (when given) and the figures; returns the paths written. */
export async function writeReport(outDir: string, report: EvalReport, neighbours?: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  const put = async (name: string, text: string): Promise<void> => {
    await writeFile(join(outDir, name), text);
    written.push(join(outDir, name));
  };
  const figures: Figures = { curves: {}, confusion: [] };
  const names = new Map(report.models.map((m) => [m.id, m.name]));
  for (const s of report.subsets) {
    const file = `pk-${fileSafe(s.id)}.svg`;
    const series = Object.entries(s.results).map(([id, r]) => ({ name: names.get(id) ?? id, values: r.retrieval.curve }));
    await put(file, precisionCurveSvg(`P@k, ${s.id} (${s.queries} queries)`, series));
    figures.curves[s.id] = file;
    if (s.kind === 'collection') continue;
    for (const [id, r] of Object.entries(s.results)) {
      const cm = r.diagnosis.confusion;
      const cmFile = `confusion-${fileSafe(id)}-${fileSafe(s.id)}.svg`;
      await put(cmFile, confusionMatrixSvg(`${names.get(id) ?? id}: k-NN vote, ${s.id}`, cm.classes, cm.matrix));
      figures.confusion.push({ subset: s.id, model: names.get(id) ?? id, file: cmFile });
    }
  }
  await put('eval.json', `${JSON.stringify(report, null, 2)}\n`);
  await put('eval.md', renderMarkdown(report, figures));
  if (neighbours !== undefined) await put('neighbours.json', neighbours);
  return written;
}
