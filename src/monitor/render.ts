// `precedent monitor`'s outputs: the console / Markdown table (window and per week), an SVG trend of
// F1 and AUC per week with their intervals, and the window's confusion matrix (eval/svg.ts).
import { confusionMatrixSvg, escapeXml } from '../eval/svg.js';
import { MONITOR_METRICS, type MonitorFigures } from './figures.js';

export interface MonitorReport {
  threshold: number;
  since: string;
  window: MonitorFigures;
  weeks: Array<{ week: string; figures: MonitorFigures }>;
}

const cell = (f: MonitorFigures, m: (typeof MONITOR_METRICS)[number]): string => {
  const v = f.values[m];
  const i = f.intervals[m];
  return v === undefined ? 'n/a' : `${v.toFixed(3)}${i ? ` [${i.lo.toFixed(3)}, ${i.hi.toFixed(3)}]` : ''}`;
};

export function monitorTable(report: MonitorReport): string {
  const head = `| period | pairs | abnormal by report | ${MONITOR_METRICS.map((m) => ({ sensitivity: 'sensitivity', specificity: 'specificity', ppv: 'PPV', f1: 'F1', auc: 'AUC' })[m]).join(' | ')} |`;
  const row = (name: string, f: MonitorFigures) =>
    `| ${name} | ${f.pairs} | ${f.confusion.tp + f.confusion.fn} | ${MONITOR_METRICS.map((m) => cell(f, m)).join(' | ')} |`;
  return [
    head,
    `|---|---:|---:|${MONITOR_METRICS.map(() => '---').join('|')}|`,
    row(`since ${report.since}`, report.window),
    ...report.weeks.map((w) => row(w.week, w.figures)),
  ].join('\n');
}

export function monitorMarkdown(report: MonitorReport): string {
  const c = report.window.confusion;
  return [
    '# Precedent against the radiologists',
    '',
    `Analysed studies whose final report arrived since ${report.since}. The node calls a study abnormal when its`,
    `neighbour vote gives \`normal\` less than ${(1 - report.threshold).toFixed(2)} (probability of abnormal ≥ ${report.threshold}); the report's`,
    'label comes from the report rules (docs/reports.md). 95 % bootstrap intervals over studies.',
    '',
    monitorTable(report),
    '',
    `Confusion (window): ${c.tp} true positive, ${c.fp} false positive, ${c.fn} false negative, ${c.tn} true negative.`,
    '',
    '![F1 and AUC per week](trend.svg)',
    '',
    '![Confusion matrix](confusion.svg)',
    '',
  ].join('\n');
}

/** F1 and AUC per week with their intervals as bands; y from 0 to 1. */
export function trendSvg(report: MonitorReport): string {
  const [width, height, left, right, top, bottom] = [720, 360, 60, 120, 40, 60];
  const w = width - left - right;
  const h = height - top - bottom;
  const n = report.weeks.length;
  const x = (i: number) => left + (n <= 1 ? w / 2 : (i * w) / (n - 1));
  const y = (v: number) => top + h * (1 - v);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<text x="${left}" y="24" font-size="14">${escapeXml('Agreement with the reports per week')}</text>`,
    `<rect x="${left}" y="${top}" width="${w}" height="${h}" fill="none" stroke="#888"/>`,
    ...[0, 0.25, 0.5, 0.75, 1].map(
      (v) => `<text x="${left - 8}" y="${y(v) + 4}" text-anchor="end">${v}</text><line x1="${left}" x2="${left + w}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`,
    ),
    ...report.weeks.map((wk, i) => `<text x="${x(i)}" y="${top + h + 18}" text-anchor="middle">${escapeXml(wk.week)}</text>`),
  ];
  (['f1', 'auc'] as const).forEach((m, s) => {
    const colour = s === 0 ? '#0072B2' : '#D55E00';
    const points = report.weeks.flatMap((wk, i) => (wk.figures.values[m] === undefined ? [] : [[x(i), y(wk.figures.values[m]!)] as const]));
    report.weeks.forEach((wk, i) => {
      const iv = wk.figures.intervals[m];
      if (iv) parts.push(`<line x1="${x(i)}" x2="${x(i)}" y1="${y(iv.hi)}" y2="${y(iv.lo)}" stroke="${colour}" stroke-opacity="0.4" stroke-width="6"/>`);
    });
    if (points.length > 0)
      parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' ')}"/>`);
    parts.push(`<text x="${left + w + 12}" y="${top + 16 + s * 18}" fill="${colour}">${m === 'f1' ? 'F1' : 'AUC'}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

export function windowConfusionSvg(report: MonitorReport): string {
  const c = report.window.confusion;
  // Rows: the report's label; columns: the node's call (eval/svg.ts convention).
  return confusionMatrixSvg(
    'Report label (rows) against the node (columns)',
    ['normal', 'abnormal'],
    [
      [c.tn, c.fp],
      [c.fn, c.tp],
    ],
  );
}
