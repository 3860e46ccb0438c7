// SQLite catalog (better-sqlite3). WAL with synchronous=FULL: a committed transaction survives a
// power cut, which is what lets ingest answer Success only after recording the instance.
import { deferredSync, openStore } from './sqlite.js';
import type { Catalog, NewInstance, StoredEmbedding } from '../shared/catalog.js';
import type { InstanceRecord, StudyRecord, StudyState } from '../shared/types.js';
import { objectUpsert } from './object-rows.js';

// Which states a study may move to a given state from (a retry restarts at decoding).
const TRANSITIONS: Record<'decoding' | 'embedded' | 'done' | 'failed', StudyState[]> = {
  decoding: ['queued', 'decoding', 'embedded'],
  embedded: ['decoding'],
  done: ['decoding', 'embedded'],
  failed: ['queued', 'decoding', 'embedded'],
};

interface EmbeddingRow {
  sop_instance_uid: string;
  version: number;
  study_instance_uid: string;
  model_name: string;
  model_version: string;
  vector: Buffer;
  attention_width: number | null;
  attention_height: number | null;
  attention: Buffer | null;
  notes: string;
  created_at: number;
}

function floats(blob: Buffer): Float32Array {
  // Copy: SQLite's buffer may not be 4-byte aligned.
  const copy = new Uint8Array(blob);
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
}

function blob(values: Float32Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

function toEmbedding(r: EmbeddingRow): StoredEmbedding {
  return {
    SOPInstanceUID: r.sop_instance_uid,
    version: r.version,
    StudyInstanceUID: r.study_instance_uid,
    modelName: r.model_name,
    modelVersion: r.model_version,
    vector: floats(r.vector),
    attention:
      r.attention && r.attention_width && r.attention_height ? { width: r.attention_width, height: r.attention_height, data: floats(r.attention) } : null,
    notes: JSON.parse(r.notes) as string[],
    createdAt: r.created_at,
  };
}

interface InstanceRow {
  sop_instance_uid: string;
  version: number;
  study_instance_uid: string;
  series_instance_uid: string;
  sop_class_uid: string;
  transfer_syntax_uid: string;
  path: string | null;
  size: number;
  sha256: string;
  status: 'accepted' | 'ignored';
  reason: string | null;
  calling_ae_title: string;
  received_at: number;
  called_ae_title: string;
}

interface StudyRow {
  study_instance_uid: string;
  state: StudyState;
  generation: number;
  first_received_at: number;
  round_started_at: number;
  last_received_at: number;
  instance_count: number;
  reason: string | null;
}

function toInstance(r: InstanceRow): InstanceRecord {
  return {
    SOPInstanceUID: r.sop_instance_uid,
    version: r.version,
    StudyInstanceUID: r.study_instance_uid,
    SeriesInstanceUID: r.series_instance_uid,
    SOPClassUID: r.sop_class_uid,
    TransferSyntaxUID: r.transfer_syntax_uid,
    path: r.path,
    size: r.size,
    sha256: r.sha256,
    status: r.status,
    reason: r.reason,
    callingAETitle: r.calling_ae_title,
    calledAETitle: r.called_ae_title,
    receivedAt: r.received_at,
  };
}

function toStudy(r: StudyRow): StudyRecord {
  return {
    StudyInstanceUID: r.study_instance_uid,
    state: r.state,
    generation: r.generation,
    firstReceivedAt: r.first_received_at,
    roundStartedAt: r.round_started_at,
    lastReceivedAt: r.last_received_at,
    instanceCount: r.instance_count,
    reason: r.reason,
  };
}

export function openCatalog(file: string): Catalog {
  const db = openStore(file);
  // The object index (QIDO-RS) is written in the same transaction as the instance it describes.
  const putObject = objectUpsert(db);

  const q = {
    versions: db.prepare<[string], InstanceRow>('SELECT * FROM instances WHERE sop_instance_uid = ? ORDER BY version'),
    insert: db.prepare(
      `INSERT INTO instances VALUES (@sop_instance_uid, @version, @study_instance_uid, @series_instance_uid,
       @sop_class_uid, @transfer_syntax_uid, @path, @size, @sha256, @status, @reason, @calling_ae_title, @received_at, @called_ae_title)`,
    ),
    count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM instances'),
    // Rows are appended in the order they are recorded: the last rowid is the latest, no scan.
    last: db.prepare<[], { received_at: number }>('SELECT received_at FROM instances ORDER BY rowid DESC LIMIT 1'),
    study: db.prepare<[string], StudyRow>('SELECT * FROM studies WHERE study_instance_uid = ?'),
    inState: db.prepare<[string], StudyRow>('SELECT * FROM studies WHERE state = ? ORDER BY first_received_at'),
    newStudy: db.prepare(`INSERT INTO studies VALUES (?, 'receiving', 1, ?, ?, ?, 1, NULL, ?)`),
    // A study that is still receiving just extends its round; one that had completed opens a new
    // round (generation + 1) so the late images are analysed again, once.
    touchStudy: db.prepare(
      `UPDATE studies SET
         generation = CASE WHEN state = 'receiving' THEN generation ELSE generation + 1 END,
         round_started_at = CASE WHEN state = 'receiving' THEN round_started_at ELSE @now END,
         state = 'receiving', reason = NULL,
         last_received_at = @now, instance_count = instance_count + 1, updated_at = @now
       WHERE study_instance_uid = @uid`,
    ),
    due: db.prepare<[number, number], StudyRow>(
      `SELECT * FROM studies WHERE state = 'receiving' AND (last_received_at <= ? OR round_started_at <= ?)
       ORDER BY last_received_at`,
    ),
    setState: db.prepare(
      `UPDATE studies SET state = @to, reason = @reason, updated_at = @now
       WHERE study_instance_uid = @uid AND generation = @generation AND state IN (SELECT value FROM json_each(@from))`,
    ),
    forget: db.prepare('UPDATE instances SET path = NULL WHERE sop_instance_uid = ? AND version = ?'),
    unindex: db.prepare("DELETE FROM dicom_objects WHERE sop_instance_uid = ? AND version = ? AND origin = 'received'"),
    analyzable: db.prepare<[string], InstanceRow>(
      `SELECT i.* FROM instances i
       WHERE i.study_instance_uid = ? AND i.status = 'accepted' AND i.path IS NOT NULL
         AND i.version = (SELECT MAX(version) FROM instances j WHERE j.sop_instance_uid = i.sop_instance_uid)
       ORDER BY i.received_at, i.sop_instance_uid`,
    ),
    saveEmbedding: db.prepare(
      `INSERT OR REPLACE INTO embeddings VALUES (@sop_instance_uid, @version, @study_instance_uid, @model_name, @model_version,
       @vector, @attention_width, @attention_height, @attention, @notes, @created_at)`,
    ),
    embeddings: db.prepare<[string, string | null, string | null], EmbeddingRow>(
      'SELECT * FROM embeddings WHERE study_instance_uid = ? AND (? IS NULL OR model_version = ?) ORDER BY sop_instance_uid',
    ),
  };

  const record = db.transaction((inst: NewInstance & { version: number }, now: number) => {
    q.insert.run({
      sop_instance_uid: inst.SOPInstanceUID,
      version: inst.version,
      study_instance_uid: inst.StudyInstanceUID,
      series_instance_uid: inst.SeriesInstanceUID,
      sop_class_uid: inst.SOPClassUID,
      transfer_syntax_uid: inst.TransferSyntaxUID,
      path: inst.path,
      size: inst.size,
      sha256: inst.sha256,
      status: inst.status,
      reason: inst.reason,
      calling_ae_title: inst.callingAETitle,
      received_at: inst.receivedAt,
      called_ae_title: inst.calledAETitle,
    });
    if (inst.path && inst.query) {
      putObject({ ...inst.query, origin: 'received', version: inst.version, path: inst.path, size: inst.size, TransferSyntaxUID: inst.TransferSyntaxUID });
    }
    if (!inst.analyzable) return;
    const changed = q.touchStudy.run({ uid: inst.StudyInstanceUID, now }).changes;
    if (changed === 0) q.newStudy.run(inst.StudyInstanceUID, now, now, now, now);
  });

  const recordBatch = db.transaction((batch: ReadonlyArray<{ instance: NewInstance & { version: number }; now: number }>) =>
    batch.map(({ instance, now }) => {
      try {
        record(instance, now);
        return null;
      } catch (err) {
        return err instanceof Error ? err : new Error(String(err));
      }
    }),
  );
  const durably = deferredSync(db, file);

  const transition = (uid: string, generation: number, from: StudyState[], to: StudyState, now: number, reason?: string): boolean =>
    q.setState.run({ uid, generation, from: JSON.stringify(from), to, now, reason: reason ?? null }).changes === 1;

  return {
    instanceVersions: (uid) => q.versions.all(uid).map(toInstance),
    lastReceivedAt: () => q.last.get()?.received_at,
    recordInstance: (inst, now) => record(inst, now),
    // Group commit: one transaction (one WAL fdatasync, off the event loop) for objects of several
    // associations; each row in its own savepoint, so one bad row fails alone.
    recordInstances: (batch) => durably(() => recordBatch(batch)),
    instanceCount: () => q.count.get()?.n ?? 0,
    study: (uid) => {
      const row = q.study.get(uid);
      return row ? toStudy(row) : undefined;
    },
    studiesInState: (state) => q.inState.all(state).map(toStudy),
    dueStudies: (now, completeAfterMs, maxWaitMs) => q.due.all(now - completeAfterMs, now - maxWaitMs).map(toStudy),
    markQueued: (uid, generation, now) => transition(uid, generation, ['receiving'], 'queued', now),
    markState: (uid, generation, state, now, reason) => transition(uid, generation, TRANSITIONS[state], state, now, reason),
    analyzableInstances: (uid) => q.analyzable.all(uid).map(toInstance),
    saveEmbedding: (e) => {
      q.saveEmbedding.run({
        sop_instance_uid: e.SOPInstanceUID,
        version: e.version,
        study_instance_uid: e.StudyInstanceUID,
        model_name: e.modelName,
        model_version: e.modelVersion,
        vector: blob(e.vector),
        attention_width: e.attention?.width ?? null,
        attention_height: e.attention?.height ?? null,
        attention: e.attention ? blob(e.attention.data) : null,
        notes: JSON.stringify(e.notes),
        created_at: e.createdAt,
      });
    },
    embeddings: (uid, modelVersion) => q.embeddings.all(uid, modelVersion ?? null, modelVersion ?? null).map(toEmbedding),
    forgetIgnoredFile: db.transaction((uid: string, version: number) => {
      q.forget.run(uid, version);
      q.unindex.run(uid, version);
    }),
    close: () => db.close(),
  };
}
