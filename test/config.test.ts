import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfig } from '../src/config/index.js';
import { isPrecedentError } from '../src/shared/errors.js';
import { run } from './helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'precedent-config-'));

function configError(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (isPrecedentError(err) && err.code === 'CONFIG_INVALID') return [...err.details];
    throw err;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('configuration', () => {
  it('runs on embedded defaults with no file', () => {
    const c = loadConfig({ env: {} });
    expect(c.dimse.port).toBe(11112);
    expect(c.dimse.aeTitle).toBe('PRECEDENT');
    expect(c.dimse.allowedCallingAETitles).toEqual([]);
    expect(c.storage.dataDir).toBe('./var');
    expect(c.studies.completeAfterSeconds).toBe(10);
  });

  it('merges a YAML file and PRECEDENT_* environment overrides, the environment winning', () => {
    const file = join(dir, 'a.yaml');
    writeFileSync(file, 'dimse:\n  port: 104\n  aeTitle: FILEAE\nstorage:\n  dataDir: /data\n');
    const c = loadConfig({
      file,
      env: { PRECEDENT_DIMSE__AE_TITLE: 'ENVAE', PRECEDENT_DIMSE__ALLOWED_CALLING_AE_TITLES: '[PACS1, PACS2]', PRECEDENT_STUDIES__COMPLETEAFTERSECONDS: '3' },
    });
    expect(c.dimse.port).toBe(104);
    expect(c.dimse.aeTitle).toBe('ENVAE');
    expect(c.dimse.allowedCallingAETitles).toEqual(['PACS1', 'PACS2']);
    expect(c.storage.dataDir).toBe('/data');
    expect(c.studies.completeAfterSeconds).toBe(3);
  });

  it('reads JSON files too', () => {
    const file = join(dir, 'b.json');
    writeFileSync(file, JSON.stringify({ dimse: { port: 4242 } }));
    expect(loadConfig({ file, env: {} }).dimse.port).toBe(4242);
  });

  it('lists every error with its path', () => {
    const details = configError(() =>
      parseConfig({ dimse: { port: 70000, aeTitle: 'THIS AE TITLE IS FAR TOO LONG' }, storage: { minFreeBytes: -1 }, bogus: 1 }),
    );
    expect(details.some((d) => d.startsWith('dimse.port:'))).toBe(true);
    expect(details.some((d) => d.startsWith('dimse.aeTitle:'))).toBe(true);
    expect(details.some((d) => d.startsWith('storage.minFreeBytes:'))).toBe(true);
    expect(details.some((d) => d.includes('bogus'))).toBe(true);
  });

  it('rejects an unknown PRECEDENT_ variable instead of ignoring a typo', () => {
    const details = configError(() => loadConfig({ env: { PRECEDENT_DIMSE__PROT: '1' } }));
    expect(details).toEqual(['PRECEDENT_DIMSE__PROT: no such configuration key']);
  });

  it('`precedent serve` with an invalid file exits 2 and prints every error path', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'dimse:\n  port: "eleven"\nstudies:\n  maxWaitSeconds: 0\n');
    const r = await run('node', ['bin/precedent.js', 'serve', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('dimse.port');
    expect(r.stderr).toContain('studies.maxWaitSeconds');
  });

  it('the example config documents a valid configuration', async () => {
    const r = await run('node', ['bin/precedent.js', 'config', '--config', 'config/precedent.example.yaml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('aeTitle: PRECEDENT');
  });
});
