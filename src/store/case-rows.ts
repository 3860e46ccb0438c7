// Row mapping of the case store (store/cases.ts); its tables are in migrations.ts.
import type { CaseFacts } from '../shared/case-store.js';
import type { CaseRecord } from '../shared/cases.js';

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
