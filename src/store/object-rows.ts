// The object index table (shared/dicom-objects.ts) in the catalog database: one row per SOP Instance
// UID that has a file (the latest version of a received instance, or a result object), with the
// attributes QIDO-RS matches on, each key indexed (the table and its indexes: migrations.ts). Received instances are added in the catalog's own
// transaction (catalog.ts); results and the one-off backfill of older catalogs go through put().
import type Database from 'better-sqlite3';
import { personNameKey, timeKey, type IndexedObject } from '../shared/dicom-objects.js';

export interface ObjectRow {
  sop_instance_uid: string;
  origin: IndexedObject['origin'];
  version: number;
  path: string;
  size: number;
  transfer_syntax_uid: string;
  study_instance_uid: string;
  series_instance_uid: string;
  sop_class_uid: string;
  modality: string;
  patient_id: string;
  patient_name: string;
  patient_name_key: string;
  patient_birth_date: string;
  patient_sex: string;
  study_date: string;
  study_time: string;
  study_time_key: string;
  accession_number: string;
  referring_physician_name: string;
  referring_physician_name_key: string;
  study_id: string;
  study_description: string;
  series_description: string;
  series_number: number | null;
  instance_number: number | null;
  rows: number | null;
  columns: number | null;
  bits_allocated: number | null;
  number_of_frames: number | null;
}

export function toRow(o: IndexedObject): ObjectRow {
  return {
    sop_instance_uid: o.SOPInstanceUID,
    origin: o.origin,
    version: o.version,
    path: o.path,
    size: o.size,
    transfer_syntax_uid: o.TransferSyntaxUID,
    study_instance_uid: o.StudyInstanceUID,
    series_instance_uid: o.SeriesInstanceUID,
    sop_class_uid: o.SOPClassUID,
    modality: o.Modality,
    patient_id: o.PatientID,
    patient_name: o.PatientName,
    patient_name_key: personNameKey(o.PatientName),
    patient_birth_date: o.PatientBirthDate,
    patient_sex: o.PatientSex,
    study_date: o.StudyDate,
    study_time: o.StudyTime,
    // An unreadable time is kept for display but never falls inside a range.
    study_time_key: timeKey(o.StudyTime) ?? '',
    accession_number: o.AccessionNumber,
    referring_physician_name: o.ReferringPhysicianName,
    referring_physician_name_key: personNameKey(o.ReferringPhysicianName),
    study_id: o.StudyID,
    study_description: o.StudyDescription,
    series_description: o.SeriesDescription,
    series_number: o.SeriesNumber,
    instance_number: o.InstanceNumber,
    rows: o.Rows,
    columns: o.Columns,
    bits_allocated: o.BitsAllocated,
    number_of_frames: o.NumberOfFrames,
  };
}

export function fromRow(r: ObjectRow): IndexedObject {
  return {
    SOPInstanceUID: r.sop_instance_uid,
    origin: r.origin,
    version: r.version,
    path: r.path,
    size: r.size,
    TransferSyntaxUID: r.transfer_syntax_uid,
    StudyInstanceUID: r.study_instance_uid,
    SeriesInstanceUID: r.series_instance_uid,
    SOPClassUID: r.sop_class_uid,
    Modality: r.modality,
    PatientID: r.patient_id,
    PatientName: r.patient_name,
    PatientBirthDate: r.patient_birth_date,
    PatientSex: r.patient_sex,
    StudyDate: r.study_date,
    StudyTime: r.study_time,
    AccessionNumber: r.accession_number,
    ReferringPhysicianName: r.referring_physician_name,
    StudyID: r.study_id,
    StudyDescription: r.study_description,
    SeriesDescription: r.series_description,
    SeriesNumber: r.series_number,
    InstanceNumber: r.instance_number,
    Rows: r.rows,
    Columns: r.columns,
    BitsAllocated: r.bits_allocated,
    NumberOfFrames: r.number_of_frames,
  };
}

/** The upsert used by the catalog and put(), on a connection from openStore (the table exists). */
export function objectUpsert(db: Database.Database): (o: IndexedObject) => void {
  // Every column of the table, each bound by name from toRow: a column toRow lacks fails here, at open.
  const columns = db
    .prepare<[], { name: string }>('PRAGMA table_info(dicom_objects)')
    .all()
    .map((c) => c.name);
  const statement = db.prepare(`INSERT OR REPLACE INTO dicom_objects (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`);
  return (o) => {
    statement.run(toRow(o));
  };
}
