// The group commit's catalog transaction runs at synchronous=NORMAL and its WAL is then fdatasynced
// on the thread pool: the connection must be back at FULL afterwards (every other write still syncs
// in its commit), a failed write must leave it at FULL too, and the rows must be committed.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { deferredSync, openStore } from '../src/store/sqlite.js';
import { tempDir } from './helpers/node.js';

const FULL = 2;
const NORMAL = 1;

describe('deferred WAL sync of the group commit', () => {
  it('commits at NORMAL, syncs, and leaves the connection at FULL, also when the write throws', async () => {
    const file = join(tempDir('precedent-walsync-'), 'catalog.sqlite');
    const db = openStore(file);
    db.exec('CREATE TABLE t (v INTEGER)');
    const durably = deferredSync(db, file);
    const level = (): unknown => db.pragma('synchronous', { simple: true });
    expect(level()).toBe(FULL);
    let during: unknown;
    const result = await durably(() => {
      during = level();
      db.prepare('INSERT INTO t VALUES (1)').run();
      return 'written';
    });
    expect(during).toBe(NORMAL);
    expect(result).toBe('written');
    expect(level()).toBe(FULL);
    await expect(
      durably(() => {
        throw new Error('constraint');
      }),
    ).rejects.toThrow('constraint');
    expect(level()).toBe(FULL);
    // Committed: another connection (as the CLI's status reader would be) sees the row.
    const other = new Database(file, { readonly: true });
    expect(other.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 1 });
    other.close();
    db.close();
  });
});
