// The report store contract (implemented by store/reports.ts): radiology reports kept with their study
// in the catalog database. A report is keyed by Accession Number and/or Study Instance UID; it is
// matched to a study when one with that key has arrived (now or later). Report text is PHI: it lives
// here and in nothing that is logged.

export type ReportSource = 'hl7' | 'fhir' | 'dicom-sr';
/** HL7 v2 OBR-25 / FHIR DiagnosticReport.status, reduced: preliminary, final, corrected (amended), cancelled. */
export type ReportStatus = 'preliminary' | 'final' | 'corrected' | 'cancelled';

export interface ReportLabelSummary {
  status: 'normal' | 'abnormal';
  findings: string[];
  uncertain: string[];
}

/** A report as an intake read it (HL7 ORU, FHIR DiagnosticReport, DICOM SR), before labelling. */
export interface IncomingReport {
  AccessionNumber: string;
  StudyInstanceUID: string;
  status: ReportStatus;
  text: string;
  /**
   * When the report was written (ms since epoch; SR Content Date/Time), if the sender says: a report
   * written earlier than the key's current one never replaces it, whatever order they arrive in.
   */
  reportedAt?: number;
}

export interface NewReport {
  source: ReportSource;
  /** Empty when the sender gave none; at least one of AccessionNumber and StudyInstanceUID is set. */
  AccessionNumber: string;
  StudyInstanceUID: string;
  status: ReportStatus;
  text: string;
  /** The sender's message or resource id (MSH-10, DiagnosticReport.id): for tracing, not PHI. */
  messageId: string;
  /** The labeller's reading of the text (reports/labeller.ts). */
  labels: ReportLabelSummary;
  /** See IncomingReport.reportedAt. */
  reportedAt?: number;
}

export interface StoredReport extends NewReport {
  id: number;
  receivedAt: number;
  /** The study it belongs to; undefined while it waits for its study. */
  matchedStudyInstanceUID: string | undefined;
  /** The later report that replaced this one (an amendment); undefined for the current report. */
  supersededBy: number | undefined;
}

export interface ReportStore {
  /**
   * Stores a report and returns it with its match. A later report for the same key replaces earlier ones,
   * except that a preliminary report never replaces a final or corrected one, and a report written
   * before the current one (both with reportedAt) replaces it only when it is final and that one is not.
   */
  put(report: NewReport, now: number): StoredReport;
  /** Matches waiting reports (replaced ones too: the history) to the study, by its Study Instance UID or its objects' Accession Numbers; returns how many. */
  matchStudy(StudyInstanceUID: string): number;
  /** The current (not superseded, not cancelled) report of a study. */
  currentForStudy(StudyInstanceUID: string): StoredReport | undefined;
  /** Current reports matched to a study, oldest first. */
  currentMatched(): StoredReport[];
  /** Reports still waiting for their study. */
  waitingCount(): number;
  close(): void;
}
