// How long the event loop (the one that answers DICOM associations) is held up while `work` runs:
// a 5 ms timer records the longest gap between its ticks.
import { performance } from 'node:perf_hooks';

export async function longestEventLoopGap<T>(work: () => Promise<T>): Promise<{ value: T; maxGapMs: number; elapsedMs: number }> {
  let last = performance.now();
  let maxGapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
  }, 5);
  const started = performance.now();
  try {
    const value = await work();
    // A block that ends with the work itself is seen by no tick: count the time since the last one.
    maxGapMs = Math.max(maxGapMs, performance.now() - last);
    return { value, maxGapMs, elapsedMs: performance.now() - started };
  } finally {
    clearInterval(timer);
  }
}
