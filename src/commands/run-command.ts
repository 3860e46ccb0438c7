// What every command shares: a coded error becomes one line on stderr, usage errors exit 2.
import { describeError, isPrecedentError } from '../shared/errors.js';

/** Runs a command body; a PrecedentError becomes one line on stderr and exit status 1 (2 for usage). */
export async function runCommand(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`precedent: ${err.message}\n`);
      process.exit(2);
    }
    const d = describeError(err);
    process.stderr.write(`precedent: ${isPrecedentError(err) ? `${d.code}: ` : ''}${d.message}${d.cause ? ` (${d.cause})` : ''}\n`);
    process.exit(1);
  }
}

export class UsageError extends Error {}

export function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a positive integer (got ${value})`);
  return n;
}
