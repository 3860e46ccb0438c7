// Waiting on the node without timing assertions: bounded polls and deadlines that fail loudly.
import { run } from './tools.js';

/** Polls `condition` (sync or async) every 20 ms; throws when it does not hold within `ms`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms).unref())]);

/** dcmtk's echoscu against the node: 0 when a real peer can still associate and verify. */
export async function echo(n: { port: number }): Promise<number> {
  const r = await run('echoscu', ['-aet', 'T', '-aec', 'PRECEDENT', '127.0.0.1', String(n.port)], { timeoutMs: 20_000 });
  return r.code;
}
