// Delivers results to their destinations from the durable outbox. Retries are counted per object
// and destination (not per file of a pass multiplied by passes), with exponential backoff up to a
// cap; what cannot be delivered stays in the outbox, visible (`precedent exports list|retry`).
import type { ExportItem, ExportOutbox } from '../shared/exports.js';
import type { Logger } from '../shared/log.js';
import { describeError } from '../shared/errors.js';
import { cStoreFiles, type DimseDestination, type SendOutcome } from './dimse-sender.js';
import type { Metrics } from '../shared/metrics.js';
import { stowFiles, type StowDestination } from './stow-sender.js';
import { statSync } from 'node:fs';

export type Destination =
  | { kind: 'dimse'; name: string; aeTitle: string; host: string; port: number; forCallingAETitles: string[]; tls?: DimseDestination['tls'] }
  | { kind: 'stow'; name: string; url: string; token?: string | undefined; basic?: string | undefined; forCallingAETitles: string[] };

export interface ExporterOptions {
  outbox: ExportOutbox;
  destinations: readonly Destination[];
  callingAETitle: string;
  maxAttempts: number;
  backoffSeconds: number;
  maxBackoffSeconds: number;
  timeoutSeconds: number;
  /** STOW-RS request body limit (export.stowBatchMaxBytes); default 8 MiB. */
  stowBatchMaxBytes?: number;
  checkIntervalSeconds: number;
  log: Logger;
  now?: () => number;
  /** Export latency and failures per destination (ops/ metrics). */
  metrics?: Pick<Metrics, 'exportResult'>;
}

export interface Exporter {
  /** Names of the destinations for results of a study received from `callingAETitle`: those whose forCallingAETitles is empty or lists it (possibly none). */
  destinationsFor(callingAETitle: string): string[];
  /** Queues result objects for delivery (durably) and wakes the sender. */
  submit(objects: ReadonlyArray<{ SOPInstanceUID: string; StudyInstanceUID: string; path: string }>, destinations: readonly string[]): void;
  /** One delivery pass over every due item; resolves when it is done. */
  pass(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

/** Destinations for results of a study from `callingAETitle`: those listing it, or listing none. */
export function routeDestinations(destinations: ReadonlyArray<{ name: string; forCallingAETitles: readonly string[] }>, callingAETitle: string): string[] {
  return destinations.filter((d) => d.forCallingAETitles.length === 0 || d.forCallingAETitles.includes(callingAETitle)).map((d) => d.name);
}

const DEFAULT_STOW_BATCH_BYTES = 8 * 1024 * 1024;

/** Indexes of `items` in consecutive groups of at most `maxBytes` of files (an object larger than that alone). */
export function byteBatches(items: ReadonlyArray<{ path: string }>, maxBytes: number): number[][] {
  const batches: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  items.forEach((item, i) => {
    let size = 0;
    try {
      size = statSync(item.path).size;
    } catch {
      // a missing file fails in its batch, with the reason
    }
    if (current.length > 0 && bytes + size > maxBytes) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(i);
    bytes += size;
  });
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * STOW-RS in byte-sized requests, one after another; what a request stored is recorded (onStored)
 * before the next starts. When a request fails as a whole (destination unreachable, silent), the
 * remaining objects are not tried in this pass: they share its error.
 */
async function stowBatches(
  destination: StowDestination,
  items: readonly ExportItem[],
  maxBytes: number,
  onStored: (index: number) => void,
): Promise<SendOutcome[]> {
  const outcomes: SendOutcome[] = items.map(() => ({ ok: false, error: 'not sent' }));
  const batches = byteBatches(items, maxBytes);
  for (const [n, batch] of batches.entries()) {
    let got: SendOutcome[];
    try {
      got = await stowFiles(
        destination,
        batch.map((i) => items[i] as ExportItem),
      );
    } catch (err) {
      got = batch.map(() => ({ ok: false, error: describeError(err).message }));
    }
    batch.forEach((i, k) => {
      const outcome = got[k] ?? { ok: false, error: 'no outcome' };
      outcomes[i] = outcome;
      if (outcome.ok) onStored(i);
    });
    const broken = got.every((o) => !o.ok) ? got.find((o) => !o.ok && o.error.startsWith('STOW-RS request failed')) : undefined;
    if (broken) {
      for (const rest of batches.slice(n + 1)) for (const i of rest) outcomes[i] = broken;
      break;
    }
  }
  return outcomes;
}

export function createExporter(options: ExporterOptions): Exporter {
  const now = options.now ?? Date.now;
  const byName = new Map(options.destinations.map((d) => [d.name, d]));
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;

  const send = (d: Destination, items: ExportItem[], onStored: (index: number) => void): Promise<SendOutcome[]> =>
    d.kind === 'dimse'
      ? cStoreFiles(
          { ...d, callingAETitle: options.callingAETitle, timeoutSeconds: options.timeoutSeconds },
          items.map((i) => i.path),
          onStored,
        )
      : stowBatches({ ...d, timeoutSeconds: options.timeoutSeconds }, items, options.stowBatchMaxBytes ?? DEFAULT_STOW_BATCH_BYTES, onStored);

  async function deliver(): Promise<void> {
    const due = options.outbox.due(now(), 500);
    const groups = new Map<string, ExportItem[]>();
    for (const item of due) groups.set(item.destination, [...(groups.get(item.destination) ?? []), item]);
    await Promise.all(
      [...groups].map(async ([name, items]) => {
        const destination = byName.get(name);
        let outcomes: SendOutcome[];
        const started = performance.now();
        const settled = new Set<number>();
        const settle = (i: number, outcome: SendOutcome): void => {
          const item = items[i] as ExportItem;
          const log = options.log.child({ destination: name, SOPInstanceUID: item.SOPInstanceUID, StudyInstanceUID: item.StudyInstanceUID });
          if (outcome.ok) {
            options.outbox.markSent(item.id, now());
            settled.add(i);
            options.metrics?.exportResult(name, true, (performance.now() - started) / 1000);
            log.info({ attempts: item.attempts + 1 }, 'result delivered');
            return;
          }
          const attempts = item.attempts + 1;
          const final = attempts >= options.maxAttempts || !destination;
          const delay = Math.min(options.maxBackoffSeconds, options.backoffSeconds * 2 ** (attempts - 1)) * 1000;
          options.outbox.markFailed(item.id, outcome.error, now() + delay, final);
          settled.add(i);
          options.metrics?.exportResult(name, false, (performance.now() - started) / 1000);
          log.warn(
            { attempts, final, retryInMs: final ? null : delay, error: outcome.error },
            final ? 'result delivery failed for good' : 'result delivery failed; will retry',
          );
        };
        // Each acknowledged object is recorded as sent when its response arrives, not at the end of
        // the pass: after a kill -9 mid-pass only the unacknowledged ones are sent again.
        const onStored = (i: number): void => {
          try {
            settle(i, { ok: true });
          } catch (err) {
            // Not recorded: the end of the pass records it again.
            options.log.error({ destination: name, err: describeError(err) }, 'cannot record a delivered result yet');
          }
        };
        try {
          outcomes = destination
            ? await send(destination, items, onStored)
            : items.map(() => ({ ok: false, error: `destination ${name} is no longer configured` }));
        } catch (err) {
          outcomes = items.map(() => ({ ok: false, error: describeError(err).message }));
        }
        items.forEach((_item, i) => {
          if (!settled.has(i)) settle(i, outcomes[i] ?? { ok: false, error: 'no outcome' });
        });
      }),
    );
  }

  const pass = async (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await deliver();
      } while (again);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  return {
    destinationsFor: (callingAETitle) => routeDestinations(options.destinations, callingAETitle),
    submit(objects, destinations) {
      for (const o of objects) options.outbox.add(o, destinations, now());
      void pass().catch((err: unknown) => options.log.error({ err: describeError(err) }, 'export pass failed'));
    },
    pass,
    start() {
      timer = setInterval(() => {
        pass().catch((err: unknown) => options.log.error({ err: describeError(err) }, 'export pass failed'));
      }, options.checkIntervalSeconds * 1000);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
