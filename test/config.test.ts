import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfig } from '../src/config/index.js';
import { readConfigFile } from '../src/config/load.js';
import { configSchema } from '../src/config/schema.js';
import { allowedHostsLockout } from '../src/config/hosts.js';
import { isPrecedentError } from '../src/shared/errors.js';
import { run } from './helpers/tools.js';
import { startTestNode } from './helpers/node.js';

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

  it('the example config names every key of every section (commented out where it has no default)', () => {
    const text = readFileSync('config/precedent.example.yaml', 'utf8');
    const shapeOf = (node: unknown): Record<string, unknown> => {
      let cur = node as { shape?: Record<string, unknown>; def?: { innerType?: unknown } } | undefined;
      while (cur && !cur.shape) cur = cur.def?.innerType as typeof cur;
      return cur?.shape ?? {};
    };
    const missing: string[] = [];
    for (const [section, schema] of Object.entries(configSchema.shape)) {
      const start = text.search(new RegExp(`^${section}:`, 'm'));
      expect(start, `section ${section}`).toBeGreaterThanOrEqual(0);
      const rest = text.slice(start + section.length + 1);
      const block = rest.slice(0, rest.search(/^\S/m) < 0 ? undefined : rest.search(/^\S/m));
      for (const key of Object.keys(shapeOf(schema))) if (!new RegExp(`^\\s+(# )?${key}:`, 'm').test(block)) missing.push(`${section}.${key}`);
    }
    expect(missing).toEqual([]);
  });

  it('says what is wrong with an export destination, not just "Invalid input"', () => {
    const details = configError(() =>
      parseConfig({
        export: {
          destinations: [
            { name: 'pacs', aeTitle: 'PACS', host: 'pacs', port: '104' },
            { name: 'web', url: 'not a url' },
            { name: 'both', aeTitle: 'X', host: 'h', port: 1, url: 'http://x' },
          ],
        },
      }),
    );
    expect(details).toContain('export.destinations.0.port: Invalid input: expected number, received string');
    expect(details).toContain('export.destinations.1.url: Invalid URL');
    expect(details).toContain('export.destinations.2: Unrecognized key: "url"');
    expect(details.filter((d) => d.endsWith('neither a DIMSE destination (name, aeTitle, host, port) nor a DICOMweb one (name, url)'))).toHaveLength(2);
    expect(details.join('\n')).not.toMatch(/: Invalid input$/m);
  });

  it('gives the line and column of a YAML or JSON syntax error', () => {
    const yaml = join(dir, 'syntax.yaml');
    writeFileSync(yaml, 'dimse:\n  port: 104\n   aeTitle: X\n');
    expect(() => readConfigFile(yaml)).toThrow(/is not valid YAML: line 2, column \d+: Nested mappings/);
    const json = join(dir, 'syntax.json');
    writeFileSync(json, '{\n  "dimse": {"port": 1,}\n}');
    expect(() => readConfigFile(json)).toThrow(/is not valid JSON: line 2, column \d+: /);
  });

  it('validates dimse.allowedHosts entries and finds a list that would let nobody in', () => {
    const details = configError(() =>
      parseConfig({ dimse: { allowedHosts: ['10.0.0.0/33', '10.0.0.0/', '999.1.1.1', 'pacs.example.org', 'fe80::/64', '10.1.0.0/16', '192.168.1.5', '::1'] } }),
    );
    expect(details).toEqual([
      'dimse.allowedHosts.0: "10.0.0.0/33": a CIDR prefix length is a whole number 0-32 after the slash',
      'dimse.allowedHosts.1: "10.0.0.0/": a CIDR prefix length is a whole number 0-32 after the slash',
      'dimse.allowedHosts.2: "999.1.1.1": not an IPv4 or IPv6 address (host names are not resolved)',
      'dimse.allowedHosts.3: "pacs.example.org": not an IPv4 or IPv6 address (host names are not resolved)',
      'dimse.allowedHosts.4: "fe80::/64": IPv6 CIDR blocks are not supported: list the IPv6 addresses',
    ]);
    expect(allowedHostsLockout('0.0.0.0', [])).toBeUndefined();
    expect(allowedHostsLockout('0.0.0.0', ['10.1.0.0/16'])).toBeUndefined();
    expect(allowedHostsLockout('::', ['fe80::1', '10.0.0.1'])).toBeUndefined();
    expect(allowedHostsLockout('0.0.0.0', ['fe80::1', '2001:db8::2'])).toMatch(/IPv4 peers only/);
    expect(allowedHostsLockout('::', ['0.0.0.0', '::'])).toMatch(/unspecified/);
    expect(allowedHostsLockout('127.0.0.1', ['10.0.0.0/8'])).toMatch(/local peers only/);
    expect(allowedHostsLockout('127.0.0.1', ['0.0.0.0/0'])).toBeUndefined();
    expect(allowedHostsLockout('127.0.0.1', ['127.0.0.0/8'])).toBeUndefined();
  });

  it('a node whose dimse.allowedHosts lets no peer in warns at start, and one that lets peers in does not', async () => {
    const warning = 'dimse.allowedHosts lets no peer in: every association will be rejected';
    // Test nodes listen on 127.0.0.1: a list without a loopback entry locks out everyone.
    const locked = await startTestNode({ dimse: { allowedHosts: ['10.0.0.0/8'] } });
    await locked.stop();
    expect(locked.logs.filter((l) => l.includes(warning)).map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ level: 40, why: 'dimse.host 127.0.0.1 accepts local peers only, and no entry is a loopback address' }),
    ]);
    const open = await startTestNode({ dimse: { allowedHosts: ['10.0.0.0/8', '127.0.0.1'] } });
    await open.stop();
    expect(open.logs.some((l) => l.includes(warning))).toBe(false);
  });

  it('refuses workers.inProcess: false without queue.redisUrl (every study would stay queued)', async () => {
    expect(configError(() => parseConfig({ workers: { inProcess: false } }))).toEqual([
      expect.stringMatching(/^workers\.inProcess: false needs queue\.redisUrl/) as string,
    ]);
    expect(parseConfig({ workers: { inProcess: false }, queue: { redisUrl: 'redis://127.0.0.1:6379' } }).workers.inProcess).toBe(false);
    const file = join(dir, 'no-redis.yaml');
    writeFileSync(file, 'workers:\n  inProcess: false\n');
    const r = await run('node', ['bin/precedent.js', 'serve', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('workers.inProcess: false needs queue.redisUrl');
  });
});
