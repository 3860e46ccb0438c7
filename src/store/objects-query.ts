// QIDO-RS searches as SQL over dicom_objects (objects.ts). Every condition becomes a bound parameter
// on an indexed column; studies and series are one row each (the first matching object gives their
// attributes) and their counts cover every object under them, matching or not.
import type Database from 'better-sqlite3';
import type { Match, MatchKey, ObjectQuery, SearchRow } from '../shared/dicom-objects.js';
import { fromRow, type ObjectRow } from './object-rows.js';

type Kind = 'text' | 'pn' | 'int' | 'date' | 'time';

const COLUMNS: Record<Exclude<MatchKey, 'ModalitiesInStudy'>, { column: string; kind: Kind }> = {
  PatientID: { column: 'patient_id', kind: 'text' },
  PatientName: { column: 'patient_name_key', kind: 'pn' },
  PatientBirthDate: { column: 'patient_birth_date', kind: 'date' },
  PatientSex: { column: 'patient_sex', kind: 'text' },
  StudyInstanceUID: { column: 'study_instance_uid', kind: 'text' },
  StudyDate: { column: 'study_date', kind: 'date' },
  StudyTime: { column: 'study_time_key', kind: 'time' },
  AccessionNumber: { column: 'accession_number', kind: 'text' },
  ReferringPhysicianName: { column: 'referring_physician_name_key', kind: 'pn' },
  StudyID: { column: 'study_id', kind: 'text' },
  StudyDescription: { column: 'study_description', kind: 'text' },
  SeriesInstanceUID: { column: 'series_instance_uid', kind: 'text' },
  Modality: { column: 'modality', kind: 'text' },
  SeriesNumber: { column: 'series_number', kind: 'int' },
  SeriesDescription: { column: 'series_description', kind: 'text' },
  SOPInstanceUID: { column: 'sop_instance_uid', kind: 'text' },
  SOPClassUID: { column: 'sop_class_uid', kind: 'text' },
  InstanceNumber: { column: 'instance_number', kind: 'int' },
};

/** DICOM wildcards (* and ?) are GLOB's; a literal '[' must not open a GLOB character class. */
const glob = (pattern: string): string => pattern.replace(/\[/g, '[[]');

function condition(m: Match, column: string, kind: Kind, params: unknown[]): string {
  const norm = (v: string): string | number => (kind === 'pn' ? v.toUpperCase() : kind === 'int' ? Number(v) : v);
  switch (m.type) {
    case 'values':
      params.push(...m.values.map(norm));
      return `${column} IN (${m.values.map(() => '?').join(', ')})`;
    case 'wildcard':
      params.push(glob(String(norm(m.pattern))));
      return `${column} GLOB ?`;
    case 'range': {
      // An empty value is not inside any range (PS3.4 C.2.2.2.5).
      const parts = [`${column} <> ''`];
      if (m.from !== undefined) {
        parts.push(`${column} >= ?`);
        params.push(m.from);
      }
      if (m.to !== undefined) {
        parts.push(`${column} <= ?`);
        params.push(m.to);
      }
      return parts.join(' AND ');
    }
  }
}

/** The conditions on the object row aliased `a` (its parameters appended to `params`); '1' when none. */
function conditions(a: string, matches: readonly Match[], params: unknown[], sources: readonly string[] | undefined): string {
  const parts: string[] = [];
  if (sources) {
    // A scoped caller sees the studies received from its sources (and the results made for them).
    parts.push(
      sources.length === 0
        ? '0'
        : `EXISTS (SELECT 1 FROM instances i WHERE i.study_instance_uid = ${a}.study_instance_uid AND i.calling_ae_title IN (${sources.map(() => '?').join(', ')}))`,
    );
    params.push(...sources);
  }
  for (const m of matches) {
    if (m.key === 'ModalitiesInStudy') {
      // A study matches when any of its objects has one of the modalities.
      const inner = condition(m, 'y.modality', 'text', params);
      parts.push(`EXISTS (SELECT 1 FROM dicom_objects y WHERE y.study_instance_uid = ${a}.study_instance_uid AND ${inner})`);
      continue;
    }
    const { column, kind } = COLUMNS[m.key];
    parts.push(condition(m, `${a}.${column}`, kind, params));
  }
  return parts.length > 0 ? parts.join(' AND ') : '1';
}

function where(matches: readonly Match[], params: unknown[], sources: readonly string[] | undefined): string {
  const c = conditions('o', matches, params, sources);
  return c === '1' ? '' : `WHERE ${c}`;
}

interface Counted extends ObjectRow {
  modalities?: string | null;
  n_series?: number;
  n_instances?: number;
}

export function searchObjects(db: Database.Database, query: ObjectQuery): { rows: SearchRow[]; more: boolean } {
  const params: unknown[] = [];
  const filter = where(query.matches, params, query.sources);
  let sql: string;
  if (query.level === 'instance') {
    sql = `SELECT o.* FROM dicom_objects o ${filter}
           ORDER BY o.study_date DESC, o.study_instance_uid, o.series_number, o.series_instance_uid, o.instance_number, o.sop_instance_uid`;
  } else if (query.level === 'series') {
    sql = `SELECT o.*, (SELECT COUNT(*) FROM dicom_objects x WHERE x.series_instance_uid = o.series_instance_uid) AS n_instances
           FROM (SELECT MIN(o.rowid) AS first FROM dicom_objects o ${filter} GROUP BY o.series_instance_uid) m
           JOIN dicom_objects o ON o.rowid = m.first
           ORDER BY o.study_date DESC, o.study_instance_uid, o.series_number, o.series_instance_uid`;
  } else {
    // One row per study: a matching object that is its study's first matching one (lowest rowid).
    // Written as a per-row check rather than GROUP BY so that, ordered by the date index, a page of
    // the newest studies stops after reading its rows instead of grouping the whole table.
    const inner: unknown[] = [];
    const filterX = conditions('x', query.matches, inner, query.sources);
    params.unshift(...inner); // the inner conditions come first in the statement
    sql = `SELECT o.*,
             (SELECT group_concat(DISTINCT x.modality) FROM dicom_objects x WHERE x.study_instance_uid = o.study_instance_uid AND x.modality <> '') AS modalities,
             (SELECT COUNT(DISTINCT x.series_instance_uid) FROM dicom_objects x WHERE x.study_instance_uid = o.study_instance_uid) AS n_series,
             (SELECT COUNT(*) FROM dicom_objects x WHERE x.study_instance_uid = o.study_instance_uid) AS n_instances
           FROM dicom_objects o
           WHERE o.rowid = (SELECT MIN(x.rowid) FROM dicom_objects x WHERE x.study_instance_uid = o.study_instance_uid AND ${filterX})
             ${filter ? `AND ${filter.slice('WHERE '.length)}` : ''}
           ORDER BY o.study_date DESC, o.study_time DESC, o.study_instance_uid DESC`;
  }
  // One row past the page tells whether more matched.
  const found = db.prepare<unknown[], Counted>(`${sql} LIMIT ? OFFSET ?`).all(...params, query.limit + 1, query.offset);
  const rows = found.slice(0, query.limit).map((r): SearchRow => {
    const row: SearchRow = fromRow(r);
    if (query.level === 'study') {
      row.ModalitiesInStudy = (r.modalities ?? '').split(',').filter(Boolean).sort();
      row.NumberOfStudyRelatedSeries = r.n_series ?? 0;
      row.NumberOfStudyRelatedInstances = r.n_instances ?? 0;
    } else if (query.level === 'series') {
      row.NumberOfSeriesRelatedInstances = r.n_instances ?? 0;
    }
    return row;
  });
  return { rows, more: found.length > query.limit };
}
