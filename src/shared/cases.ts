// Plain types of the historical archive and similar-case retrieval (index/, report/, export/).

/** One indexed image of a past study with what is known about it. No direct patient identity. */
export interface CaseRecord {
  /** 64-bit index key (as a decimal string: JSON and SQLite-safe). */
  caseKey: string;
  SOPInstanceUID: string;
  StudyInstanceUID: string;
  AccessionNumber: string;
  /** DICOM DA (YYYYMMDD) or ''. */
  StudyDate: string;
  /** Keyed hash (HMAC) of the patient identity, for same-patient exclusion only. */
  patientKey: string;
  /** Findings, e.g. ["COVID-19"], ["normal"]; empty until labels arrive. */
  labels: string[];
  age: number | null;
  sex: 'M' | 'F' | 'O' | null;
  /** Outcomes such as intubated, went_icu, survival: "Y" | "N". */
  outcomes: Record<string, string>;
  /** Free-form clinical key/values (temperature, pO2 saturation, ...). */
  clinical: Record<string, string>;
  /** Where it came from: 'import' (CLI), 'archive-ae' (second AE title), 'incoming' (clinical studies). */
  source: 'import' | 'archive-ae' | 'incoming';
  /**
   * AE title of the archive that holds the case's study, where a viewer retrieves it: `precedent
   * import --ae`, or the calling AE title of the peer that sent an archive or incoming study. '' when
   * unknown (e.g. imported PNG/JPEG files, which exist in no PACS).
   */
  retrieveAETitle: string;
  /**
   * A starter reference case (archive/reference, imported at start-up): the public collection it comes
   * from, e.g. "NIH ChestX-ray14". Absent for the site's own cases: results say which are not local.
   */
  publicCollection?: string;
  modelVersion: string;
}

export interface SimilarCase {
  rank: number;
  /** Cosine similarity in [-1, 1]. */
  similarity: number;
  case: CaseRecord;
}

export interface LabelProbability {
  label: string;
  probability: number;
}

/** What the report shows for one analysed image. */
export interface RetrievalResult {
  SOPInstanceUID: string;
  StudyInstanceUID: string;
  modelName: string;
  modelVersion: string;
  k: number;
  cases: SimilarCase[];
  /** Similarity-weighted neighbour vote, per label, sorted by probability. */
  vote: LabelProbability[];
}
