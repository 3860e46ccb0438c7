// The catalog contract (implemented by store/). It is the source of truth for what was acknowledged
// and for study state, so everything after an acknowledgement can be replayed after a crash.
import type { ActiveStudyState, InstanceRecord, StudyRecord } from './types.js';
import type { QueryAttributes } from './dicom-objects.js';

export interface NewInstance extends Omit<InstanceRecord, 'version'> {
  analyzable: boolean;
  /** The searchable attributes (QIDO-RS): indexed with the instance when it keeps a file. */
  query?: QueryAttributes;
}

export interface StoredEmbedding {
  SOPInstanceUID: string;
  version: number;
  StudyInstanceUID: string;
  modelName: string;
  modelVersion: string;
  vector: Float32Array;
  attention: { width: number; height: number; data: Float32Array } | null;
  notes: string[];
  createdAt: number;
}

export interface Catalog {
  /** All stored versions of one SOP Instance UID, oldest first. */
  instanceVersions(SOPInstanceUID: string): InstanceRecord[];
  /** When the most recently recorded instance was received (ms); undefined for an empty catalog. */
  lastReceivedAt(): number | undefined;
  /**
   * Records an instance as the next version of its UID and, when analyzable, touches its study
   * (opening a new round if the study had completed). One transaction; durable when it returns.
   */
  recordInstance(instance: NewInstance & { version: number }, now: number): void;
  /**
   * Records several instances in one transaction; per instance, null or the error that kept it out.
   * Settles once the transaction is durable (its WAL fdatasynced on the thread pool, not on the event
   * loop). A failed commit rejects and records none.
   */
  recordInstances(batch: ReadonlyArray<{ instance: NewInstance & { version: number }; now: number }>): Promise<Array<Error | null>>;
  instanceCount(): number;
  study(StudyInstanceUID: string): StudyRecord | undefined;
  studiesInState(state: StudyRecord['state']): StudyRecord[];
  /** Receiving studies that are complete at `now` (inactivity or hard cap). */
  dueStudies(now: number, completeAfterMs: number, maxWaitMs: number): StudyRecord[];
  /** receiving -> queued for this generation; false if the study moved on meanwhile. */
  markQueued(StudyInstanceUID: string, generation: number, now: number): boolean;
  /** Moves a study of this generation along decoding/embedded/done/failed; false if it is stale. */
  markState(StudyInstanceUID: string, generation: number, state: ActiveStudyState | 'done' | 'failed', now: number, reason?: string): boolean;
  /** The instances to analyse: the latest version of each accepted (analyzable) instance of the study. */
  analyzableInstances(StudyInstanceUID: string): InstanceRecord[];
  /** Stores an embedding so the index can be rebuilt without re-running inference. */
  saveEmbedding(embedding: StoredEmbedding): void;
  embeddings(StudyInstanceUID: string, modelVersion?: string): StoredEmbedding[];
  forgetIgnoredFile(SOPInstanceUID: string, version: number): void;
  close(): void;
}

/**
 * One study round once embedded, as the embedding step hands it to the next steps (similar cases,
 * result objects, export) so that they neither query the catalog for it again nor open its files. A
 * replay (crash, remote worker's result) has none and reads the same facts from the catalog.
 */
export interface EmbeddedStudy {
  StudyInstanceUID: string;
  /** The round's analysable instances, as the embedding step read them from the catalog. */
  instances: InstanceRecord[];
  /** The images embedded (undecodable ones are not here), in the order of `instances`. */
  images: Array<{
    instance: InstanceRecord;
    embedding: StoredEmbedding;
    /** The file up to Pixel Data, from the decoder (DecodedImage.header); absent: read the file. */
    header?: Uint8Array;
  }>;
}
