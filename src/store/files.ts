// Durable files. A received object with a valid SOP Instance UID is written where it stays, in the
// day's folder (see instanceRelativePath): its directory entry is fsynced while the object is still
// arriving, and only the file's own fdatasync follows the transfer. Its name is taken with O_EXCL, so
// no object ever overwrites another. A crash mid-transfer leaves a file the catalog does not list;
// sweepUncatalogued removes such files at start (none was acknowledged). Everything else (objects
// without a usable UID, results) goes through tmp/: written, fsynced, renamed into place and the
// directory fsynced, so it is either whole at its final path or not there at all.
import {
  closeSync,
  existsSync,
  fsync,
  fsyncSync,
  mkdirSync,
  open as openFile,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  statfsSync,
  writeSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { randomUUID } from 'node:crypto';

import { PHI_DIR_MODE, PHI_FILE_MODE, type FileStore, type InstancePlace, type ReceivingFile } from '../shared/files.js';
import { isValidUid } from '../shared/uid.js';

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
  return join(dayFolder(receivedAt), name);
}

const dayFolder = (at: number): string => join('instances', ...new Date(at).toISOString().slice(0, 10).split('-'));

/**
 * The SOP Instance UID of a stored object's file name: `<UID>.dcm`, `<UID>.v<version>.dcm` (moved
 * from tmp/), `<UID>_<n>.dcm` (created in place while `<UID>.dcm` existed). Neither 'v' nor '_' can
 * occur in a UID, so the name is never ambiguous.
 */
export function sopInstanceUidOfFileName(name: string): string | undefined {
  const m = /^([0-9.]+?)(?:\.v\d+|_\d+)?\.dcm$/.exec(name);
  return m?.[1];
}

/** How many `<UID>_<n>.dcm` names are tried before an object falls back to a temporary file. */
const MAX_NAME_TRIES = 16;

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
  let closed = false;
  const handle = (dir: string): number => {
    const kept = handles.get(dir);
    if (kept !== undefined) return kept;
    // A sync queued behind one that was running when the store closed: no new handle is left open.
    if (closed) throw new Error('file store closed');
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
      // A handle an fsync is still using is closed once that fsync is done: closed under it, the
      // fsync fails (EBADF), or reaches whatever file gets the descriptor number next.
      const state = syncs.get(dir);
      const inUse = state?.next ?? state?.running;
      if (inUse) {
        const close = (): void => closeSync(fd);
        inUse.then(close, close);
      } else closeSync(fd);
    }
  };

  /** Makes a folder and its missing parents; returns the folders whose new entries must be synced. */
  const makeFolder = (dir: string): string[] => {
    const created = mkdirSync(dir, dirs);
    if (!created) return [dir];
    const changed = [dir];
    for (let d = dir; d !== dirname(created); d = dirname(d)) changed.push(dirname(d));
    // A kept handle of a folder made again belongs to the removed one.
    forget(changed);
    return changed;
  };

  // One fsync of a folder makes every entry created before it started durable: objects arriving
  // together share one, and an entry created while one runs waits for the next.
  const syncs = new Map<string, { running?: Promise<void>; next?: Promise<void> }>();
  const syncAfterNow = (dir: string): Promise<void> => {
    const state = syncs.get(dir) ?? {};
    syncs.set(dir, state);
    if (state.next) return state.next;
    const start = (): Promise<void> => {
      const run: Promise<void> = new Promise<void>((resolve, reject) => fsync(handle(dir), (err) => (err ? reject(err) : resolve()))).finally(() => {
        if (state.running !== run) return;
        state.running = undefined;
        if (!state.next) syncs.delete(dir);
      });
      state.running = run;
      return run;
    };
    if (!state.running) return start();
    state.next = state.running
      .catch(() => undefined)
      .then(() => {
        state.next = undefined;
        return start();
      });
    return state.next;
  };

  const openExclusive = (path: string): Promise<number> =>
    new Promise((resolve, reject) => openFile(path, 'wx', PHI_FILE_MODE, (err, fd) => (err ? reject(err) : resolve(fd))));

  const openTemporary = async (): Promise<ReceivingFile> => {
    const path = join(tmpDir, `${randomUUID()}.part`);
    return { fd: await openExclusive(path), path, placed: false, entryDurable: Promise.resolve() };
  };

  /** `<UID>.dcm` in the day's folder, or `<UID>_<n>.dcm` while that name is taken (never replaced). */
  const openInPlace = async (SOPInstanceUID: string): Promise<ReceivingFile> => {
    const folder = dayFolder(now());
    const dir = join(dataDir, folder);
    let toSync = [dir];
    for (let n = 0; n < MAX_NAME_TRIES;) {
      const path = join(folder, n === 0 ? `${SOPInstanceUID}.dcm` : `${SOPInstanceUID}_${n}.dcm`);
      try {
        const fd = await openExclusive(join(dataDir, path));
        const entryDurable = Promise.all(toSync.map(syncAfterNow)).then(() => undefined);
        // Awaited only by an object that gets as far as its commit; one that fails earlier must not
        // leave a rejection nobody handles (that would end the process).
        entryDurable.catch(() => undefined);
        return { fd, path, placed: true, entryDurable };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // The day's first object (or its folder was removed): make the folder, try the same name again.
        if (code === 'ENOENT' && toSync.length === 1) toSync = makeFolder(dir);
        else if (code === 'EEXIST') n++;
        else throw err;
      }
    }
    return openTemporary();
  };

  return {
    dataDir,
    tempPath: () => join(tmpDir, `${randomUUID()}.part`),
    openReceivingFile: (SOPInstanceUID) => (SOPInstanceUID !== undefined && isValidUid(SOPInstanceUID) ? openInPlace(SOPInstanceUID) : openTemporary()),
    move(tempFile, place) {
      const rel = instanceRelativePath(place, now());
      const target = join(dataDir, rel);
      const dir = dirname(target);
      // Each directory created here must itself be a durable entry in its parent.
      const changed = makeFolder(dir);
      renameSync(tempFile, target);
      return { path: rel, dirs: changed };
    },
    async syncDirectories(list) {
      await Promise.all([...new Set(list)].map(syncAfterNow));
    },
    close() {
      closed = true;
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
    sweepUncatalogued(catalogued, since) {
      let removed = 0;
      const numbered = (dir: string, digits: number): string[] =>
        readdirSync(dir)
          .filter((n) => n.length === digits && /^\d+$/.test(n))
          .map((n) => join(dir, n));
      const root = join(dataDir, 'instances');
      const days = numbered(root, 4).flatMap((year) => numbered(year, 2).flatMap((month) => numbered(month, 2)));
      for (const day of days) {
        // A folder gets a new mtime with every file created (or removed) in it.
        if (statSync(day).mtimeMs < since) continue;
        for (const name of readdirSync(day)) {
          const sop = sopInstanceUidOfFileName(name);
          const path = relative(dataDir, join(day, name));
          if (sop === undefined || catalogued(sop, path)) continue;
          rmSync(join(day, name), { force: true });
          removed++;
        }
      }
      return removed;
    },
    sweepTemp() {
      const names = readdirSync(tmpDir).filter((n) => n.endsWith('.part'));
      for (const n of names) rmSync(join(tmpDir, n), { force: true });
      return names.length;
    },
  };
}
