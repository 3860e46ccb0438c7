// Figures as hand-written SVG (no plotting library): the P@k curve of every model for one subset,
// and a confusion-matrix heatmap of one model's neighbour vote.

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

const fmt = (v: number): string => (Math.round(v * 100) / 100).toString();

/** Colour-blind-safe palette (Okabe-Ito). */
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000'];

export interface CurveSeries {
  name: string;
  /** P@1..P@n. */
  values: number[];
}

/** Line chart of P@k (k = 1..n) for each model; y from 0 to 1. */
export function precisionCurveSvg(title: string, series: readonly CurveSeries[]): string {
  const width = 640;
  const height = 400;
  const left = 60;
  const right = 220;
  const top = 40;
  const bottom = 50;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const n = Math.max(1, ...series.map((s) => s.values.length));
  const x = (k: number): number => left + (n === 1 ? plotW / 2 : ((k - 1) / (n - 1)) * plotW);
  const y = (v: number): number => top + (1 - Math.min(1, Math.max(0, v))) * plotH;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<title>${escapeXml(title)}</title>`);
  parts.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(`<text x="${left}" y="${top - 16}" font-size="14" font-weight="bold">${escapeXml(title)}</text>`);
  for (let t = 0; t <= 5; t++) {
    const v = t / 5;
    parts.push(`<line x1="${left}" y1="${fmt(y(v))}" x2="${left + plotW}" y2="${fmt(y(v))}" stroke="#dddddd"/>`);
    parts.push(`<text x="${left - 8}" y="${fmt(y(v) + 4)}" text-anchor="end">${v.toFixed(1)}</text>`);
  }
  for (let k = 1; k <= n; k++) {
    parts.push(`<line x1="${fmt(x(k))}" y1="${top + plotH}" x2="${fmt(x(k))}" y2="${top + plotH + 5}" stroke="#333333"/>`);
    parts.push(`<text x="${fmt(x(k))}" y="${top + plotH + 18}" text-anchor="middle">${k}</text>`);
  }
  parts.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333333"/>`);
  parts.push(`<text x="${left + plotW / 2}" y="${height - 10}" text-anchor="middle">k (neighbours retrieved)</text>`);
  parts.push(`<text x="16" y="${top + plotH / 2}" text-anchor="middle" transform="rotate(-90 16 ${top + plotH / 2})">P@k (same class)</text>`);
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const points = s.values.map((v, k) => `${fmt(x(k + 1))},${fmt(y(v))}`).join(' ');
    parts.push(`<polyline points="${points}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    s.values.forEach((v, k) =>
      parts.push(
        `<circle cx="${fmt(x(k + 1))}" cy="${fmt(y(v))}" r="3" fill="${colour}"><title>${escapeXml(`${s.name}: P@${k + 1} = ${v.toFixed(3)}`)}</title></circle>`,
      ),
    );
    const ly = top + 10 + i * 20;
    parts.push(`<line x1="${left + plotW + 15}" y1="${ly}" x2="${left + plotW + 35}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`);
    parts.push(`<text x="${left + plotW + 40}" y="${ly + 4}">${escapeXml(truncate(s.name, 24))}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Heatmap of a confusion matrix (rows: true class, columns: voted class), shaded by row share. */
export function confusionMatrixSvg(title: string, classes: readonly string[], matrix: readonly (readonly number[])[]): string {
  const cell = 80;
  const left = 170;
  const top = 90;
  const n = classes.length;
  const width = left + n * cell + 30;
  const height = top + n * cell + 50;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<title>${escapeXml(title)}</title>`);
  parts.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(`<text x="10" y="22" font-size="14" font-weight="bold">${escapeXml(title)}</text>`);
  parts.push(`<text x="${left + (n * cell) / 2}" y="${top - 40}" text-anchor="middle" font-weight="bold">voted class</text>`);
  parts.push(
    `<text x="14" y="${top + (n * cell) / 2}" text-anchor="middle" font-weight="bold" transform="rotate(-90 14 ${top + (n * cell) / 2})">true class</text>`,
  );
  classes.forEach((cls, j) => {
    parts.push(`<text x="${left + j * cell + cell / 2}" y="${top - 10}" text-anchor="middle">${escapeXml(truncate(cls, 12))}</text>`);
  });
  classes.forEach((cls, i) => {
    const row = matrix[i] ?? [];
    const total = row.reduce((a, b) => a + b, 0);
    parts.push(`<text x="${left - 8}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${escapeXml(truncate(cls, 18))}</text>`);
    classes.forEach((_, j) => {
      const count = row[j] ?? 0;
      const share = total > 0 ? count / total : 0;
      // White to dark blue by the share of the row.
      const r = Math.round(255 - share * (255 - 8));
      const g = Math.round(255 - share * (255 - 69));
      const b = Math.round(255 - share * (255 - 148));
      const ink = share > 0.5 ? '#ffffff' : '#000000';
      const x = left + j * cell;
      const y = top + i * cell;
      parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="rgb(${r},${g},${b})" stroke="#888888"/>`);
      parts.push(`<text x="${x + cell / 2}" y="${y + cell / 2 - 2}" text-anchor="middle" fill="${ink}" font-size="16">${count}</text>`);
      parts.push(
        `<text x="${x + cell / 2}" y="${y + cell / 2 + 16}" text-anchor="middle" fill="${ink}">${total > 0 ? `${Math.round(share * 100)}%` : ''}</text>`,
      );
    });
  });
  parts.push(`<text x="${left}" y="${height - 15}" fill="#555555">shade and % = share of the true class's queries</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
