// The export outbox lives in the catalog database (its own connection: WAL allows several), so
// results that could not be delivered survive restarts and stay visible.
import { openStore } from './sqlite.js';
import type { ExportItem, ExportOutbox, ExportState } from '../shared/exports.js';

interface Row {
  id: number;
  sop_instance_uid: string;
  study_instance_uid: string;
  path: string;
  destination: string;
  state: ExportState;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
}

function toItem(r: Row): ExportItem {
  return {
    id: r.id,
    SOPInstanceUID: r.sop_instance_uid,
    StudyInstanceUID: r.study_instance_uid,
    path: r.path,
    destination: r.destination,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    createdAt: r.created_at,
    sentAt: r.sent_at,
  };
}

export function openExportOutbox(file: string): ExportOutbox {
  const db = openStore(file);
  const q = {
    add: db.prepare(
      `INSERT OR IGNORE INTO exports (sop_instance_uid, study_instance_uid, path, destination, state, next_attempt_at, created_at)
       VALUES (?, ?, ?, ?, 'pending', ?, ?)`,
    ),
    due: db.prepare<[number, number], Row>(`SELECT * FROM exports WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?`),
    sent: db.prepare(`UPDATE exports SET state = 'sent', attempts = attempts + 1, sent_at = ?, last_error = NULL WHERE id = ?`),
    failed: db.prepare(`UPDATE exports SET state = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?`),
    list: db.prepare<[string | null, string | null, string | null, string | null], Row>(
      'SELECT * FROM exports WHERE (? IS NULL OR state = ?) AND (? IS NULL OR study_instance_uid = ?) ORDER BY id',
    ),
  };
  const add = db.transaction((object: { SOPInstanceUID: string; StudyInstanceUID: string; path: string }, destinations: readonly string[], now: number) => {
    for (const d of destinations) q.add.run(object.SOPInstanceUID, object.StudyInstanceUID, object.path, d, now, now);
  });
  return {
    add: (object, destinations, now) => add(object, destinations, now),
    due: (now, limit) => q.due.all(now, limit).map(toItem),
    markSent: (id, now) => void q.sent.run(now, id),
    markFailed: (id, error, nextAttemptAt, final) => void q.failed.run(final ? 'failed' : 'pending', error, nextAttemptAt, id),
    list: (filter = {}) => q.list.all(filter.state ?? null, filter.state ?? null, filter.StudyInstanceUID ?? null, filter.StudyInstanceUID ?? null).map(toItem),
    retry(filter, now) {
      const ids = filter.ids ?? [];
      const state = filter.state ?? (ids.length ? null : 'failed');
      const where = ids.length ? `id IN (${ids.map(() => '?').join(',')})` : 'state = ?';
      const args = ids.length ? ids : [state];
      return db.prepare(`UPDATE exports SET state = 'pending', next_attempt_at = ?, attempts = 0 WHERE ${where}`).run(now, ...args).changes;
    },
    close: () => db.close(),
  };
}
