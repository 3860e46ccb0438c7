// The case store contract (implemented by store/cases.ts): the historical archive in the catalog's
// SQLite file. It is the source of truth for what is searchable; the vector index file is a cache that
// index/ rebuilds from it. Case vectors are the catalog's stored embeddings (table `embeddings`).
import type { CaseRecord, RetrievalResult } from './cases.js';

/** What is known about a case besides its image: findings, demographics, outcomes. */
export interface CaseFacts {
  labels: string[];
  age: number | null;
  sex: CaseRecord['sex'];
  outcomes: Record<string, string>;
  clinical: Record<string, string>;
}

/**
 * A small grey picture of a case's radiograph (8-bit display values, 0 black, long side at most
 * CASE_THUMBNAIL_SIDE), drawn on the similar-cases page: cases from `precedent import` (whose files are
 * not kept) get one at import; cases held as files, when a page first draws them (so that later pages
 * need not decode a full-size radiograph again).
 */
export interface CaseThumbnail {
  width: number;
  height: number;
  pixels: Uint8Array;
}

/** Long side of a stored case thumbnail: about the cell size of a 10-case page (1024 px). */
export const CASE_THUMBNAIL_SIDE = 256;

export interface NewCase {
  SOPInstanceUID: string;
  /** Instance version whose embedding is the case's vector (0: a file imported, never ingested). */
  instanceVersion: number;
  StudyInstanceUID: string;
  AccessionNumber: string;
  StudyDate: string;
  /** Keyed hash of the patient identity ('' when unknown: then it matches no other case). */
  patientKey: string;
  source: CaseRecord['source'];
  /** See CaseRecord.retrieveAETitle; default ''. */
  retrieveAETitle?: string;
  /** See CaseRecord.publicCollection; default '' (a case of this site). */
  publicCollection?: string;
  /**
   * Facts to store. Undefined keeps the facts a case already has (an archive study embedded again),
   * or starts a new case with the labels loaded for its study (`precedent labels load`), if any.
   */
  facts?: CaseFacts;
  /** Age and sex from the DICOM header: used where the facts have none. */
  demographics?: { age: number | null; sex: CaseFacts['sex'] };
  /** The case's vector was (re)computed, so index caches must re-read it (default true). */
  reindex?: boolean;
  /** Stored (replacing an earlier one) when given; kept otherwise, unless the instance version changed. */
  thumbnail?: CaseThumbnail;
}

/** The model whose embeddings a search or rebuild uses. */
export interface CaseModel {
  name: string;
  version: string;
}

export interface CaseVector {
  caseKey: bigint;
  vector: Float32Array;
}

/** One entry of the change log that index caches replay (`seq` grows monotonically). */
export interface CaseChange {
  seq: number;
  op: 'add' | 'remove';
  caseKey: bigint;
}

export type CaseSelector = { patientKey: string } | { StudyInstanceUID: string } | { caseKeys: bigint[] };

/**
 * clinical.label_source of labels read from a report by the report rules. Such labels never replace
 * labels of another source (an operator's CSV, `label_source: csv`): those win, whichever comes first.
 */
export const REPORT_LABEL_SOURCE = 'report-rules';

/** Labels for a study that may not have arrived yet, matched by AccessionNumber or StudyInstanceUID. */
export interface StudyLabels {
  match: { AccessionNumber: string } | { StudyInstanceUID: string } | { SOPInstanceUID: string };
  facts: CaseFacts;
}

export interface PutResult {
  added: number;
  updated: number;
  unchanged: number;
}

export interface CaseStore {
  /** Inserts or updates cases (one transaction); each change is logged for the index caches. */
  putCases(cases: NewCase[], now: number): PutResult;
  /** Cases by key, with `modelVersion` set to the given model's version. */
  cases(caseKeys: readonly bigint[], model: CaseModel): Map<bigint, CaseRecord>;
  /** What is stored of each existing case: facts fingerprint, retrieve AE, a vector of `model`, a thumbnail (import resume). */
  existing(
    SOPInstanceUIDs: readonly string[],
    model: CaseModel,
  ): Map<string, { factsHash: string; retrieveAETitle: string; hasVector: boolean; hasThumbnail: boolean }>;
  /** Keys of the cases of a study or of a patient (search exclusion). A '' patient key matches nothing. */
  keysOf(selector: { StudyInstanceUID?: string; patientKey?: string }): bigint[];
  /** Stored thumbnails of these cases (cases without one are absent). */
  thumbnails(caseKeys: readonly bigint[]): Map<bigint, CaseThumbnail>;
  /** Stores thumbnails of existing cases (made when a page first draws a case from its file); unknown keys are skipped. */
  putThumbnails(thumbnails: ReadonlyMap<bigint, CaseThumbnail>): void;
  /**
   * Erasure: removes the selected cases, their stored embeddings and thumbnails and their appearances
   * in stored retrieval results; logs removals for the index caches. Returns the removed keys.
   */
  deleteCases(selector: CaseSelector, now: number): bigint[];
  /**
   * Stores labels by accession / study / SOP and applies them to the matching cases now and later.
   * Report-rule labels (REPORT_LABEL_SOURCE) leave labels of another source in place, and a case that
   * keeps such labels notes a report that disagrees on normal / abnormal in clinical.report_disagrees.
   */
  loadLabels(rows: StudyLabels[], now: number): { rows: number; casesUpdated: number; pending: number };
  count(model?: CaseModel): number;
  /** Changes after `afterSeq`, oldest first (at most `limit`). */
  changes(afterSeq: number, limit: number): CaseChange[];
  lastSeq(): number;
  /** Vectors of these cases under `model` (cases without one are absent). */
  vectors(caseKeys: readonly bigint[], model: CaseModel): CaseVector[];
  /** All case vectors under `model`, by ascending key, in pages (index rebuild). */
  vectorPage(model: CaseModel, afterKey: bigint, limit: number): CaseVector[];
  /**
   * Persists the retrieval results of a study's images (replaces earlier ones for the same images and
   * model). `patientKey` is the query's, so that an erasure request for that patient removes them too.
   */
  saveRetrievals(results: RetrievalResult[], patientKey: string, now: number): void;
  retrievals(StudyInstanceUID: string, model?: CaseModel): RetrievalResult[];
  close(): void;
}
