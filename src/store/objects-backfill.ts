// One-off migration of catalogs made before the object index existed: every received instance with a
// file (its latest version) and every result file under <dataDir>/results is read once and indexed.
// Recorded in `migrations` when complete, so later starts skip it; an interrupted run resumes where
// it stopped (rows already indexed are skipped).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../shared/log.js';
import { indexedFromFile } from '../dicom/query-attributes.js';
import { isSafeUidPath } from '../shared/uid.js';
import { objectUpsert } from './object-rows.js';
import { openStore } from './sqlite.js';

const MIGRATION = 'dicom_objects.backfill';

const list = (dir: string): string[] => {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
};

export function backfillObjectIndex(file: string, dataDir: string, log: Logger, now: number = Date.now()): { indexed: number; unreadable: number } {
  const db = openStore(file);
  try {
    const put = objectUpsert(db);
    if (db.prepare('SELECT 1 FROM migrations WHERE name = ?').get(MIGRATION)) return { indexed: 0, unreadable: 0 };
    const missing = db
      .prepare<[], { sop_instance_uid: string; version: number; path: string }>(
        `SELECT i.sop_instance_uid, i.version, i.path FROM instances i
         WHERE i.path IS NOT NULL
           AND i.version = (SELECT MAX(j.version) FROM instances j WHERE j.sop_instance_uid = i.sop_instance_uid AND j.path IS NOT NULL)
           AND NOT EXISTS (SELECT 1 FROM dicom_objects o WHERE o.sop_instance_uid = i.sop_instance_uid)`,
      )
      .all();
    const has = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM dicom_objects WHERE sop_instance_uid = ?');
    let indexed = 0;
    let unreadable = 0;
    const add = (relative: string, origin: 'received' | 'result', version: number): void => {
      try {
        put(indexedFromFile(join(dataDir, relative), relative, origin, version));
        indexed++;
      } catch {
        // A file that cannot be read is not served either; counted, never fatal.
        unreadable++;
      }
    };
    for (const row of missing) add(row.path, 'received', row.version);
    for (const study of list(join(dataDir, 'results')).filter(isSafeUidPath)) {
      for (const name of list(join(dataDir, 'results', study)).filter((n) => n.endsWith('.dcm'))) {
        if (!has.get(name.slice(0, -4))) add(`results/${study}/${name}`, 'result', 0);
      }
    }
    db.prepare('INSERT OR REPLACE INTO migrations VALUES (?, ?)').run(MIGRATION, now);
    if (indexed + unreadable > 0) log.info({ indexed, unreadable }, 'object index (QIDO-RS) built for objects stored before it existed');
    return { indexed, unreadable };
  } finally {
    db.close();
  }
}
