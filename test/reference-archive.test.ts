// The starter reference archive in archive/reference (built by scripts/build-reference-archive.mjs):
// only redistributable public collections, balanced by source and label, every row's image present,
// small enough to ship, and importable with the ordinary import command.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsv } from '../src/shared/csv.js';
import { REPO_ROOT } from './fixtures/shared.js';

const DIR = join(REPO_ROOT, 'archive', 'reference');

describe('archive/reference', () => {
  const [header = [], ...rows] = parseCsv(readFileSync(join(DIR, 'labels.csv'), 'utf8'));
  const col = (name: string): number => header.indexOf(name);
  const records = rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));

  it('holds only NIH ChestX-ray14 adults and Kermany pediatric films, each with its licence', () => {
    expect(col('image_path')).toBeGreaterThanOrEqual(0);
    expect(records.length).toBeGreaterThan(0);
    for (const r of records) {
      expect(r['dataset'] === 'nih-cxr14' || r['dataset']?.startsWith('kermany')).toBe(true);
      if (r['dataset'] === 'nih-cxr14') expect(Number(r['age'])).toBeGreaterThanOrEqual(18);
      expect(r['license']).toMatch(/unrestricted use|CC BY 4\.0/);
    }
    expect(readFileSync(join(DIR, 'LICENSE.md'), 'utf8')).toContain('Wang X, Peng Y, Lu L, Lu Z, Bagheri M');
  });

  it('is balanced by source and label, one image per patient', () => {
    const groups = new Map<string, number>();
    for (const r of records) groups.set(`${r['dataset']}|${r['label']}`, (groups.get(`${r['dataset']}|${r['label']}`) ?? 0) + 1);
    expect(groups.size).toBe(4);
    expect(new Set(groups.values()).size).toBe(1);
    expect(new Set(records.map((r) => r['patient_id'])).size).toBe(records.length);
  });

  it('has every thumbnail, at most 256 px, under 20 MB in all', () => {
    let bytes = statSync(join(DIR, 'labels.csv')).size;
    for (const r of records) {
      const file = join(DIR, r['image_path'] ?? '');
      expect(existsSync(file)).toBe(true);
      bytes += statSync(file).size;
      expect(Math.max(Number(r['width']), Number(r['height']))).toBeLessThanOrEqual(256);
    }
    expect(bytes).toBeLessThan(20 * 1024 * 1024);
  });
});
