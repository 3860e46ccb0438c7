// What an operator asks about a study or the whole node, answered from the catalog (implemented by
// store/status-reader.ts). The same facts back `GET /studies/{uid}` (ops/) and `precedent status` (CLI).
// UIDs, states and reasons only: never patient identity.
import type { StudyState } from './types.js';
import type { ExportState } from './exports.js';

export interface ExportSummary {
  /** Items by state (pending, sent, failed). */
  byState: Record<ExportState, number>;
  destinations: Array<{
    destination: string;
    byState: Record<ExportState, number>;
    lastError: string | null;
    lastSentAt: string | null;
  }>;
  lastError: string | null;
}

export interface StudyStatus {
  StudyInstanceUID: string;
  /** null: no analysable instance was received (everything ignored), so the study was never queued. */
  state: StudyState | null;
  reason: string | null;
  generation: number | null;
  firstReceivedAt: string | null;
  lastReceivedAt: string | null;
  updatedAt: string | null;
  instances: {
    /** Received objects, each stored version counted. */
    received: number;
    accepted: number;
    ignored: number;
    series: number;
    byCallingAETitle: Record<string, number>;
  };
  /** Why objects were ignored, with how many each. */
  ignored: Array<{ reason: string; count: number }>;
  /** Accepted objects whose file storage.retention removed (their rows, embeddings and results stay). */
  sourceRemoved: number;
  embeddings: number;
  exports: ExportSummary;
}

/** One pass of storage.retention that removed something. */
export interface RetentionRun {
  at: string;
  /** age: storage.retention.removeSourceAfterDays; cap: storage.retention.maxSourceBytes. */
  trigger: 'age' | 'cap';
  studies: number;
  files: number;
  bytes: number;
}

export interface RetentionSummary {
  /** Totals over every pass. */
  studies: number;
  files: number;
  bytes: number;
  /** The most recent passes that removed something, newest first. */
  recent: RetentionRun[];
  /** Bytes of source objects still on disk. */
  keptBytes: number;
}

export interface NodeStatus {
  instances: { received: number; accepted: number; ignored: number };
  studies: Record<StudyState, number>;
  embeddings: number;
  exports: ExportSummary;
  retention: RetentionSummary;
  /** The most recently updated studies (newest first). */
  recentStudies: Array<{ StudyInstanceUID: string; state: StudyState; reason: string | null; instanceCount: number; updatedAt: string }>;
}

export interface StatusReader {
  /** undefined when the catalog knows nothing of this study. */
  study(StudyInstanceUID: string): StudyStatus | undefined;
  summary(recent?: number): NodeStatus;
  close(): void;
}

export const STUDY_STATES: readonly StudyState[] = ['receiving', 'queued', 'decoding', 'embedded', 'done', 'failed'];
export const EXPORT_STATES: readonly ExportState[] = ['pending', 'sent', 'failed'];
