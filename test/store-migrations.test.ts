// The catalog's one opener and migration list (store/sqlite.ts, store/migrations.ts): a catalog made
// before user_version was kept is brought to the latest schema keeping its rows, an up-to-date one
// opens unchanged, and a catalog written by a newer node is refused rather than used.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { LATEST_VERSION } from '../src/store/migrations.js';
import { searchObjects } from '../src/store/objects-query.js';
import type { Match, ObjectQuery } from '../src/shared/dicom-objects.js';
import { openStore } from '../src/store/sqlite.js';
import { openCatalog, openStatusReader } from '../src/store/index.js';
import { tempDir } from './helpers/node.js';

// Tables as earlier versions created them: instances before the called AE title, cases before the
// retrieve AE title and public collection, reports before reported_at, no object index, no
// retention runs, and no user_version (0).
const OLD_SCHEMA = `
CREATE TABLE instances (sop_instance_uid TEXT NOT NULL, version INTEGER NOT NULL, study_instance_uid TEXT NOT NULL,
  series_instance_uid TEXT NOT NULL, sop_class_uid TEXT NOT NULL, transfer_syntax_uid TEXT NOT NULL, path TEXT,
  size INTEGER NOT NULL, sha256 TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('accepted', 'ignored')), reason TEXT,
  calling_ae_title TEXT NOT NULL, received_at INTEGER NOT NULL, PRIMARY KEY (sop_instance_uid, version));
CREATE INDEX instances_by_study ON instances (study_instance_uid);
CREATE TABLE studies (study_instance_uid TEXT PRIMARY KEY, state TEXT NOT NULL, generation INTEGER NOT NULL,
  first_received_at INTEGER NOT NULL, round_started_at INTEGER NOT NULL, last_received_at INTEGER NOT NULL,
  instance_count INTEGER NOT NULL, reason TEXT, updated_at INTEGER NOT NULL);
CREATE TABLE embeddings (sop_instance_uid TEXT NOT NULL, version INTEGER NOT NULL, study_instance_uid TEXT NOT NULL,
  model_name TEXT NOT NULL, model_version TEXT NOT NULL, vector BLOB NOT NULL, attention_width INTEGER, attention_height INTEGER,
  attention BLOB, notes TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (sop_instance_uid, version, model_name, model_version));
CREATE TABLE cases (case_key INTEGER PRIMARY KEY, sop_instance_uid TEXT NOT NULL UNIQUE, instance_version INTEGER NOT NULL,
  study_instance_uid TEXT NOT NULL, accession_number TEXT NOT NULL, study_date TEXT NOT NULL, patient_key TEXT NOT NULL,
  labels TEXT NOT NULL, age REAL, sex TEXT, outcomes TEXT NOT NULL, clinical TEXT NOT NULL, facts_hash TEXT NOT NULL,
  source TEXT NOT NULL, seq INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE reports (id INTEGER PRIMARY KEY, source TEXT NOT NULL, accession_number TEXT NOT NULL, study_instance_uid TEXT NOT NULL,
  status TEXT NOT NULL, report_text TEXT NOT NULL, message_id TEXT NOT NULL, labels TEXT NOT NULL, received_at INTEGER NOT NULL,
  matched_study_instance_uid TEXT, superseded_by INTEGER);
CREATE TABLE exports (id INTEGER PRIMARY KEY AUTOINCREMENT, sop_instance_uid TEXT NOT NULL, study_instance_uid TEXT NOT NULL,
  path TEXT NOT NULL, destination TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL, last_error TEXT, created_at INTEGER NOT NULL, sent_at INTEGER, UNIQUE (sop_instance_uid, destination));
INSERT INTO instances VALUES ('1.2.3.1', 1, '1.2.3', '1.2.3.0', '1.2.840.10008.5.1.4.1.1.1.1', '1.2.840.10008.1.2.1',
  'instances/1.2.3/1.2.3.0/1.2.3.1.dcm', 10, 'aa', 'accepted', NULL, 'MODALITY', 5);
INSERT INTO studies VALUES ('1.2.3', 'done', 1, 5, 5, 5, 1, NULL, 6);
INSERT INTO cases VALUES (7, '1.2.3.1', 1, '1.2.3', 'A7', '20240101', '', '["normal"]', NULL, NULL, '{}', '{}', 'h', 'import', 1, 1, 1);
INSERT INTO reports VALUES (1, 'hl7', 'A7', '', 'final', 'IMPRESSION: Normal.', 'm', '{}', 3, NULL, NULL);
INSERT INTO exports (sop_instance_uid, study_instance_uid, path, destination, state, next_attempt_at, created_at)
  VALUES ('1.2.3.9', '1.2.3', 'results/1.2.3/1.2.3.9.dcm', 'PACS', 'pending', 0, 0);
`;

function oldCatalog(): string {
  const file = join(tempDir('precedent-store-migrate-'), 'catalog.sqlite');
  const db = new Database(file);
  db.exec(OLD_SCHEMA);
  db.close();
  return file;
}

type Db = Database.Database;
const version = (db: Db): number => db.pragma('user_version', { simple: true }) as number;
const columns = (db: Db, table: string): string[] =>
  db
    .prepare<[], { name: string; type: string; notnull: number; dflt_value: string | null }>(`PRAGMA table_info(${table})`)
    .all()
    .map((c) => `${c.name} ${c.type}${c.notnull ? ' NOT NULL' : ''}${c.dflt_value === null ? '' : ` DEFAULT ${c.dflt_value}`}`);
const names = (db: Db, type: 'table' | 'index'): string[] =>
  db
    .prepare<[string], { name: string }>("SELECT name FROM sqlite_master WHERE type = ? AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all(type)
    .map((r) => r.name);
/** Tables with their columns, and indexes: what a module's statements depend on. */
const shape = (db: Db): Record<string, string[]> => ({
  ...Object.fromEntries(names(db, 'table').map((t) => [t, columns(db, t)])),
  indexes: names(db, 'index'),
});
const schema = (db: Db): unknown[] => db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name').all();

describe('catalog migrations', () => {
  it('brings a catalog from before user_version to the latest schema, keeping its rows', () => {
    const file = oldCatalog();
    const db = openStore(file);
    try {
      expect(version(db)).toBe(LATEST_VERSION);
      // The same tables, columns and indexes as a catalog this version creates.
      const fresh = openStore(join(tempDir('precedent-store-fresh-'), 'catalog.sqlite'));
      expect(shape(db)).toEqual(shape(fresh));
      fresh.close();
      expect(names(db, 'table')).toEqual(expect.arrayContaining(['dicom_objects', 'migrations', 'retention_runs', 'case_thumbnails']));
      // Migration 2: no index that is a leading prefix of another.
      expect(names(db, 'index')).not.toContain('instances_by_study');
      expect(names(db, 'index')).not.toContain('dicom_objects_by_study_date');
      // Old rows kept, added columns at their defaults.
      expect(db.prepare('SELECT sop_instance_uid, called_ae_title FROM instances').all()).toEqual([{ sop_instance_uid: '1.2.3.1', called_ae_title: '' }]);
      expect(db.prepare('SELECT case_key, retrieve_ae_title, public_collection FROM cases').all()).toEqual([
        { case_key: 7, retrieve_ae_title: '', public_collection: '' },
      ]);
      expect(db.prepare('SELECT id, reported_at FROM reports').all()).toEqual([{ id: 1, reported_at: null }]);
      expect(db.prepare('SELECT COUNT(*) AS n FROM exports').get()).toEqual({ n: 1 });
      expect(db.prepare('SELECT state FROM studies').all()).toEqual([{ state: 'done' }]);
    } finally {
      db.close();
    }
    // The modules read the migrated rows.
    const catalog = openCatalog(file);
    expect(catalog.instanceVersions('1.2.3.1')).toMatchObject([{ version: 1, calledAETitle: '', callingAETitle: 'MODALITY' }]);
    catalog.close();
  });

  it('opens an up-to-date catalog without changing it', () => {
    const file = oldCatalog();
    openStore(file).close();
    const first = new Database(file, { readonly: true });
    const before = { version: version(first), schema: schema(first) };
    first.close();
    openStore(file).close();
    openCatalog(file).close();
    const again = new Database(file, { readonly: true });
    expect({ version: version(again), schema: schema(again) }).toEqual(before);
    again.close();
  });

  it('refuses a catalog written by a newer node, read-write and read-only', () => {
    const file = oldCatalog();
    openStore(file).close();
    const db = new Database(file);
    db.pragma(`user_version = ${LATEST_VERSION + 1}`);
    db.close();
    const newer = new RegExp(`schema version ${LATEST_VERSION + 1}, newer than this version of Precedent knows \\(${LATEST_VERSION}\\)`);
    expect(() => openStore(file)).toThrow(newer);
    expect(() => openCatalog(file)).toThrow(newer);
    expect(() => openStatusReader(file)).toThrow(newer);
    // Nothing was changed by the refused opens.
    const after = new Database(file, { readonly: true });
    expect(version(after)).toBe(LATEST_VERSION + 1);
    after.close();
  });

  it('searches by date and study lookups still use an index without the dropped prefix indexes', () => {
    const db = openStore(join(tempDir('precedent-store-plan-'), 'catalog.sqlite'));
    try {
      // The plan of every statement searchObjects prepares, instead of running it.
      const plans: string[] = [];
      const explain = {
        prepare: (sql: string) => ({
          all: (...params: unknown[]) => {
            plans.push(
              db
                .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
                .all(...params)
                .map((r) => r.detail)
                .join('\n'),
            );
            return [];
          },
        }),
      } as unknown as Db;
      const range: Match = { key: 'StudyDate', type: 'range', from: '20240101', to: '20240131' };
      const day: Match = { key: 'StudyDate', type: 'values', values: ['20240101'] };
      for (const level of ['study', 'series', 'instance'] as const) {
        for (const match of [range, day]) {
          const query: ObjectQuery = { level, matches: [match], limit: 10, offset: 0, sources: ['SITEA'] };
          searchObjects(explain, query);
        }
      }
      expect(plans).toHaveLength(6);
      for (const plan of plans) {
        expect(plan).toMatch(/SEARCH o USING (COVERING )?INDEX dicom_objects_by_date_time \(study_date/);
        expect(plan).toMatch(/SEARCH i (EXISTS )?USING COVERING INDEX instances_by_study_source/);
      }
      const byStudy = db
        .prepare<[], { detail: string }>("EXPLAIN QUERY PLAN SELECT * FROM instances WHERE study_instance_uid = '1.2.3'")
        .all()
        .map((r) => r.detail);
      expect(byStudy).toEqual(['SEARCH instances USING INDEX instances_by_study_source (study_instance_uid=?)']);
    } finally {
      db.close();
    }
  });
});
