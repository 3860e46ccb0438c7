// Read-only status queries over the catalog database (its own connection): what `GET /studies/{uid}`
// and `precedent status` report. It migrates nothing: a catalog no read-write open has brought to
// this version yet may lack tables (exports, retention_runs, embeddings).
import type Database from 'better-sqlite3';
import { openStoreReadOnly } from './sqlite.js';
import type { ExportState } from '../shared/exports.js';
import type { StudyState } from '../shared/types.js';
import {
  EXPORT_STATES,
  STUDY_STATES,
  type ExportSummary,
  type NodeStatus,
  type RetentionSummary,
  type StatusReader,
  type StudyStatus,
} from '../shared/node-status.js';

interface StudyRow {
  study_instance_uid: string;
  state: StudyState;
  reason: string | null;
  generation: number;
  first_received_at: number;
  last_received_at: number;
  updated_at: number;
  instance_count: number;
}

interface ExportRow {
  destination: string;
  state: ExportState;
  n: number;
  last_error: string | null;
  last_sent_at: number | null;
}

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

function zeroes<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

export function openStatusReader(file: string): StatusReader {
  const db = openStoreReadOnly(file);
  const has = (table: string): boolean => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;

  // Statements are prepared lazily: a table may appear after we opened (the outbox on first export).
  const cache = new Map<string, Database.Statement>();
  const stmt = (sql: string): Database.Statement => {
    let s = cache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      cache.set(sql, s);
    }
    return s;
  };

  function retention(): RetentionSummary {
    const keptBytes = (stmt("SELECT COALESCE(SUM(size), 0) AS n FROM instances WHERE path IS NOT NULL AND path != ''").get() as { n: number }).n;
    if (!has('retention_runs')) return { studies: 0, files: 0, bytes: 0, recent: [], keptBytes };
    const totals = stmt(
      'SELECT COALESCE(SUM(studies), 0) AS studies, COALESCE(SUM(files), 0) AS files, COALESCE(SUM(bytes), 0) AS bytes FROM retention_runs',
    ).get() as { studies: number; files: number; bytes: number };
    const recent = stmt('SELECT * FROM retention_runs ORDER BY ran_at DESC, rowid DESC LIMIT 5').all() as Array<{
      ran_at: number;
      trigger: 'age' | 'cap';
      studies: number;
      files: number;
      bytes: number;
    }>;
    return {
      ...totals,
      keptBytes,
      recent: recent.map((r) => ({ at: iso(r.ran_at) ?? '', trigger: r.trigger, studies: r.studies, files: r.files, bytes: r.bytes })),
    };
  }

  function exportSummary(StudyInstanceUID: string | null): ExportSummary {
    const summary: ExportSummary = { byState: zeroes(EXPORT_STATES), destinations: [], lastError: null };
    if (!has('exports')) return summary;
    const rows = stmt(
      `SELECT destination, state, COUNT(*) AS n,
              (SELECT last_error FROM exports l WHERE l.destination = e.destination AND l.last_error IS NOT NULL
                 AND (@uid IS NULL OR l.study_instance_uid = @uid) ORDER BY l.id DESC LIMIT 1) AS last_error,
              MAX(sent_at) AS last_sent_at
       FROM exports e WHERE (@uid IS NULL OR study_instance_uid = @uid) GROUP BY destination, state ORDER BY destination`,
    ).all({ uid: StudyInstanceUID }) as ExportRow[];
    for (const r of rows) {
      summary.byState[r.state] += r.n;
      let d = summary.destinations.find((x) => x.destination === r.destination);
      if (!d) {
        d = { destination: r.destination, byState: zeroes(EXPORT_STATES), lastError: r.last_error, lastSentAt: null };
        summary.destinations.push(d);
      }
      d.byState[r.state] += r.n;
      // Only the 'sent' row of a destination has a sent_at.
      if (r.last_sent_at !== null) d.lastSentAt = iso(r.last_sent_at);
    }
    const last = stmt(
      'SELECT last_error FROM exports WHERE last_error IS NOT NULL AND (@uid IS NULL OR study_instance_uid = @uid) ORDER BY id DESC LIMIT 1',
    ).get({ uid: StudyInstanceUID }) as { last_error: string } | undefined;
    summary.lastError = last?.last_error ?? null;
    return summary;
  }

  return {
    study(uid) {
      const study = stmt('SELECT * FROM studies WHERE study_instance_uid = ?').get(uid) as StudyRow | undefined;
      const counts = stmt(
        `SELECT COUNT(*) AS received, COALESCE(SUM(status = 'accepted'), 0) AS accepted, COALESCE(SUM(status = 'ignored'), 0) AS ignored,
                COUNT(DISTINCT series_instance_uid) AS series
         FROM instances WHERE study_instance_uid = ?`,
      ).get(uid) as { received: number; accepted: number; ignored: number; series: number };
      if (!study && counts.received === 0) return undefined;
      const byAE = stmt(
        'SELECT calling_ae_title AS ae, COUNT(*) AS n FROM instances WHERE study_instance_uid = ? GROUP BY calling_ae_title ORDER BY calling_ae_title',
      ).all(uid) as Array<{ ae: string; n: number }>;
      const ignored = stmt(
        "SELECT reason, COUNT(*) AS count FROM instances WHERE study_instance_uid = ? AND status = 'ignored' GROUP BY reason ORDER BY count DESC, reason",
      ).all(uid) as Array<{ reason: string | null; count: number }>;
      const embeddings = has('embeddings') ? (stmt('SELECT COUNT(*) AS n FROM embeddings WHERE study_instance_uid = ?').get(uid) as { n: number }).n : 0;
      const status: StudyStatus = {
        StudyInstanceUID: uid,
        state: study?.state ?? null,
        reason: study?.reason ?? null,
        generation: study?.generation ?? null,
        firstReceivedAt: iso(study?.first_received_at),
        lastReceivedAt: iso(study?.last_received_at),
        updatedAt: iso(study?.updated_at),
        instances: { ...counts, byCallingAETitle: Object.fromEntries(byAE.map((r) => [r.ae, r.n])) },
        ignored: ignored.map((r) => ({ reason: r.reason ?? '(no reason recorded)', count: r.count })),
        sourceRemoved: (
          stmt("SELECT COUNT(*) AS n FROM instances WHERE study_instance_uid = ? AND status = 'accepted' AND path IS NULL").get(uid) as { n: number }
        ).n,
        embeddings,
        exports: exportSummary(uid),
      };
      return status;
    },
    summary(recent = 10) {
      const counts = stmt(
        "SELECT COUNT(*) AS received, COALESCE(SUM(status = 'accepted'), 0) AS accepted, COALESCE(SUM(status = 'ignored'), 0) AS ignored FROM instances",
      ).get() as NodeStatus['instances'];
      const studies = zeroes(STUDY_STATES);
      for (const r of stmt('SELECT state, COUNT(*) AS n FROM studies GROUP BY state').all() as Array<{ state: StudyState; n: number }>) studies[r.state] = r.n;
      const embeddings = has('embeddings') ? (stmt('SELECT COUNT(*) AS n FROM embeddings').get() as { n: number }).n : 0;
      const rows = stmt('SELECT * FROM studies ORDER BY updated_at DESC, study_instance_uid LIMIT ?').all(recent) as StudyRow[];
      return {
        instances: counts,
        studies,
        embeddings,
        exports: exportSummary(null),
        retention: retention(),
        recentStudies: rows.map((r) => ({
          StudyInstanceUID: r.study_instance_uid,
          state: r.state,
          reason: r.reason,
          instanceCount: r.instance_count,
          updatedAt: iso(r.updated_at) ?? '',
        })),
      };
    },
    close: () => db.close(),
  };
}
