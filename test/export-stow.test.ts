// STOW-RS export against destinations that a whole-request timeout and 500-file requests defeated
// (issue 12): one that reads at ~1 MB/s (a 6 MB backlog in one request never finished within the
// timeout), and one that stores only the first part of each request. Batches are sized by bytes
// (export.stowBatchMaxBytes), the timeout is on silence, and what a destination acknowledged is
// recorded at once and never sent again.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { tempDir } from './helpers/node.js';
import { within } from './helpers/wait.js';
import { crDataset, element, newCrUids, part10, text, type CrUids } from './helpers/raw-dataset.js';
import { startStowReceiver, type StowReceiver } from './helpers/stow-receiver.js';
import { openExportOutbox } from '../src/store/index.js';
import { byteBatches, createExporter } from '../src/export/exporter.js';
import type { ExportOutbox } from '../src/shared/exports.js';

const OBJECT_BYTES = 384 * 1024;
const COUNT = 16; // ~6 MB of backlog
let objects: Array<{ SOPInstanceUID: string; StudyInstanceUID: string; path: string }>;
const receivers: StowReceiver[] = [];
const outboxes: ExportOutbox[] = [];

beforeAll(() => {
  const dir = tempDir('precedent-export-stow-');
  objects = Array.from({ length: COUNT }, (_, i) => {
    const uids: CrUids = newCrUids();
    // A private OB pads each object to ~384 KB, the size of a small radiograph.
    const padding = Buffer.concat([element(0x0021, 0x0010, 'LO', text('PRECEDENT TEST')), element(0x0021, 0x1000, 'OB', Buffer.alloc(OBJECT_BYTES, i))]);
    const path = join(dir, `${i}.dcm`);
    writeFileSync(path, part10(crDataset(uids, padding), uids.sop));
    return { SOPInstanceUID: uids.sop, StudyInstanceUID: uids.study, path };
  });
});
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
});
afterAll(() => {
  for (const o of outboxes.splice(0)) o.close();
});

async function receiver(opts: Parameters<typeof startStowReceiver>[0]): Promise<StowReceiver> {
  const r = await startStowReceiver(opts);
  receivers.push(r);
  return r;
}

function exporterFor(url: string, opts: { timeoutSeconds: number; stowBatchMaxBytes: number; maxAttempts: number }) {
  const outbox = openExportOutbox(join(tempDir(), 'catalog.sqlite'));
  outboxes.push(outbox);
  const exporter = createExporter({
    outbox,
    destinations: [{ kind: 'stow', name: 'web', url, forCallingAETitles: [] }],
    callingAETitle: 'PRECEDENT',
    backoffSeconds: 0.05,
    maxBackoffSeconds: 0.1,
    checkIntervalSeconds: 0.1,
    log: pino({ level: 'silent' }),
    ...opts,
  });
  return { outbox, exporter };
}

/** Passes until nothing is pending (or `max` passes): what a running node does on its timer. */
async function drain(e: ReturnType<typeof exporterFor>, max: number): Promise<number> {
  let passes = 0;
  while (e.outbox.list({ state: 'pending' }).length > 0 && passes < max) {
    await new Promise((r) => setTimeout(r, 150)); // past the backoff
    await within(e.exporter.pass(), 60_000, 'STOW-RS export pass');
    passes++;
  }
  return passes;
}

describe('STOW-RS export', () => {
  it('sizes requests by bytes, an object larger than the limit alone', () => {
    const batches = byteBatches(objects.slice(0, 5), 2.5 * OBJECT_BYTES);
    expect(batches).toEqual([[0, 1], [2, 3], [4]]);
    expect(byteBatches(objects.slice(0, 2), 10)).toEqual([[0], [1]]);
  });

  it('clears a ~6 MB backlog to a destination reading at ~1 MB/s, with a 4 s silence timeout', async () => {
    const slow = await receiver({ bytesPerSecond: 1024 * 1024 });
    const e = exporterFor(slow.url, { timeoutSeconds: 4, stowBatchMaxBytes: 1024 * 1024, maxAttempts: 3 });
    e.exporter.submit(objects, ['web']);
    await drain(e, 3);
    expect(e.outbox.list({ state: 'sent' })).toHaveLength(COUNT);
    expect(e.outbox.list({ state: 'failed' })).toEqual([]);
    // Requests of at most 1 MiB: two objects each, every object once.
    expect(slow.requests.every((r) => r.length <= 2)).toBe(true);
    expect([...slow.stored].sort()).toEqual(objects.map((o) => o.SOPInstanceUID).sort());
  });

  it('never re-sends what a destination storing only the first part of each request acknowledged, and clears the backlog', async () => {
    const partial = await receiver({ firstPartOnly: true });
    const e = exporterFor(partial.url, { timeoutSeconds: 10, stowBatchMaxBytes: 1024 * 1024, maxAttempts: 10 });
    e.exporter.submit(objects, ['web']);
    const passes = await drain(e, 10);
    console.log(`backlog of ${COUNT} cleared in ${passes} passes, ${partial.requests.length} requests`);
    expect(e.outbox.list({ state: 'sent' })).toHaveLength(COUNT);
    // Each object stored exactly once, and none sent again after the request that stored it.
    expect([...partial.stored].sort()).toEqual(objects.map((o) => o.SOPInstanceUID).sort());
    partial.requests.forEach((uids, n) => {
      const storedBefore = new Set(partial.requests.slice(0, n).map((r) => r[0]));
      expect(uids.filter((u) => storedBefore.has(u))).toEqual([]);
    });
  });
});
