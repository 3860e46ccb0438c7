#!/usr/bin/env node
// Builds the starter reference archive shipped in archive/reference/: public chest radiographs whose
// licences allow redistribution, as small grayscale thumbnails with their labels, for a first run
// that has similar cases before the site imports its own archive.
//   - NIH ChestX-ray14 adults (../shared/data/cxr-nih; "unrestricted use" with citation);
//   - Kermany pediatric films (../shared/data/cxr rows whose dataset starts with "kermany"; CC BY 4.0).
// Never the COVID-era collections of ../shared/data/cxr (research-only licences).
// Selection is deterministic (hash order of the image path), one image per patient, the same number
// per source and label (--per-group, default 100), so the archive is balanced and rebuilds the same.
// Usage: npm run build && node scripts/build-reference-archive.mjs [--shared DIR] [--out DIR] [--per-group N]
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Buffer } from 'node:buffer';
import jpeg from 'jpeg-js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const shared = resolve(opt('shared', join(root, '..', 'shared')));
const out = resolve(opt('out', join(root, 'archive', 'reference')));
const perGroup = Number(opt('per-group', '100'));
const THUMB = 256; // long side, px
const QUALITY = 80;

const { parseCsv } = await import(join(root, 'dist', 'shared', 'csv.js')).catch(() => {
  throw new Error('dist/ is missing: run `npm run build` first');
});

function readRows(file) {
  const [header, ...rows] = parseCsv(readFileSync(file, 'utf8'));
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
}

const SOURCES = [
  {
    dir: join(shared, 'data', 'cxr-nih'),
    keep: (r) => r.dataset === 'nih-cxr14' && Number(r.age) >= 18,
    licence: 'NIH ChestX-ray14: unrestricted use with citation (Wang et al., CVPR 2017)',
  },
  {
    dir: join(shared, 'data', 'cxr'),
    keep: (r) => r.dataset.startsWith('kermany'),
    licence: 'CC BY 4.0 (original Kermany/Mendeley release)',
  },
];

/** Area-average downscale of 8-bit RGBA to grey, long side THUMB px (never enlarged). */
function thumbnail(img) {
  const scale = Math.min(1, THUMB / Math.max(img.width, img.height));
  const w = Math.max(1, Math.round(img.width * scale));
  const h = Math.max(1, Math.round(img.height * scale));
  const data = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) {
    const y0 = Math.floor((y * img.height) / h);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * img.height) / h));
    for (let x = 0; x < w; x++) {
      const x0 = Math.floor((x * img.width) / w);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * img.width) / w));
      let sum = 0;
      for (let yy = y0; yy < y1; yy++)
        for (let xx = x0; xx < x1; xx++) {
          const i = (yy * img.width + xx) * 4;
          sum += 0.299 * img.data[i] + 0.587 * img.data[i + 1] + 0.114 * img.data[i + 2];
        }
      const v = Math.round(sum / ((y1 - y0) * (x1 - x0)));
      const o = (y * w + x) * 4;
      data[o] = data[o + 1] = data[o + 2] = v;
      data[o + 3] = 255;
    }
  }
  return { width: w, height: h, data };
}

const LICENCE_TEXT = `# Starter reference archive: licences and citations

Thumbnails (long side ${THUMB} px, grayscale JPEG) of public chest radiographs, with their labels
(labels.csv, column \`license\` per image). They are reference cases for similar-case retrieval, not
patients of this site. Redistributed under their licences:

- NIH Clinical Center ChestX-ray14 (adults, rows \`nih-cxr14\`): "the usage of the data set is
  unrestricted"; acknowledge the NIH Clinical Center and cite Wang X, Peng Y, Lu L, Lu Z, Bagheri M,
  Summers RM. ChestX-ray8: Hospital-scale Chest X-ray Database and Benchmarks on Weakly-Supervised
  Classification and Localization of Common Thorax Diseases. CVPR 2017. Labels are text-mined from
  reports (about 90% accurate): "other pneumonia" = NIH label Pneumonia, "normal" = No Finding.
- Kermany pediatric chest radiographs (rows \`kermany-*\`): Kermany D, Zhang K, Goldbaum M. Labeled
  Optical Coherence Tomography (OCT) and Chest X-Ray Images for Classification. Mendeley Data, v2, 2018.
  CC BY 4.0. "other pneumonia" = bacterial or viral pneumonia (column \`label_group\`).
`;

const COLUMNS = ['dataset', 'image_path', 'patient_id', 'patient_group', 'label', 'label_group', 'view', 'age', 'sex', 'width', 'height', 'license'];
const csvField = (v) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const order = (r) => createHash('sha256').update(r.image_path).digest('hex');

rmSync(join(out, 'images'), { recursive: true, force: true });
mkdirSync(join(out, 'images'), { recursive: true });
const lines = [COLUMNS.join(',')];
const counts = [];
let bytes = 0;
for (const source of SOURCES) {
  const rows = readRows(join(source.dir, 'labels.csv')).filter(source.keep);
  const labels = [...new Set(rows.map((r) => r.label))].sort();
  // One image per patient across labels too (an NIH patient can have a normal and a pneumonia film).
  const seen = new Set();
  for (const label of labels) {
    const picked = rows
      .filter((r) => r.label === label)
      .sort((a, b) => (order(a) < order(b) ? -1 : 1))
      .filter((r) => !seen.has(r.patient_id) && seen.add(r.patient_id))
      .slice(0, perGroup);
    if (picked.length < perGroup) throw new Error(`${source.dir}: only ${picked.length} patients labelled ${label}, asked for ${perGroup}`);
    for (const r of picked) {
      const img = thumbnail(jpeg.decode(readFileSync(join(source.dir, r.image_path)), { useTArray: true, formatAsRGBA: true }));
      const file = `images/${r.dataset}-${r.image_path.split('/').pop()}`;
      const encoded = jpeg.encode(img, QUALITY).data;
      writeFileSync(join(out, file), encoded);
      bytes += encoded.length;
      const row = { ...r, image_path: file, width: String(img.width), height: String(img.height), license: r.license || source.licence };
      lines.push(COLUMNS.map((c) => csvField(row[c] ?? '')).join(','));
    }
    counts.push(`${picked[0]?.dataset} ${label}: ${picked.length}`);
  }
}
writeFileSync(join(out, 'labels.csv'), `${lines.join('\n')}\n`);
writeFileSync(join(out, 'LICENSE.md'), `${LICENCE_TEXT}\nBuilt by scripts/build-reference-archive.mjs: ${counts.join(', ')}.\n`);
process.stdout.write(`${out}: ${lines.length - 1} cases (${counts.join(', ')}), ${(bytes / 1e6).toFixed(1)} MB of thumbnails\n`);
