// storage.retention: the source objects of analysed studies are removed once they are no longer
// needed, oldest first; what the node learnt from them stays (catalog rows, embeddings, case
// thumbnails, result objects). An instance whose file is gone keeps its row with path NULL, the
// state an ignored object's removed file already has: analysis and the similar-cases page skip it;
// its object-index row goes (QIDO-RS lists only what WADO-RS can serve).
// Each pass is recorded in retention_runs for `precedent status`.
import type { FileStore } from '../shared/files.js';
import type { RetentionRun } from '../shared/node-status.js';
import { openStore } from './sqlite.js';

export interface RetentionPolicy {
  /** Remove a done study's source objects this many days after it was done; 0: never by age. */
  removeSourceAfterDays: number;
  /** Keep at most this many bytes of source objects, removing the oldest done studies; 0: no cap. */
  maxSourceBytes: number;
}

export interface Retention {
  /** One pass; the runs it made (none when there was nothing to remove). */
  pass(now: number, policy: RetentionPolicy): RetentionRun[];
  /** Bytes of source objects on disk, as the catalog counts them. */
  keptBytes(): number;
  close(): void;
}

interface Candidate {
  sop_instance_uid: string;
  version: number;
  path: string;
  size: number;
  study_instance_uid: string;
}

const DAY_MS = 24 * 3600 * 1000;

export function openRetention(file: string, files: FileStore): Retention {
  const db = openStore(file);
  // Done studies' files, the oldest done first (updated_at is when the study became done).
  const candidates = db.prepare<[number], Candidate>(
    `SELECT i.sop_instance_uid, i.version, i.path, i.size, i.study_instance_uid FROM instances i
     JOIN studies s ON s.study_instance_uid = i.study_instance_uid
     WHERE s.state = 'done' AND i.path IS NOT NULL AND i.path != '' AND s.updated_at <= ?
     ORDER BY s.updated_at, s.study_instance_uid`,
  );
  const forget = db.prepare<[string, number]>('UPDATE instances SET path = NULL WHERE sop_instance_uid = ? AND version = ?');
  // QIDO-RS lists what WADO-RS can serve: a removed file leaves the object index (results stay in it).
  const unindex = db.prepare<[string, number]>("DELETE FROM dicom_objects WHERE sop_instance_uid = ? AND version = ? AND origin = 'received'");
  const kept = db.prepare<[], { n: number }>("SELECT COALESCE(SUM(size), 0) AS n FROM instances WHERE path IS NOT NULL AND path != ''");
  const record = db.prepare<[number, string, number, number, number]>('INSERT INTO retention_runs VALUES (?, ?, ?, ?, ?)');

  /** Removes whole studies from `list` (in order) while `more` says so. */
  function remove(list: Candidate[], trigger: 'age' | 'cap', now: number, more: (freed: number) => boolean): RetentionRun | undefined {
    const run: RetentionRun = { at: new Date(now).toISOString(), trigger, studies: 0, files: 0, bytes: 0 };
    let study = '';
    for (const c of list) {
      if (c.study_instance_uid !== study) {
        if (!more(run.bytes)) break;
        study = c.study_instance_uid;
        run.studies++;
      }
      // File first: a pass cut short leaves a row pointing at nothing (removed again next time),
      // never a file that no row knows.
      files.remove(c.path);
      db.transaction(() => {
        forget.run(c.sop_instance_uid, c.version);
        unindex.run(c.sop_instance_uid, c.version);
      })();
      run.files++;
      run.bytes += c.size;
    }
    if (run.files === 0) return undefined;
    record.run(now, trigger, run.studies, run.files, run.bytes);
    return run;
  }

  return {
    pass(now, policy) {
      const runs: RetentionRun[] = [];
      if (policy.removeSourceAfterDays > 0) {
        const old = remove(candidates.all(now - policy.removeSourceAfterDays * DAY_MS), 'age', now, () => true);
        if (old) runs.push(old);
      }
      if (policy.maxSourceBytes > 0) {
        const excess = (kept.get()?.n ?? 0) - policy.maxSourceBytes;
        if (excess > 0) {
          const capped = remove(candidates.all(now), 'cap', now, (freed) => freed < excess);
          if (capped) runs.push(capped);
        }
      }
      return runs;
    },
    keptBytes: () => kept.get()?.n ?? 0,
    close: () => db.close(),
  };
}
