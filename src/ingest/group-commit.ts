// Group commit of received objects across associations. Each object's file is already fdatasynced
// when it arrives here, and one created in place (the usual case) already has a durable name; what
// remains is the SQLite commit (a WAL fsync), plus a move and a directory fsync for an object that
// came through a temporary file. Objects that finish while a batch is being made durable wait for the
// next batch: one fsync per changed directory and one transaction per batch. An object's promise settles only after its row is committed, so the edge still answers
// Success only for an object that is on disk and in the catalog. Batches run one at a time, which
// keeps version numbering (the same SOP Instance UID twice) as serial as it was.
import type { IngestOutcome, TriageResult } from '../shared/types.js';
import type { IncomingReport } from '../shared/reports.js';
import type { Catalog, NewInstance } from '../shared/catalog.js';
import type { FileStore } from '../shared/files.js';
import type { Logger } from '../shared/log.js';
import { PrecedentError, storageError } from '../shared/errors.js';

/** An object whose bytes (and, when placed, its name) are durable and whose header passed every check. */
export interface PendingObject {
  /** Relative to the data folder when `placed` (created where it stays); else an absolute temporary path. */
  file: string;
  placed: boolean;
  sha256: string;
  base: { SOPInstanceUID: string; StudyInstanceUID: string; SeriesInstanceUID: string };
  verdict: TriageResult;
  /** The catalog row without the fields decided here (version, path, status, times). */
  row: Pick<NewInstance, 'SOPClassUID' | 'TransferSyntaxUID' | 'size' | 'callingAETitle' | 'calledAETitle' | 'query'>;
  /** The radiology report a received SR carries; passed on with the outcome (not for a duplicate). */
  report?: IncomingReport;
  log: Logger;
}

interface Entry {
  object: PendingObject;
  resolve: (outcome: IngestOutcome) => void;
  reject: (err: unknown) => void;
}

interface Decided {
  entry: Entry;
  outcome: IngestOutcome;
  /** Set for objects that get a row; duplicates and refusals have none. */
  instance?: NewInstance & { version: number };
  /** The moved file, removed again if the batch fails. */
  path?: string | null;
  /** Directories whose entries the move changed. */
  dirs?: string[];
  /** A duplicate of an object of the same batch: it stands or falls with that one. */
  twin?: Decided;
  error?: unknown;
}

export interface GroupCommitDeps {
  catalog: Catalog;
  files: FileStore;
  minFreeBytes: number;
  keepIgnored: boolean;
  now: () => number;
}

export interface GroupCommitter {
  submit(object: PendingObject): Promise<IngestOutcome>;
}

export function createGroupCommitter(deps: GroupCommitDeps): GroupCommitter {
  let queue: Entry[] = [];
  let running = false;

  const schedule = (): void => {
    if (running || queue.length === 0) return;
    running = true;
    // setImmediate: objects completed in the same turn of the event loop join this batch.
    setImmediate(() => {
      const batch = queue;
      queue = [];
      void commitBatch(batch).finally(() => {
        running = false;
        schedule();
      });
    });
  };

  /** Versions, duplicates, free space and the move into place: synchronous, in arrival order. */
  function decide(batch: Entry[]): Decided[] {
    const decided: Decided[] = [];
    const inBatch = new Map<string, Decided[]>();
    const lowOnDisk = deps.files.freeBytes() < deps.minFreeBytes;
    for (const entry of batch) {
      const { object } = entry;
      const { base, verdict, sha256 } = object;
      const d: Decided = { entry, outcome: { ...base, disposition: 'stored', version: 0 } };
      decided.push(d);
      try {
        const earlier = inBatch.get(base.SOPInstanceUID) ?? [];
        const versions = [
          ...deps.catalog.instanceVersions(base.SOPInstanceUID).map((v) => ({ version: v.version, sha256: v.sha256 })),
          ...earlier.map((e) => ({ version: e.outcome.version, sha256: e.entry.object.sha256 })),
        ];
        const same = versions.find((v) => v.sha256 === sha256);
        if (same) {
          deps.files.remove(object.file);
          d.outcome = { ...base, disposition: 'duplicate', version: same.version };
          d.twin = earlier.find((e) => e.outcome.version === same.version);
          continue;
        }
        if (lowOnDisk) throw new PrecedentError('OUT_OF_RESOURCES', 'free disk space is below storage.minFreeBytes');
        const version = versions.reduce((max, v) => Math.max(max, v.version), 0) + 1;
        let path: string | null = null;
        let dirs: string[] = [];
        if ((verdict.analyzable || deps.keepIgnored) && object.placed) path = object.file;
        else if (verdict.analyzable || deps.keepIgnored) {
          try {
            ({ path, dirs } = deps.files.move(object.file, { ...base, version }));
          } catch (cause) {
            throw storageError('cannot move the object into place', cause);
          }
        }
        const now = deps.now();
        d.path = path;
        d.dirs = dirs;
        d.instance = {
          ...object.row,
          ...base,
          sha256,
          version,
          path,
          status: verdict.analyzable ? 'accepted' : 'ignored',
          reason: verdict.analyzable ? null : verdict.reason,
          receivedAt: now,
          analyzable: verdict.analyzable,
        };
        d.outcome = !verdict.analyzable
          ? { ...base, disposition: 'ignored', version, reason: verdict.reason, ...(object.report ? { report: object.report } : {}) }
          : { ...base, disposition: version > 1 ? 'new-version' : 'stored', version };
        inBatch.set(base.SOPInstanceUID, [...earlier, d]);
      } catch (err) {
        d.error = err;
        deps.files.remove(object.file);
      }
    }
    return decided;
  }

  async function commitBatch(batch: Entry[]): Promise<void> {
    const decided = decide(batch);
    const rows = decided.filter((d) => d.error === undefined && d.instance);
    try {
      await deps.files.syncDirectories(rows.flatMap((d) => d.dirs ?? []));
      const now = deps.now();
      const results = await deps.catalog.recordInstances(rows.map((d) => ({ instance: d.instance as NewInstance & { version: number }, now })));
      results.forEach((err, i) => {
        const d = rows[i];
        if (d && err) d.error = storageError('cannot record the object in the catalog', err);
      });
    } catch (cause) {
      for (const d of rows) d.error ??= storageError('cannot make the batch durable', cause);
    }
    for (const d of decided) {
      if (d.error === undefined && d.twin?.error !== undefined) d.error = d.twin.error;
      if (d.error !== undefined) {
        if (d.path) deps.files.remove(d.path);
        d.entry.reject(d.error);
        continue;
      }
      if (d.instance && !d.path) deps.files.remove(d.entry.object.file);
      if (d.outcome.disposition === 'new-version') {
        d.entry.object.log.warn(
          { SOPInstanceUID: d.outcome.SOPInstanceUID, version: d.outcome.version },
          'different object received under an existing SOP Instance UID: kept as a new version',
        );
      }
      d.entry.resolve(d.outcome);
    }
  }

  return {
    submit(object) {
      return new Promise<IngestOutcome>((resolve, reject) => {
        queue.push({ object, resolve, reject });
        schedule();
      });
    },
  };
}
