// The export outbox contract: results waiting to reach a destination. One row per object and
// destination, so a retry re-sends the same object (same SOP Instance UID) and never a new one.

export type ExportState = 'pending' | 'sent' | 'failed';

export interface ExportItem {
  id: number;
  SOPInstanceUID: string;
  StudyInstanceUID: string;
  /** Absolute path of the Part 10 file to send. */
  path: string;
  destination: string;
  state: ExportState;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  createdAt: number;
  sentAt: number | null;
}

export interface ExportOutbox {
  /** Adds the object for each destination; an object already queued for a destination is kept as is. */
  add(object: { SOPInstanceUID: string; StudyInstanceUID: string; path: string }, destinations: readonly string[], now: number): void;
  due(now: number, limit: number): ExportItem[];
  markSent(id: number, now: number): void;
  /** Records a failed attempt: back to pending at `nextAttemptAt`, or failed for good when `final`. */
  markFailed(id: number, error: string, nextAttemptAt: number, final: boolean): void;
  list(filter?: { state?: ExportState; StudyInstanceUID?: string }): ExportItem[];
  /** Failed (or all matching) items become pending again, due now. Returns how many. */
  retry(filter: { ids?: number[]; state?: ExportState }, now: number): number;
  close(): void;
}
