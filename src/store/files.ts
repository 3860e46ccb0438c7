// Durable files: every object is written to tmp/, fsynced, renamed into its UID-based place and the
// directory fsynced, so after a crash a file is either whole at its final path or not there at all.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
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

export function instanceRelativePath(place: InstancePlace): string {
  const name = place.version === 1 ? `${place.SOPInstanceUID}.dcm` : `${place.SOPInstanceUID}.v${place.version}.dcm`;
  return join('instances', place.StudyInstanceUID, place.SeriesInstanceUID, name);
}

export function openFileStore(dataDir: string): FileStore {
  const tmpDir = join(dataDir, 'tmp');
  mkdirSync(tmpDir, dirs);
  mkdirSync(join(dataDir, 'instances'), dirs);

  return {
    dataDir,
    tempPath: () => join(tmpDir, `${randomUUID()}.part`),
    commit(tempFile, place) {
      const rel = instanceRelativePath(place);
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
      const rel = instanceRelativePath(place);
      const target = join(dataDir, rel);
      const dir = dirname(target);
      const created = mkdirSync(dir, dirs);
      renameSync(tempFile, target);
      const changed = [dir];
      // Each directory created here must itself be a durable entry in its parent.
      if (created) for (let d = dir; d !== dirname(created); d = dirname(d)) changed.push(dirname(d));
      return { path: rel, dirs: changed };
    },
    async syncDirectories(list) {
      await Promise.all(
        [...new Set(list)].map(async (dir) => {
          const handle = await open(dir, 'r');
          try {
            await handle.sync();
          } finally {
            await handle.close();
          }
        }),
      );
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
