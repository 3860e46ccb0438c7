// What the node stores holds patient data: received objects, results and the catalog are readable by
// the node's user and group only (0640, directories 0750), whatever the umask lets through.
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, closeSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildFixture } from './fixtures/build.js';
import { startTestNode, tempDir, type TestNode } from './helpers/node.js';
import { run } from './helpers/tools.js';
import { openCatalog, openFileStore } from '../src/store/index.js';

// The umask can only take bits away: under the usual 022 (or 027) these are exactly 0640 and 0750.
const umask = process.umask();
const mode = (path: string): number => statSync(path).mode & 0o777;
const FILE = 0o640 & ~umask;
const DIR = 0o750 & ~umask;

let node: TestNode | undefined;
afterEach(async () => {
  await node?.stop();
  node = undefined;
});

describe('modes of stored files', () => {
  it('a received object, its folders and the catalog are private to the node user and group', async () => {
    const dataDir = join(tempDir('precedent-modes-'), 'var');
    node = await startTestNode({}, { dataDir });
    const f = await buildFixture({ variant: 'dx8', syntax: 'ele', imageIndex: 5 }, tempDir());
    expect((await run('storescu', ['-aet', 'TESTSCU', '-aec', 'PRECEDENT', '127.0.0.1', String(node.port), f.path])).code).toBe(0);
    const [stored] = node.node.catalog.instanceVersions(f.sopInstanceUID);
    const file = join(dataDir, stored?.path ?? 'missing');
    // In the folder of the day it was received (UTC), named by its SOP Instance UID.
    const day = new Date(stored?.receivedAt ?? 0).toISOString().slice(0, 10).replaceAll('-', '/');
    expect(stored?.path).toBe(`instances/${day}/${f.sopInstanceUID}.dcm`);
    expect(mode(file).toString(8)).toBe(FILE.toString(8));
    const dirs = [dirname(file), dirname(dirname(file)), dirname(dirname(dirname(file))), join(dataDir, 'instances'), join(dataDir, 'tmp'), dataDir];
    expect(dirs.map((d) => [d, mode(d).toString(8)])).toEqual(dirs.map((d) => [d, DIR.toString(8)]));
    const dbs = ['catalog.sqlite', 'catalog.sqlite-wal'];
    expect(dbs.map((d) => [d, mode(join(dataDir, d)).toString(8)])).toEqual(dbs.map((d) => [d, FILE.toString(8)]));
  });

  it('results written durably are private too, and an older world-readable catalog loses its other bits', () => {
    const dataDir = tempDir('precedent-modes-');
    const files = openFileStore(dataDir);
    const result = files.writeDurable(join('results', '1.2.3', 'sr.dcm'), Buffer.from('DICM'));
    expect(mode(result).toString(8)).toBe(FILE.toString(8));
    expect(mode(dirname(result)).toString(8)).toBe(DIR.toString(8));
    const old = join(dataDir, 'old.sqlite');
    writeFileSync(old, '');
    chmodSync(old, 0o644);
    openCatalog(old).close();
    expect(mode(old).toString(8)).toBe('640');
  });
});

describe('the day folder of received objects', () => {
  it('is synced through kept handles (at most 8), dropped when the folder is made again, closed with the store', async () => {
    const dataDir = tempDir('precedent-dayfolder-');
    const openFds = (): number => readdirSync('/proc/self/fd').length;
    const before = openFds();
    let clock = Date.UTC(2026, 11, 7, 12);
    const files = openFileStore(dataDir, () => clock);
    const place = (sop: string) => ({ StudyInstanceUID: '1.2.3', SeriesInstanceUID: '1.2.3.4', SOPInstanceUID: sop, version: 1 });
    const receive = async (sop: string): Promise<string> => {
      const temp = files.tempPath();
      writeFileSync(temp, 'DICM');
      const { path, dirs } = files.move(temp, place(sop));
      await files.syncDirectories(dirs);
      return path;
    };
    expect(await receive('1.1')).toBe('instances/2026/12/07/1.1.dcm');
    await receive('1.2');
    // The day's folder, and the folders made for it (synced once), at most 8 handles in all.
    const kept = openFds() - before;
    expect(kept).toBeGreaterThanOrEqual(1);
    expect(kept).toBeLessThanOrEqual(8);
    // Someone removes the folder: it is made again, and synced through a handle of the new one.
    rmSync(join(dataDir, 'instances', '2026', '12', '07'), { recursive: true });
    expect(await receive('1.3')).toBe('instances/2026/12/07/1.3.dcm');
    expect(statSync(join(dataDir, 'instances/2026/12/07/1.3.dcm')).isFile()).toBe(true);
    expect(openFds() - before).toBeLessThanOrEqual(8);
    // No handle of the removed folder is kept (the kernel names such a handle "… (deleted)").
    const targets = readdirSync('/proc/self/fd').map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    });
    expect(targets.filter((t) => t.startsWith(dataDir) && t.endsWith('(deleted)'))).toEqual([]);
    expect(targets).toContain(join(dataDir, 'instances', '2026', '12', '07'));
    // The next day has a folder (and a handle) of its own.
    clock += 24 * 3600 * 1000;
    expect(await receive('1.4')).toBe('instances/2026/12/08/1.4.dcm');
    files.close();
    expect(openFds()).toBe(before);
  });
});

describe('objects created where they stay', () => {
  it('takes <UID>.dcm in the day folder, never replaces a file, and falls back to tmp/ for a UID unfit for a name', async () => {
    const dataDir = tempDir('precedent-inplace-');
    const files = openFileStore(dataDir, () => Date.UTC(2026, 11, 7, 23, 59));
    const first = await files.openReceivingFile('1.2.3.4');
    const second = await files.openReceivingFile('1.2.3.4');
    expect([first.path, second.path]).toEqual(['instances/2026/12/07/1.2.3.4.dcm', 'instances/2026/12/07/1.2.3.4_1.dcm']);
    expect([first.placed, second.placed]).toEqual([true, true]);
    await Promise.all([first.entryDurable, second.entryDurable]);
    writeSync(first.fd, 'first');
    closeSync(first.fd);
    closeSync(second.fd);
    expect(readFileSync(join(dataDir, first.path), 'utf8')).toBe('first');
    for (const unfit of ['../../etc/passwd', '1.2.3/4', '']) {
      const temp = await files.openReceivingFile(unfit);
      closeSync(temp.fd);
      expect(temp.placed).toBe(false);
      expect(dirname(temp.path)).toBe(join(dataDir, 'tmp'));
    }
    files.close();
  });

  it('sweeps files of changed day folders that the catalog does not list, and only those', async () => {
    const dataDir = tempDir('precedent-inplace-');
    const files = openFileStore(dataDir, () => Date.UTC(2026, 11, 7, 12));
    const kept = await files.openReceivingFile('1.2.3.4');
    const orphan = await files.openReceivingFile('1.2.3.5');
    const orphanTwin = await files.openReceivingFile('1.2.3.4');
    for (const f of [kept, orphan, orphanTwin]) closeSync(f.fd);
    await Promise.all([kept, orphan, orphanTwin].map((f) => f.entryDurable));
    writeFileSync(join(dataDir, 'instances/2026/12/07/notes.txt'), 'not an object');
    const catalogued = (sop: string, path: string): boolean => sop === '1.2.3.4' && path === kept.path;
    // A folder unchanged since `since` is not looked at.
    expect(files.sweepUncatalogued(catalogued, Date.now() + 60_000)).toBe(0);
    expect(files.sweepUncatalogued(catalogued, 0)).toBe(2);
    expect(readdirSync(join(dataDir, 'instances/2026/12/07')).sort()).toEqual(['1.2.3.4.dcm', 'notes.txt']);
    files.close();
  });

  it('closes with fsyncs still in flight without failing them on a closed handle, and leaves no handle open', async () => {
    const dataDir = tempDir('precedent-inplace-');
    const openFds = (): number => readdirSync('/proc/self/fd').length;
    const before = openFds();
    const files = openFileStore(dataDir, () => Date.UTC(2026, 11, 7, 12));
    const received = await Promise.all(['1.5.1', '1.5.2', '1.5.3', '1.5.4'].map((uid) => files.openReceivingFile(uid)));
    for (const f of received) closeSync(f.fd);
    files.close();
    const settled = await Promise.allSettled(received.map((f) => f.entryDurable));
    const reasons = settled.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    // A sync under way completes on its handle; one queued behind it is refused (the store is closed).
    expect(reasons.filter((r) => r.includes('EBADF'))).toEqual([]);
    expect(reasons.every((r) => r.includes('file store closed'))).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(openFds()).toBe(before);
  });
});
