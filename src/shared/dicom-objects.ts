// The searchable index of every object the node holds (received instances and its own results):
// what QIDO-RS matches on and WADO-RS finds files by. Implemented by store/ (SQLite), queried by
// the DICOMweb edge. These rows hold patient identity: they stay in the catalog and the HTTP
// responses of authorised callers, never in logs or job payloads.

/** Attributes read from an object's header for searching (PS3.18 10.6.3 return attributes). */
export interface QueryAttributes {
  StudyInstanceUID: string;
  SeriesInstanceUID: string;
  SOPInstanceUID: string;
  SOPClassUID: string;
  Modality: string;
  PatientID: string;
  /** As encoded, all component groups (Alphabetic=Ideographic=Phonetic). */
  PatientName: string;
  PatientBirthDate: string;
  PatientSex: string;
  StudyDate: string;
  StudyTime: string;
  AccessionNumber: string;
  ReferringPhysicianName: string;
  StudyID: string;
  StudyDescription: string;
  SeriesDescription: string;
  /** IS values; null when absent or not an integer. */
  SeriesNumber: number | null;
  InstanceNumber: number | null;
  Rows: number | null;
  Columns: number | null;
  BitsAllocated: number | null;
  NumberOfFrames: number | null;
}

export type ObjectOrigin = 'received' | 'result';

export interface IndexedObject extends QueryAttributes {
  origin: ObjectOrigin;
  /** The catalog version of a received instance (the latest with a file); 0 for results. */
  version: number;
  /** Relative to storage.dataDir. */
  path: string;
  size: number;
  TransferSyntaxUID: string;
}

export type QueryLevel = 'study' | 'series' | 'instance';

/** Keys the index can match on (DICOM keywords). */
export const MATCH_KEYS = [
  'PatientID',
  'PatientName',
  'PatientBirthDate',
  'PatientSex',
  'StudyInstanceUID',
  'StudyDate',
  'StudyTime',
  'AccessionNumber',
  'ReferringPhysicianName',
  'StudyID',
  'StudyDescription',
  'ModalitiesInStudy',
  'SeriesInstanceUID',
  'Modality',
  'SeriesNumber',
  'SeriesDescription',
  'SOPInstanceUID',
  'SOPClassUID',
  'InstanceNumber',
] as const;
export type MatchKey = (typeof MATCH_KEYS)[number];

/**
 * One matching condition (PS3.4 C.2.2.2), already validated. `values`: any of them (single value or
 * UID list matching); `wildcard`: `*` and `?` as in PS3.4 C.2.2.2.4; `range`: inclusive bounds in
 * the attribute's own encoding (DA YYYYMMDD; TM padded to HHMMSS.FFFFFF), either may be open.
 * Person Name keys match case-insensitively; everything else is case-sensitive.
 */
export type Match =
  | { key: MatchKey; type: 'values'; values: string[] }
  | { key: MatchKey; type: 'wildcard'; pattern: string }
  | { key: MatchKey; type: 'range'; from?: string; to?: string };

export interface ObjectQuery {
  level: QueryLevel;
  matches: Match[];
  limit: number;
  offset: number;
  /** A scoped caller's sources (calling AE titles): only studies received from one of them match. */
  sources?: readonly string[];
}

export interface SearchRow extends IndexedObject {
  /** Study level only: over every object of the study, not just the matching ones. */
  ModalitiesInStudy?: string[];
  NumberOfStudyRelatedSeries?: number;
  NumberOfStudyRelatedInstances?: number;
  /** Series level only. */
  NumberOfSeriesRelatedInstances?: number;
}

export interface ObjectIndex {
  /** One row per matching study, series or instance; `more` when rows past the limit matched. */
  search(query: ObjectQuery): { rows: SearchRow[]; more: boolean };
  /**
   * The objects under a study (and series, instance), for WADO-RS; ordered by series, number, UID.
   * With `sources`, none unless the study was received from one of them.
   */
  objects(StudyInstanceUID: string, SeriesInstanceUID?: string, SOPInstanceUID?: string, sources?: readonly string[]): IndexedObject[];
  /** Adds or replaces the row of an object (a result written, a file found by the backfill). */
  put(object: IndexedObject): void;
  has(SOPInstanceUID: string): boolean;
  close(): void;
}

/**
 * A TM value as a fixed-width key (HHMMSS.FFFFFF) so that times compare as strings. Missing parts are
 * zeros, or, for the upper bound of a range ('high'), their largest value: "12" reaches 12:59:59.999999.
 * Returns undefined for a value that is not a TM (colons of ACR-NEMA times are tolerated).
 */
export function timeKey(tm: string, bound: 'low' | 'high' = 'low'): string | undefined {
  const m = /^(\d{2})(\d{2})?(\d{2})?(?:\.(\d{1,6}))?$/.exec(tm.trim().replace(/:/g, ''));
  if (!m) return undefined;
  const [, hh = '', mm, ss, frac] = m;
  if (Number(hh) > 23 || Number(mm ?? 0) > 59 || Number(ss ?? 0) > 60) return undefined;
  if (frac !== undefined && ss === undefined) return undefined;
  const fill = (part: string | undefined, max: string): string => part ?? (bound === 'high' ? max : '0'.repeat(max.length));
  const fraction = frac !== undefined ? frac.padEnd(6, bound === 'high' ? '9' : '0') : bound === 'high' ? '999999' : '000000';
  return `${hh}${fill(mm, '59')}${fill(ss, '59')}.${fraction}`;
}

/** The alphabetic component group of a Person Name, upper-cased: what Person Name keys match on. */
export function personNameKey(pn: string): string {
  return (pn.split('=')[0] ?? '').trim().toUpperCase();
}
