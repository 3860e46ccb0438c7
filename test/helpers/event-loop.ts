// Whether the event loop (the one that answers DICOM associations) turns while `work` runs: a
// one-millisecond timer counts its own turns until the work settles. Work done on this thread in one
// synchronous block lets no turn through; work handed to another thread lets many. How long the loop
// is held up is a latency, measured by `npm run bench` (bench/responsiveness.ts), never asserted here.
export async function loopTurnsDuring<T>(work: () => Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  let settled = false;
  const tick = (): void => {
    if (settled) return;
    turns++;
    setTimeout(tick, 1);
  };
  setTimeout(tick, 1);
  try {
    return { value: await work(), turns };
  } finally {
    settled = true;
  }
}
