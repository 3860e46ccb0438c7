// Tables and row mapping of the case store (store/cases.ts).
import type { CaseFacts } from '../shared/case-store.js';
import type { CaseRecord } from '../shared/cases.js';

export const SCHEMA = `
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
  retrieve_ae_title TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS cases_by_study ON cases (study_instance_uid);
CREATE INDEX IF NOT EXISTS cases_by_patient ON cases (patient_key) WHERE patient_key != '';
CREATE INDEX IF NOT EXISTS cases_by_accession ON cases (accession_number) WHERE accession_number != '';
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
CREATE INDEX IF NOT EXISTS case_retrievals_by_study ON case_retrievals (study_instance_uid);
CREATE INDEX IF NOT EXISTS case_retrievals_by_patient ON case_retrievals (patient_key) WHERE patient_key != '';
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
`;

/**
 * Columns added after the first release, for catalogs created before them (CREATE TABLE IF NOT EXISTS
 * leaves an existing table as it is).
 */
export const ADDED_COLUMNS: ReadonlyArray<{ table: string; column: string; definition: string }> = [
  { table: 'cases', column: 'retrieve_ae_title', definition: "TEXT NOT NULL DEFAULT ''" },
  // The public collection of a starter reference case (archive/reference); '' for the site's own cases.
  { table: 'cases', column: 'public_collection', definition: "TEXT NOT NULL DEFAULT ''" },
];

export interface CaseRow {
  case_key: bigint;
  sop_instance_uid: string;
  instance_version: bigint;
  study_instance_uid: string;
  accession_number: string;
  study_date: string;
  patient_key: string;
  labels: string;
  age: number | bigint | null;
  sex: 'M' | 'F' | 'O' | null;
  outcomes: string;
  clinical: string;
  facts_hash: string;
  source: CaseRecord['source'];
  retrieve_ae_title: string;
  public_collection: string;
  seq: bigint | null;
  created_at: bigint;
  updated_at: bigint;
}

export function floats(blob: Buffer): Float32Array {
  // Copy: SQLite's buffer may not be 4-byte aligned.
  const copy = new Uint8Array(blob);
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
}

/** The record (with `modelVersion`) and the facts of a row. */
export function toRecord(r: CaseRow, modelVersion: string): { record: CaseRecord; facts: CaseFacts } {
  const facts: CaseFacts = {
    labels: JSON.parse(r.labels) as string[],
    age: r.age === null ? null : Number(r.age),
    sex: r.sex,
    outcomes: JSON.parse(r.outcomes) as Record<string, string>,
    clinical: JSON.parse(r.clinical) as Record<string, string>,
  };
  const record: CaseRecord = {
    caseKey: r.case_key.toString(),
    SOPInstanceUID: r.sop_instance_uid,
    StudyInstanceUID: r.study_instance_uid,
    AccessionNumber: r.accession_number,
    StudyDate: r.study_date,
    patientKey: r.patient_key,
    ...facts,
    source: r.source,
    retrieveAETitle: r.retrieve_ae_title,
    ...(r.public_collection ? { publicCollection: r.public_collection } : {}),
    modelVersion,
  };
  return { record, facts };
}
