// eval.md: the tables a reader needs, every number with its 95 % interval, the chance level beside
// the vote, and per class and per collection as well as pooled.
import { RETRIEVAL_METRICS } from './evaluate.js';
import { chanceText, formatEstimate, macroAucText, NO_QUERY, withoutRelevantText } from './summary.js';
import type { EvalReport, SubsetReport } from './types.js';

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
  out.push(
    `- Neighbour vote: k = ${p.k}; intervals: ${p.bootstrap > 0 ? `95 % cluster bootstrap over patient groups, ${p.bootstrap} resamples, seed ${p.seed}` : 'none (--bootstrap 0)'}`,
  );
  const left: string[] = [];
  const mapped = Object.entries(d.excludedByLabelMap);
  if (mapped.length > 0) left.push(`${mapped.reduce((a, [, n]) => a + n, 0)} by the label map (${mapped.map(([k, n]) => `${k}: ${n}`).join(', ')})`);
  const adults = d.adultsOnly;
  if (adults !== null) {
    const kept = adults.adultWithoutAge > 0 ? `; ${adults.adultWithoutAge} rows without a readable age kept because their collection is adult` : '';
    left.push(
      `${adults.underAge + adults.pediatricWithoutAge} by --adults-only (${adults.underAge} under 18, ${adults.pediatricWithoutAge} without a readable age in the pediatric collection${kept}${adults.ageColumn ? '' : '; the CSV has no age column'})`,
    );
  }
  if (d.excludedBySplit > 0)
    left.push(`${d.excludedBySplit} outside the selected split${d.missingFromSplit > 0 ? ` (${d.missingFromSplit} not listed in the split file)` : ''}`);
  if (d.decodeFailed.length > 0) left.push(`${d.decodeFailed.length} that could not be decoded (listed in eval.json)`);
  if (left.length > 0) out.push(`- Left out of ${d.csvRows} CSV rows: ${left.join('; ')}`);
  out.push('');

  out.push('## Models', '');
  out.push(
    table(
      ['id', 'model', 'kind', 'folder', 'embedding', 'input'],
      report.models.map((m) => [
        m.id,
        m.name,
        m.kind,
        m.dir ?? '-',
        String(m.embeddingDimension),
        m.inputSize ? `${m.inputSize[0]} x ${m.inputSize[1]} ${m.resize ?? ''}` : '32 x 32 area average',
      ]),
    ),
    '',
  );

  out.push(
    '## Overview',
    '',
    'Point estimate [95 % interval]; n/a: not defined (e.g. AUC with a single class). A value without an interval was undefined in most bootstrap resamples (a class with one or two patient groups). ' +
      'P@k and mAP@10 average the queries that have a relevant searchable image. Chance: the balanced accuracy (1 / classes among the queries) and the accuracy (always voting the most frequent class) of a vote that ignores the image.',
    '',
  );
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
        formatEstimate(r.diagnosis.balancedAccuracy),
        s.chance.classes > 0 ? `${s.chance.uniform?.toFixed(3)} · ${s.chance.majorityRate?.toFixed(3)}` : 'n/a',
        `${formatEstimate(r.diagnosis.macroAUC)} (${s.macroAUCClasses.included.length} of ${s.classes.length} classes)`,
      ]);
    }
  }
  const header = [
    'subset',
    'queries (groups)',
    'model',
    'P@1',
    'P@5',
    'P@10',
    'mAP@10',
    'vote accuracy',
    'balanced accuracy',
    'chance (balanced · accuracy)',
    'macro AUC',
  ];
  out.push(table(header, overview), '');
  for (const s of report.subsets)
    out.push(`- ${s.id}: ${s.queries === 0 ? NO_QUERY : [chanceText(s), macroAucText(s), withoutRelevantText(s)].filter((t) => t !== '').join('. ')}.`);
  out.push('');

  const diffs = report.subsets.flatMap((s) =>
    Object.entries(s.differences).map(([key, e]) => [s.id, key, ...RETRIEVAL_METRICS.map((k) => formatEstimate(e[k]))]),
  );
  if (diffs.length > 0) {
    out.push('### Difference from the raw-pixel baseline', '', 'Paired: the same bootstrap draws for both models.', '');
    out.push(table(['subset', 'comparison', 'ΔP@1', 'ΔP@5', 'ΔP@10', 'ΔmAP@10'], diffs), '');
  }

  out.push('## Subsets', '');
  for (const s of report.subsets) {
    out.push(
      `### ${subsetTitle(s)}`,
      '',
      `${s.description}. Queries per class: ${Object.entries(s.queriesPerClass)
        .map(([c, n]) => `${c} ${n}`)
        .join(', ')}.`,
    );
    if (s.queriesWithoutGallery > 0) out.push(`${s.queriesWithoutGallery} queries had no searchable image outside their patient group and are left out.`);
    out.push(s.queries === 0 ? `${NO_QUERY}.` : `${chanceText(s)}. ${macroAucText(s)}.`);
    if (s.queriesWithoutRelevant > 0) out.push(`${withoutRelevantText(s)}; the vote still counts them.`);
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
    out.push(`Per class (${s.id}; P@5 and mAP@10 over the class's queries with a relevant image):`, '');
    const perClass = Object.entries(s.results).flatMap(([id, r]) =>
      Object.entries(r.diagnosis.perClass).map(([cls, pc]) => [
        modelName(report, id),
        cls,
        pc.retrievalQueries === pc.queries ? String(pc.queries) : `${pc.queries} (${pc.retrievalQueries})`,
        formatEstimate(pc['P@5']),
        formatEstimate(pc['mAP@10']),
        formatEstimate(pc.sensitivity),
        formatEstimate(pc.specificity),
        formatEstimate(pc.auc),
      ]),
    );
    out.push(table(['model', 'class', 'queries (with a relevant image)', 'P@5', 'mAP@10', 'sensitivity', 'specificity', 'AUC (one-vs-rest)'], perClass), '');
    if (s.kind !== 'collection') {
      for (const [id, r] of Object.entries(s.results)) {
        const cm = r.diagnosis.confusion;
        out.push(`Confusion matrix, ${modelName(report, id)} (${s.id}; rows: true class, columns: voted class):`, '');
        out.push(
          table(
            ['true \\ voted', ...cm.classes],
            cm.matrix.map((row, i) => [cm.classes[i] ?? '', ...row.map(String)]),
          ),
          '',
        );
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
      Object.entries(d.collections).map(([name, c]) => [
        name,
        String(c.images),
        String(c.patientGroups),
        Object.entries(c.perClass)
          .map(([k, n]) => `${k} ${n}`)
          .join(', '),
      ]),
    ),
    '',
  );

  out.push('## Definitions', '');
  for (const [k, v] of Object.entries(p.definitions)) out.push(`- **${k}**: ${v}`);
  out.push('');
  return out.join('\n');
}
