// Durable files: every object is written to tmp/, fsynced, renamed into its place (the day's folder,
// see instanceRelativePath) and the directory fsynced, so after a crash a file is either whole at its
// final path or not there at all.
import { closeSync, existsSync, fsync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';

import { PHI_DIR_MODE, PHI_FILE_MODE, type FileStore, type InstancePlace } from '../shared/files.js';

const dirs = { recursive: true, mode: PHI_DIR_MODE } as const;

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Where a received object goes: one folder per day of receipt (UTC), `instances/YYYY/MM/DD/`. The
 * catalog keeps every object's path, so nothing finds files by walking folders. A folder per study
 * and series made each object of a new study cost three directory fsyncs (series, study and
 * instances/, each a new entry in its parent) before it could be acknowledged; in the day's folder,
 * which exists after the day's first object, it is one, and one per group commit for every object
 * that arrived meanwhile. Files stored before keep the paths the catalog has for them.
 */
export function instanceRelativePath(place: InstancePlace, receivedAt: number): string {
  const name = place.version === 1 ? `${place.SOPInstanceUID}.dcm` : `${place.SOPInstanceUID}.v${place.version}.dcm`;
  const day = new Date(receivedAt).toISOString().slice(0, 10).split('-');
  return join('instances', ...day, name);
}

/** Directory handles kept open: the day's folder is synced for every batch of received objects. */
const KEPT_DIRECTORIES = 8;

export function openFileStore(dataDir: string, now: () => number = Date.now): FileStore {
  const tmpDir = join(dataDir, 'tmp');
  mkdirSync(tmpDir, dirs);
  mkdirSync(join(dataDir, 'instances'), dirs);
  // Opening and closing a folder around each fsync made three thread-pool round trips of one: 1.45 ms
  // per batch on one association, 6.5 ms on four, where the pool's threads were busy with the objects'
  // fdatasyncs (measured here; 0.86 and 4.1-4.8 ms with kept handles). A handle of a folder that this
  // store then finds missing (mkdir made it again: someone removed it) is dropped, so that a sync
  // never goes to a folder that is no longer there.
  const handles = new Map<string, number>();
  const handle = (dir: string): number => {
    const kept = handles.get(dir);
    if (kept !== undefined) return kept;
    const fd = openSync(dir, 'r');
    handles.set(dir, fd);
    for (const [oldest, old] of handles) {
      if (handles.size <= KEPT_DIRECTORIES) break;
      handles.delete(oldest);
      closeSync(old);
    }
    return fd;
  };
  const forget = (changed: readonly string[]): void => {
    for (const dir of changed) {
      const fd = handles.get(dir);
      if (fd === undefined) continue;
      handles.delete(dir);
      closeSync(fd);
    }
  };

  return {
    dataDir,
    tempPath: () => join(tmpDir, `${randomUUID()}.part`),
    commit(tempFile, place) {
      const rel = instanceRelativePath(place, now());
      const target = join(dataDir, rel);
      const dir = join(target, '..');
      const created = mkdirSync(dir, dirs);
      renameSync(tempFile, target);
      fsyncDir(dir);
      // Each directory created here must itself be a durable entry in its parent.
      if (created) {
        for (let d = dir; d !== dirname(created); d = dirname(d)) fsyncDir(dirname(d));
      }
      return rel;
    },
    move(tempFile, place) {
      const rel = instanceRelativePath(place, now());
      const target = join(dataDir, rel);
      const dir = dirname(target);
      const created = mkdirSync(dir, dirs);
      renameSync(tempFile, target);
      const changed = [dir];
      // Each directory created here must itself be a durable entry in its parent.
      if (created) for (let d = dir; d !== dirname(created); d = dirname(d)) changed.push(dirname(d));
      if (created) forget(changed);
      return { path: rel, dirs: changed };
    },
    async syncDirectories(list) {
      await Promise.all([...new Set(list)].map((dir) => new Promise<void>((resolve, reject) => fsync(handle(dir), (err) => (err ? reject(err) : resolve())))));
    },
    close() {
      forget([...handles.keys()]);
    },
    absolute: (rel) => (rel.startsWith('/') ? rel : join(dataDir, rel)),
    remove: (p) => rmSync(p.startsWith('/') ? p : join(dataDir, p), { force: true }),
    freeBytes() {
      const s = statfsSync(dataDir);
      return s.bavail * s.bsize;
    },
    writeDurable(rel, bytes) {
      const temp = join(tmpDir, `${randomUUID()}.part`);
      const fd = openSync(temp, 'wx', PHI_FILE_MODE);
      try {
        writeSync(fd, bytes);
        fsyncSync(fd);
      } catch (err) {
        // A full disk must not also leave the partial file behind to keep it full.
        closeSync(fd);
        rmSync(temp, { force: true });
        throw err;
      }
      closeSync(fd);
      const target = join(dataDir, rel);
      const dir = dirname(target);
      const created = mkdirSync(dir, dirs);
      renameSync(temp, target);
      fsyncDir(dir);
      if (created) {
        for (let d = dir; d !== dirname(created); d = dirname(d)) fsyncDir(dirname(d));
      }
      return target;
    },
    exists: (rel) => existsSync(join(dataDir, rel)),
    sweepTemp() {
      const names = readdirSync(tmpDir).filter((n) => n.endsWith('.part'));
      for (const n of names) rmSync(join(tmpDir, n), { force: true });
      return names.length;
    },
  };
}
