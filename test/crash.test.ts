// kill -9 during a burst: every object that got Success must be on disk, readable and catalogued
// after restart. Runs the real `precedent serve` process, as an operator would.
import { describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, startPrecedent } from './helpers/process.js';
import { existsSync, writeFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { buildFixtures, type FixtureSpec } from './fixtures/build.js';
import { tempDir } from './helpers/node.js';
import { requireTool, run } from './helpers/tools.js';
import { datasetContent } from './helpers/files.js';

function startServe(config: string): { child: ChildProcess; output: () => string; listening: Promise<void> } {
  const p = startPrecedent('serve', config, 'Precedent node started');
  return { child: p.child, output: p.output, listening: p.ready };
}

describe('crash safety', () => {
  it('loses no acknowledged object when killed with SIGKILL mid-burst', async () => {
    requireTool('dcmsend');
    const fixtures = await buildFixtures(
      Array.from({ length: 80 }, (_, i) => ({ variant: 'dx16', syntax: 'ele', imageIndex: i * 11, maxSize: 512 }) as FixtureSpec),
      tempDir('precedent-burst-'),
    );
    const byPath = new Map(fixtures.map((f) => [f.path, f]));
    const dataDir = tempDir();
    const port = await freePort();
    const config = join(dataDir, '..', `${port}.yaml`);
    writeFileSync(
      config,
      `dimse:\n  port: ${port}\n  host: 127.0.0.1\nstorage:\n  dataDir: ${dataDir}\n  minFreeBytes: 0\nstudies:\n  completeAfterSeconds: 0.5\nops:\n  port: 0\nmodel:\n  dir: ${join(dataDir, 'no-model')}\n`,
    );

    const first = startServe(config);
    await first.listening;
    // dcmsend -d logs each file before it is sent and each response; kill the node after ~20 successes.
    const sender = spawn('dcmsend', ['-d', '-aet', 'BURST', '-aec', 'PRECEDENT', '-nh', '127.0.0.1', String(port), ...fixtures.map((f) => f.path)], {
      env: { ...process.env, TCP_NODELAY: '1' },
    });
    let log = '';
    let killed = false;
    const senderDone = new Promise<void>((resolve) => sender.on('close', () => resolve()));
    const onLog = (chunk: Buffer) => {
      log += chunk.toString();
      if (!killed && (log.match(/DIMSE Status\s*: 0x0000: Success/g) ?? []).length >= 20) {
        killed = true;
        first.child.kill('SIGKILL');
      }
    };
    sender.stdout.on('data', onLog);
    sender.stderr.on('data', onLog);
    await senderDone;
    expect(killed).toBe(true);

    // Acknowledged = a file whose request was followed by a Success response.
    const acked = new Set<string>();
    let current = '';
    for (const line of log.split('\n')) {
      const file = /sending SOP instance from file: (.*)$/.exec(line);
      if (file?.[1]) current = file[1].trim();
      if (/DIMSE Status\s*: 0x0000: Success/.test(line) && current) acked.add(current);
    }
    expect(acked.size).toBeGreaterThanOrEqual(20);
    expect(acked.size).toBeLessThan(fixtures.length); // the kill really happened mid-burst

    const second = startServe(config);
    await second.listening;
    try {
      expect(second.output()).not.toContain('"level":50');
      const db = new Database(join(dataDir, 'catalog.sqlite'), { readonly: true });
      const rows = db.prepare<[], { sop_instance_uid: string; path: string }>('SELECT sop_instance_uid, path FROM instances').all();
      db.close();
      const catalogued = new Map(rows.map((r) => [r.sop_instance_uid, r.path]));
      for (const path of acked) {
        const f = byPath.get(path);
        if (!f) throw new Error(`unknown file in dcmsend log: ${path}`);
        const rel = catalogued.get(f.sopInstanceUID);
        expect(rel, `${f.sopInstanceUID} acknowledged but not catalogued`).toBeDefined();
        const stored = join(dataDir, rel ?? '');
        expect(existsSync(stored)).toBe(true);
        expect(datasetContent(stored)).toBe(datasetContent(f.path));
        expect((await run('dcmdump', ['-q', '+P', '0008,0018', stored])).stdout).toContain(f.sopInstanceUID);
      }
      // Partial transfers were swept at start-up; nothing half-written remains: every file in the day
      // folders is one the catalog lists (objects are created in place, so the one in flight when the
      // node was killed left a file there; it was never acknowledged).
      expect(readdirSync(join(dataDir, 'tmp'))).toEqual([]);
      const onDisk = readdirSync(join(dataDir, 'instances'), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => relative(dataDir, join(e.parentPath, e.name)));
      expect(onDisk.sort()).toEqual([...catalogued.values()].sort());
      // The node serves again.
      expect((await run('echoscu', ['-aet', 'BURST', '-aec', 'PRECEDENT', '127.0.0.1', String(port)])).code).toBe(0);
    } finally {
      second.child.kill('SIGTERM');
      await new Promise((r) => second.child.on('exit', r));
    }
    expect(second.output()).toContain('Precedent node stopped');
    // Patient identity never reaches the logs (the fixtures carry the builder's default name and ID).
    for (const out of [first.output(), second.output()]) {
      expect(out).not.toContain('TEST^PATIENT');
      expect(out).not.toContain('PRECEDENT-TEST-0001');
    }
  });
});
