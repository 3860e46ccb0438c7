// Every read-write connection to catalog.sqlite: created private (the catalog holds patient data;
// SQLite gives its -wal and -shm files the database file's mode), WAL, synchronous FULL (an
// acknowledged object's row survives a power cut) and a busy timeout for the node, its workers and
// the CLI sharing the file.
import { chmodSync, closeSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PHI_FILE_MODE } from '../shared/files.js';

/** The catalog database of a data directory: every store opens this one file. */
export function catalogFile(dataDir: string): string {
  return join(dataDir, 'catalog.sqlite');
}

export function openDatabase(file: string): Database.Database {
  closeSync(openSync(file, 'a', PHI_FILE_MODE));
  // A catalog made before modes were set keeps its owner and group bits; others lose theirs.
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o007) chmodSync(file, mode & ~0o007);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  // Statement journals and sorts in memory: on a file they cost an open, writes and an unlink in
  // /var/tmp for every object's catalog commit.
  db.pragma('temp_store = MEMORY');
  return db;
}
