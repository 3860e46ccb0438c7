// Plain types that capabilities exchange. Leaf folders import only these, never one another.
import type { Writable } from 'node:stream';
import type { Logger } from './log.js';
import type { IncomingReport } from './reports.js';

/** The attributes ingest reads from a received object (never patient identity). */
export interface InstanceHeader {
  SOPClassUID: string;
  SOPInstanceUID: string;
  StudyInstanceUID: string;
  SeriesInstanceUID: string;
  Modality: string;
  BodyPartExamined: string;
  AnatomicRegionCodes: string[]; // "scheme:value" of AnatomicRegionSequence items
  ViewPosition: string;
  PresentationIntentType: string;
  ImageType: string[];
  /** Secondary Capture: how the image was made (DV, DI, DF, WSD, SD, SI, DRW, SYN); '' otherwise. */
  ConversionType: string;
  hasPixelData: boolean;
}

/** `report`: a structured report that may be a radiology report, read for its text (ingest/sr-report.ts). */
export type TriageResult = { analyzable: true } | { analyzable: false; reason: string; report?: true };

/** Who sent an object: a DIMSE association or (later) an HTTP request. */
export interface IngestSource {
  protocol: 'dimse' | 'dicomweb';
  callingAETitle: string;
  calledAETitle: string;
  remoteAddress: string;
  associationId: string;
}

export interface StoreRequest {
  SOPClassUID: string;
  SOPInstanceUID: string;
  TransferSyntaxUID: string;
  source: IngestSource;
  /** When set (STOW-RS to /studies/{uid}), an object of another study is refused (STUDY_MISMATCH), never stored. */
  expectedStudyInstanceUID?: string;
}

export type IngestDisposition =
  | 'stored' // new object, durable and catalogued
  | 'duplicate' // identical object already held: acknowledged, not processed again
  | 'new-version' // different object under an existing SOP Instance UID: kept as a new version
  | 'ignored'; // acknowledged and recorded, but not something we analyse

export interface IngestOutcome {
  disposition: IngestDisposition;
  SOPInstanceUID: string;
  StudyInstanceUID: string;
  /** Set by ingest for every outcome it records. */
  SeriesInstanceUID?: string;
  version: number;
  reason?: string;
  /** A radiology report read from a received SR (not set for a duplicate). Report text: never logged. */
  report?: IncomingReport;
}

/** A C-STORE (or STOW part) being received: data is written to it, then `complete()` makes it durable. */
export interface InstanceReceiver {
  readonly stream: Writable;
  /** Resolves once the object is fsynced and recorded; rejects with a PrecedentError otherwise. */
  complete(): Promise<IngestOutcome>;
  /** The sender went away: drop the partial object. */
  discard(): Promise<void>;
}

export interface IngestService {
  /** Throws PrecedentError (OUT_OF_RESOURCES...) when the object cannot even be started. */
  begin(request: StoreRequest, log: Logger): InstanceReceiver;
}

/** receiving -> queued -> decoding -> embedded -> done (or failed, with a reason). */
export type StudyState = 'receiving' | 'queued' | 'decoding' | 'embedded' | 'done' | 'failed';
export type ActiveStudyState = 'decoding' | 'embedded';

export interface StudyRecord {
  StudyInstanceUID: string;
  state: StudyState;
  generation: number;
  firstReceivedAt: number;
  roundStartedAt: number;
  lastReceivedAt: number;
  instanceCount: number;
  reason: string | null;
}

export interface InstanceRecord {
  SOPInstanceUID: string;
  version: number;
  StudyInstanceUID: string;
  SeriesInstanceUID: string;
  SOPClassUID: string;
  TransferSyntaxUID: string;
  path: string | null; // relative to storage.dataDir; null once an ignored object's file is removed
  size: number;
  sha256: string;
  status: 'accepted' | 'ignored';
  reason: string | null;
  callingAETitle: string;
  /** The AE title the sender called: dimse.aeTitle, or dimse.archiveAeTitle for archive cases ('' for other sources). */
  calledAETitle: string;
  receivedAt: number;
}

/** Job data carries UIDs only: never patient identity. */
export interface AnalyzeStudyJob {
  StudyInstanceUID: string;
  generation: number;
}

export interface JobAttempt {
  /** 1 for the first run. */
  attempt: number;
  /** No retry follows if this attempt fails. */
  final: boolean;
}

export type AnalyzeStudyHandler = (job: AnalyzeStudyJob, attempt: JobAttempt) => Promise<void>;

export interface FailedJob {
  id: string;
  job: AnalyzeStudyJob;
  reason: string;
  attempts: number;
  failedAt: number;
}

export interface JobQueue {
  readonly backend: 'in-process' | 'bullmq';
  enqueue(job: AnalyzeStudyJob): Promise<void>;
  /** Registers the worker; jobs enqueued before or after are handed to it. */
  process(handler: AnalyzeStudyHandler): void;
  /** Waiting + delayed + active jobs. */
  depth(): Promise<number>;
  /** Jobs whose last attempt failed (kept for inspection). */
  failed(): Promise<FailedJob[]>;
  /** Waits for running jobs to finish (graceful shutdown). */
  close(): Promise<void>;
}
