// A real full file system for tests: a small tmpfs that a filler file fills to the last page, so
// writes fail with ENOSPC exactly as on a full data disk. Mounting needs root (as CI runs: it installs
// the test peers with apt-get); like a missing tool, not being able to mount is an error, not a skip.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallDisk {
  dir: string;
  /** Writes a filler file until the file system reports ENOSPC. */
  fill(): void;
  /** Deletes the filler: the space returns. */
  free(): void;
  unmount(): void;
}

export function mountSmallDisk(size = '16m'): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'precedent-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`cannot mount a tmpfs for the full-disk tests (run them as root, as CI does): ${String(err)}`);
  }
  const filler = join(dir, 'filler');
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      try {
        // Large chunks first, then smaller ones, until not even one byte fits.
        for (const size of [1 << 20, 1 << 16, 4096, 512, 1]) {
          const chunk = Buffer.alloc(size, 0x55);
          for (;;) {
            try {
              writeSync(fd, chunk);
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw err;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free: () => rmSync(filler, { force: true }),
    unmount() {
      // Lazy: a test that failed may still hold files open there.
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
