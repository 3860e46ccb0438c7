// The catalog's schema, as one ordered list of migrations keyed by SQLite's `PRAGMA user_version`.
// Every connection that writes the catalog (sqlite.ts openStore) brings it to LATEST before use;
// each migration commits in its own BEGIN IMMEDIATE transaction together with the new user_version,
// so two processes opening at once do not both migrate and a crash leaves a numbered state.
// Catalogs made before user_version was kept are at 0 with some or all of migration 1's tables:
// migration 1 is written to be idempotent on them (IF NOT EXISTS, columns added when missing).
// A migration is never edited once released: a change is a new, higher-numbered migration.
import type Database from 'better-sqlite3';

interface Migration {
  version: number;
  /** What it does, for the error of a failed migration. */
  name: string;
  up(db: Database.Database): void;
}

/** Adds a column that a catalog made before it lacks (CREATE TABLE IF NOT EXISTS keeps old tables as they were). */
function addColumnIfMissing(db: Database.Database, table: string, column: string, definition: string): void {
  const columns = db.prepare<[], { name: string }>(`PRAGMA table_info(${table})`).all();
  if (!columns.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
}

const TABLES_1 = `
-- Received objects (catalog.ts), one row per version of a SOP Instance UID.
CREATE TABLE IF NOT EXISTS instances (
  sop_instance_uid TEXT NOT NULL,
  version INTEGER NOT NULL,
  study_instance_uid TEXT NOT NULL,
  series_instance_uid TEXT NOT NULL,
  sop_class_uid TEXT NOT NULL,
  transfer_syntax_uid TEXT NOT NULL,
  path TEXT,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('accepted', 'ignored')),
  reason TEXT,
  calling_ae_title TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  called_ae_title TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (sop_instance_uid, version)
);
CREATE TABLE IF NOT EXISTS studies (
  study_instance_uid TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('receiving', 'queued', 'decoding', 'embedded', 'done', 'failed')),
  generation INTEGER NOT NULL,
  first_received_at INTEGER NOT NULL,
  round_started_at INTEGER NOT NULL,
  last_received_at INTEGER NOT NULL,
  instance_count INTEGER NOT NULL,
  reason TEXT,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS embeddings (
  sop_instance_uid TEXT NOT NULL,
  version INTEGER NOT NULL,
  study_instance_uid TEXT NOT NULL,
  model_name TEXT NOT NULL,
  model_version TEXT NOT NULL,
  vector BLOB NOT NULL,
  attention_width INTEGER,
  attention_height INTEGER,
  attention BLOB,
  notes TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (sop_instance_uid, version, model_name, model_version)
);
-- The object index (object-rows.ts): one row per SOP Instance UID that has a file, with the
-- attributes QIDO-RS matches on.
CREATE TABLE IF NOT EXISTS dicom_objects (
  sop_instance_uid TEXT PRIMARY KEY,
  origin TEXT NOT NULL CHECK (origin IN ('received', 'result')),
  version INTEGER NOT NULL,
  path TEXT NOT NULL,
  size INTEGER NOT NULL,
  transfer_syntax_uid TEXT NOT NULL,
  study_instance_uid TEXT NOT NULL,
  series_instance_uid TEXT NOT NULL,
  sop_class_uid TEXT NOT NULL,
  modality TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  patient_name TEXT NOT NULL,
  patient_name_key TEXT NOT NULL,
  patient_birth_date TEXT NOT NULL,
  patient_sex TEXT NOT NULL,
  study_date TEXT NOT NULL,
  study_time TEXT NOT NULL,
  study_time_key TEXT NOT NULL,
  accession_number TEXT NOT NULL,
  referring_physician_name TEXT NOT NULL,
  referring_physician_name_key TEXT NOT NULL,
  study_id TEXT NOT NULL,
  study_description TEXT NOT NULL,
  series_description TEXT NOT NULL,
  series_number INTEGER,
  instance_number INTEGER,
  rows INTEGER,
  columns INTEGER,
  bits_allocated INTEGER,
  number_of_frames INTEGER
);
-- One-off start-up tasks that need more than SQL (objects-backfill.ts reads the stored files).
CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL);
-- The similar-case archive (cases.ts, case-rows.ts).
CREATE TABLE IF NOT EXISTS cases (
  case_key INTEGER PRIMARY KEY,
  sop_instance_uid TEXT NOT NULL UNIQUE,
  instance_version INTEGER NOT NULL,
  study_instance_uid TEXT NOT NULL,
  accession_number TEXT NOT NULL,
  study_date TEXT NOT NULL,
  patient_key TEXT NOT NULL,
  labels TEXT NOT NULL,
  age REAL,
  sex TEXT CHECK (sex IN ('M', 'F', 'O')),
  outcomes TEXT NOT NULL,
  clinical TEXT NOT NULL,
  facts_hash TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('import', 'archive-ae', 'incoming')),
  seq INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  retrieve_ae_title TEXT NOT NULL DEFAULT '',
  public_collection TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS case_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  case_key INTEGER NOT NULL,
  op TEXT NOT NULL CHECK (op IN ('add', 'remove'))
);
CREATE TABLE IF NOT EXISTS case_study_labels (
  match_kind TEXT NOT NULL CHECK (match_kind IN ('sop', 'study', 'accession')),
  match_value TEXT NOT NULL,
  facts TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (match_kind, match_value)
);
CREATE TABLE IF NOT EXISTS case_retrievals (
  sop_instance_uid TEXT NOT NULL,
  model_name TEXT NOT NULL,
  model_version TEXT NOT NULL,
  study_instance_uid TEXT NOT NULL,
  patient_key TEXT NOT NULL,
  result TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (sop_instance_uid, model_name, model_version)
);
CREATE TABLE IF NOT EXISTS case_thumbnails (
  case_key INTEGER PRIMARY KEY,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  pixels BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS case_retrieval_refs (
  case_key INTEGER NOT NULL,
  sop_instance_uid TEXT NOT NULL,
  model_name TEXT NOT NULL,
  model_version TEXT NOT NULL,
  PRIMARY KEY (case_key, sop_instance_uid, model_name, model_version)
) WITHOUT ROWID;
-- Reports (reports.ts): history kept, an amended report supersedes the earlier one.
CREATE TABLE IF NOT EXISTS reports (
  id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  accession_number TEXT NOT NULL,
  study_instance_uid TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('preliminary', 'final', 'corrected', 'cancelled')),
  report_text TEXT NOT NULL,
  message_id TEXT NOT NULL,
  labels TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  matched_study_instance_uid TEXT,
  superseded_by INTEGER,
  reported_at INTEGER
);
-- The export outbox (exports.ts).
CREATE TABLE IF NOT EXISTS exports (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  sop_instance_uid TEXT NOT NULL,
  study_instance_uid TEXT NOT NULL,
  path TEXT NOT NULL,
  destination TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  sent_at INTEGER,
  UNIQUE (sop_instance_uid, destination)
);
-- Retention passes (retention.ts), for precedent status.
CREATE TABLE IF NOT EXISTS retention_runs (
  ran_at INTEGER NOT NULL,
  trigger TEXT NOT NULL CHECK (trigger IN ('age', 'cap')),
  studies INTEGER NOT NULL,
  files INTEGER NOT NULL,
  bytes INTEGER NOT NULL
);
`;

// Columns added to tables after their first release, each with the default its old rows get.
const ADDED_COLUMNS_1: ReadonlyArray<[table: string, column: string, definition: string]> = [
  // The archive AE records which of our AE titles an object was sent to.
  ['instances', 'called_ae_title', "TEXT NOT NULL DEFAULT ''"],
  ['cases', 'retrieve_ae_title', "TEXT NOT NULL DEFAULT ''"],
  // The public collection of a starter reference case (archive/reference); '' for the site's own cases.
  ['cases', 'public_collection', "TEXT NOT NULL DEFAULT ''"],
  // When the report was written (DICOM SR intake); NULL when the sender did not say.
  ['reports', 'reported_at', 'INTEGER'],
];

// Indexes after the columns: an index may name a column an old table gains above.
const INDEXES_1 = `
CREATE INDEX IF NOT EXISTS instances_by_study ON instances (study_instance_uid);
-- Scoped DICOMweb callers (dicomweb.auth tokens with sources) see the studies their sources sent.
CREATE INDEX IF NOT EXISTS instances_by_study_source ON instances (study_instance_uid, calling_ae_title);
CREATE INDEX IF NOT EXISTS studies_by_state ON studies (state);
CREATE INDEX IF NOT EXISTS embeddings_by_study ON embeddings (study_instance_uid);
CREATE INDEX IF NOT EXISTS dicom_objects_by_study ON dicom_objects (study_instance_uid, series_instance_uid);
CREATE INDEX IF NOT EXISTS dicom_objects_by_study_modality ON dicom_objects (study_instance_uid, modality);
CREATE INDEX IF NOT EXISTS dicom_objects_by_series ON dicom_objects (series_instance_uid);
CREATE INDEX IF NOT EXISTS dicom_objects_by_patient_id ON dicom_objects (patient_id);
CREATE INDEX IF NOT EXISTS dicom_objects_by_patient_name ON dicom_objects (patient_name_key);
CREATE INDEX IF NOT EXISTS dicom_objects_by_study_date ON dicom_objects (study_date);
-- Newest studies first (objects-query.ts): a page is read in this order and stops when full.
CREATE INDEX IF NOT EXISTS dicom_objects_by_date_time ON dicom_objects (study_date, study_time, study_instance_uid);
CREATE INDEX IF NOT EXISTS dicom_objects_by_accession ON dicom_objects (accession_number);
CREATE INDEX IF NOT EXISTS dicom_objects_by_modality ON dicom_objects (modality);
CREATE INDEX IF NOT EXISTS dicom_objects_by_sop_class ON dicom_objects (sop_class_uid);
CREATE INDEX IF NOT EXISTS cases_by_study ON cases (study_instance_uid);
CREATE INDEX IF NOT EXISTS cases_by_patient ON cases (patient_key) WHERE patient_key != '';
CREATE INDEX IF NOT EXISTS cases_by_accession ON cases (accession_number) WHERE accession_number != '';
CREATE INDEX IF NOT EXISTS case_retrievals_by_study ON case_retrievals (study_instance_uid);
CREATE INDEX IF NOT EXISTS case_retrievals_by_patient ON case_retrievals (patient_key) WHERE patient_key != '';
CREATE INDEX IF NOT EXISTS reports_by_accession ON reports (accession_number) WHERE accession_number <> '';
CREATE INDEX IF NOT EXISTS reports_by_study ON reports (study_instance_uid) WHERE study_instance_uid <> '';
CREATE INDEX IF NOT EXISTS reports_by_match ON reports (matched_study_instance_uid);
CREATE INDEX IF NOT EXISTS exports_due ON exports (state, next_attempt_at);
`;

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'the schema of every table, as before user_version was kept',
    up(db) {
      db.exec(TABLES_1);
      for (const [table, column, definition] of ADDED_COLUMNS_1) addColumnIfMissing(db, table, column, definition);
      db.exec(INDEXES_1);
    },
  },
  {
    version: 2,
    // Every index is written on each object's commit (issue 18): an index whose columns lead another
    // index of the same table answers nothing the longer one does not.
    name: 'drop indexes that are a leading prefix of another',
    up(db) {
      // (study_date) leads dicom_objects_by_date_time (study_date, study_time, study_instance_uid).
      db.exec('DROP INDEX IF EXISTS dicom_objects_by_study_date');
      // (study_instance_uid) leads instances_by_study_source (study_instance_uid, calling_ae_title).
      db.exec('DROP INDEX IF EXISTS instances_by_study');
    },
  },
];

/** The schema version this code writes and reads. */
export const LATEST_VERSION = MIGRATIONS.length;

const versionOf = (db: Database.Database): number => db.pragma('user_version', { simple: true }) as number;

/** Throws when the catalog was written by a newer node (a schema this code does not know). */
export function checkVersion(db: Database.Database, file: string): number {
  const version = versionOf(db);
  if (version > LATEST_VERSION) {
    throw new Error(
      `${file} has catalog schema version ${version}, newer than this version of Precedent knows (${LATEST_VERSION}): it was written by a newer node; run that version or restore a backup made before the upgrade`,
    );
  }
  return version;
}

/** Applies the migrations the catalog has not had, each in its own BEGIN IMMEDIATE transaction. */
export function migrate(db: Database.Database, file: string): void {
  checkVersion(db, file);
  for (const migration of MIGRATIONS) {
    // An up-to-date catalog opens without taking the write lock.
    if (versionOf(db) >= migration.version) continue;
    db.transaction(() => {
      // Read again under the write lock: another process may have applied it while we waited.
      if (checkVersion(db, file) >= migration.version) return;
      try {
        migration.up(db);
      } catch (err) {
        throw new Error(`${file}: catalog migration ${migration.version} (${migration.name}) failed: ${err instanceof Error ? err.message : String(err)}`, {
          cause: err,
        });
      }
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
}
