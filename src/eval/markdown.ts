// eval.md: the tables a reader needs, every number with its 95 % interval.
import { RETRIEVAL_METRICS } from './evaluate.js';
import type { Estimate, EvalReport, SubsetReport } from './types.js';

export function formatEstimate(e: Estimate | undefined, digits = 3): string {
  if (e === undefined || e.value === null) return 'n/a';
  const v = e.value.toFixed(digits);
  return e.ci95 ? `${v} [${e.ci95[0].toFixed(digits)}, ${e.ci95[1].toFixed(digits)}]` : v;
}

function cellText(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function table(header: string[], rows: string[][]): string {
  const lines = [`| ${header.map(cellText).join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const r of rows) lines.push(`| ${r.map(cellText).join(' | ')} |`);
  return lines.join('\n');
}

function modelName(report: EvalReport, id: string): string {
  return report.models.find((m) => m.id === id)?.name ?? id;
}

function subsetTitle(s: SubsetReport): string {
  return `${s.id} (${s.queries} queries, ${s.queryPatientGroups} patient groups; gallery ${s.galleryImages} images)`;
}

export interface Figures {
  curves: Record<string, string>;
  confusion: Array<{ subset: string; model: string; file: string }>;
}

export function renderMarkdown(report: EvalReport, figures: Figures): string {
  const p = report.protocol;
  const d = report.data;
  const out: string[] = [];
  out.push('# Retrieval evaluation', '');
  out.push(
    `${d.evaluated} images evaluated (${d.queries} queries, ${d.galleryImages} searchable gallery images, ${d.patientGroups} patient groups) ` +
      `from \`${p.labels}\`, images under \`${p.images}\`. Classes: ${d.classes.join(', ')}.`,
    '',
  );
  out.push(`- Queries: ${p.queries}`, `- Searchable gallery: ${p.gallery}`);
  out.push(`- Labels: ${p.labelMap ? `classes from the label map \`${p.labelMap}\`` : 'the CSV `label` column as is'}`);
  out.push(`- Neighbour vote: k = ${p.k}; intervals: ${p.bootstrap > 0 ? `95 % cluster bootstrap over patient groups, ${p.bootstrap} resamples, seed ${p.seed}` : 'none (--bootstrap 0)'}`);
  const left: string[] = [];
  const mapped = Object.entries(d.excludedByLabelMap);
  if (mapped.length > 0) left.push(`${mapped.reduce((a, [, n]) => a + n, 0)} by the label map (${mapped.map(([k, n]) => `${k}: ${n}`).join(', ')})`);
  if (d.excludedBySplit > 0) left.push(`${d.excludedBySplit} outside the selected split${d.missingFromSplit > 0 ? ` (${d.missingFromSplit} not listed in the split file)` : ''}`);
  if (d.decodeFailed.length > 0) left.push(`${d.decodeFailed.length} that could not be decoded (listed in eval.json)`);
  if (left.length > 0) out.push(`- Left out of ${d.csvRows} CSV rows: ${left.join('; ')}`);
  out.push('');

  out.push('## Models', '');
  out.push(
    table(
      ['id', 'model', 'kind', 'folder', 'embedding', 'input'],
      report.models.map((m) => [m.id, m.name, m.kind, m.dir ?? '-', String(m.embeddingDimension), m.inputSize ? `${m.inputSize[0]} x ${m.inputSize[1]} ${m.resize ?? ''}` : '32 x 32 area average']),
    ),
    '',
  );

  out.push('## Overview', '', 'Point estimate [95 % interval]; n/a: not defined (e.g. AUC with a single class). A value without an interval was undefined in most bootstrap resamples (a class with one or two patient groups).', '');
  const overview: string[][] = [];
  for (const s of report.subsets) {
    for (const m of report.models) {
      const r = s.results[m.id];
      if (!r) continue;
      overview.push([
        s.id,
        `${s.queries} (${s.queryPatientGroups})`,
        m.name,
        ...RETRIEVAL_METRICS.map((k) => formatEstimate(r.retrieval[k])),
        formatEstimate(r.diagnosis.accuracy),
        formatEstimate(r.diagnosis.macroAUC),
      ]);
    }
  }
  out.push(table(['subset', 'queries (groups)', 'model', 'P@1', 'P@5', 'P@10', 'mAP@10', 'vote accuracy', 'macro AUC'], overview), '');

  const diffs = report.subsets.flatMap((s) => Object.entries(s.differences).map(([key, e]) => [s.id, key, ...RETRIEVAL_METRICS.map((k) => formatEstimate(e[k]))]));
  if (diffs.length > 0) {
    out.push('### Difference from the raw-pixel baseline', '', 'Paired: the same bootstrap draws for both models.', '');
    out.push(table(['subset', 'comparison', 'ΔP@1', 'ΔP@5', 'ΔP@10', 'ΔmAP@10'], diffs), '');
  }

  out.push('## Subsets', '');
  for (const s of report.subsets) {
    out.push(`### ${subsetTitle(s)}`, '', `${s.description}. Queries per class: ${Object.entries(s.queriesPerClass).map(([c, n]) => `${c} ${n}`).join(', ')}.`);
    if (s.queriesWithoutGallery > 0) out.push(`${s.queriesWithoutGallery} queries had no searchable image outside their patient group and are left out.`);
    if (s.queriesWithoutRelevant > 0) out.push(`${s.queriesWithoutRelevant} queries have no searchable image of their class (their P@k and AP@10 are 0).`);
    out.push('');
    out.push(
      table(
        ['model', 'P@1', 'P@5', 'P@10', 'mAP@10', 'accuracy', 'balanced accuracy', 'macro AUC'],
        Object.entries(s.results).map(([id, r]) => [
          modelName(report, id),
          ...RETRIEVAL_METRICS.map((k) => formatEstimate(r.retrieval[k])),
          formatEstimate(r.diagnosis.accuracy),
          formatEstimate(r.diagnosis.balancedAccuracy),
          formatEstimate(r.diagnosis.macroAUC),
        ]),
      ),
      '',
    );
    if (s.kind !== 'collection') {
      for (const [id, r] of Object.entries(s.results)) {
        out.push(`Per class, ${modelName(report, id)} (${s.id}):`, '');
        out.push(
          table(
            ['class', 'queries', 'sensitivity', 'specificity', 'AUC (one-vs-rest)'],
            Object.entries(r.diagnosis.perClass).map(([cls, pc]) => [cls, String(pc.queries), formatEstimate(pc.sensitivity), formatEstimate(pc.specificity), formatEstimate(pc.auc)]),
          ),
          '',
        );
        const cm = r.diagnosis.confusion;
        out.push(`Confusion matrix, ${modelName(report, id)} (${s.id}; rows: true class, columns: voted class):`, '');
        out.push(table(['true \\ voted', ...cm.classes], cm.matrix.map((row, i) => [cm.classes[i] ?? '', ...row.map(String)])), '');
      }
    }
    const curve = figures.curves[s.id];
    if (curve) out.push(`![P@k, ${s.id}](${curve})`, '');
  }

  if (figures.confusion.length > 0) {
    out.push('## Figures', '');
    for (const f of figures.confusion) out.push(`![confusion matrix, ${f.model}, ${f.subset}](${f.file})`);
    out.push('');
  }

  out.push('## Data', '');
  out.push(
    table(
      ['collection', 'images', 'patient groups', 'images per class'],
      Object.entries(d.collections).map(([name, c]) => [name, String(c.images), String(c.patientGroups), Object.entries(c.perClass).map(([k, n]) => `${k} ${n}`).join(', ')]),
    ),
    '',
  );

  out.push('## Definitions', '');
  for (const [k, v] of Object.entries(p.definitions)) out.push(`- **${k}**: ${v}`);
  out.push('');
  return out.join('\n');
}
