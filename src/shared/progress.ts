// Progress of long operations (index rebuild, import): a bar on stderr for the CLI, log lines for a
// service whose stderr is a log file.
import cliProgress from 'cli-progress';
import type { Logger } from './log.js';

export interface Progress {
  update(done: number): void;
  stop(): void;
}

export type ProgressFactory = (label: string, total: number) => Progress;

/** A cli-progress bar on stderr; on a non-TTY it prints a line every few seconds instead of redrawing. */
export function barProgress(): ProgressFactory {
  return (label, total) => {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {value}/{total} | {duration_formatted} elapsed | eta {eta_formatted}`,
        stream: process.stderr,
        noTTYOutput: true,
        notTTYSchedule: 5000,
        etaBuffer: 200,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { update: (done) => bar.update(done), stop: () => bar.stop() };
  };
}

/** Log lines at every 10 % (services). */
export function logProgress(log: Logger): ProgressFactory {
  return (label, total) => {
    let next = 0.1;
    const started = Date.now();
    log.info({ total }, `${label}: started`);
    return {
      update(done) {
        if (total <= 0 || done / total < next) return;
        while (done / total >= next) next += 0.1;
        log.info({ done, total, seconds: Math.round((Date.now() - started) / 1000) }, `${label}: ${Math.round((100 * done) / total)}%`);
      },
      stop: () => log.info({ total, seconds: Math.round((Date.now() - started) / 1000) }, `${label}: finished`),
    };
  };
}
