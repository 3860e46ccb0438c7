// Every connection to catalog.sqlite opens here. A read-write one: created private (the catalog holds
// patient data; SQLite gives its -wal and -shm files the database file's mode), WAL, synchronous FULL
// (an acknowledged object's row survives a power cut), a busy timeout for the node, its workers and
// the CLI sharing the file, and the schema brought to this code's version (migrations.ts) before any
// module prepares its statements.
import { chmodSync, closeSync, fdatasync, fstatSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PHI_FILE_MODE } from '../shared/files.js';
import { checkVersion, migrate } from './migrations.js';

/** The catalog database of a data directory: every store opens this one file. */
export function catalogFile(dataDir: string): string {
  return join(dataDir, 'catalog.sqlite');
}

/** A read-write connection to the catalog, its schema up to date. */
export function openStore(file: string): Database.Database {
  closeSync(openSync(file, 'a', PHI_FILE_MODE));
  // A catalog made before modes were set keeps its owner and group bits; others lose theirs.
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o007) chmodSync(file, mode & ~0o007);
  const db = new Database(file);
  // First: switching to WAL and migrating wait for another process that holds the lock.
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  // Statement journals and sorts in memory: on a file they cost an open, writes and an unlink in
  // /var/tmp for every object's catalog commit.
  db.pragma('temp_store = MEMORY');
  try {
    migrate(db, file);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * A read-only connection to an existing catalog (status queries): it migrates nothing, so tables a
 * catalog from before user_version lacks may be missing; one written by a newer node is refused.
 */
export function openStoreReadOnly(file: string): Database.Database {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    checkVersion(db, file);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * Runs a write transaction at `synchronous = NORMAL` (its commit writes the WAL without syncing it)
 * and then fdatasyncs the WAL on the thread pool, settling when the commit is as durable as at FULL.
 * At FULL the sync ran inside the commit, on the event loop: ~0.4-0.8 ms per group commit during
 * which no association's PDUs were read (measured with --cpu-prof, four associations). Nothing else
 * changes: the connection is back at FULL before this returns, and a checkpoint still syncs the WAL
 * before copying it into the database file.
 */
export function deferredSync(db: Database.Database, file: string): <T>(write: () => T) => Promise<T> {
  const walPath = `${file}-wal`;
  let wal: number | undefined;
  // The WAL of an open connection is never deleted (only the last connection to close removes it);
  // the inode is still compared each time, so a sync can never go to a file SQLite no longer uses.
  const walFd = (): number => {
    const current = statSync(walPath).ino;
    if (wal !== undefined && fstatSync(wal).ino === current) return wal;
    if (wal !== undefined) closeSync(wal);
    wal = openSync(walPath, 'r');
    return wal;
  };
  return async <T>(write: () => T): Promise<T> => {
    db.pragma('synchronous = NORMAL');
    let result: T;
    try {
      result = write();
    } finally {
      db.pragma('synchronous = FULL');
    }
    const fd = walFd();
    await new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
    return result;
  };
}
