// What the node stores holds patient data: received objects, results and the catalog are readable by
// the node's user and group only (0640, directories 0750), whatever the umask lets through.
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, statSync, writeFileSync } from 'node:fs';
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
