// Export against destinations that misbehave, as raw-socket SCPs (test/helpers/fake-scp.ts): one that
// announces a Maximum Length of 4 bytes (dcmjs-dimse looped forever on it, and the outbox item crashed
// the node at every start), and one that goes silent mid-batch, the moment a kill -9 would land: what
// it acknowledged must already be recorded, so a restarted node re-sends only the rest.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildFixtures, type Fixture, type FixtureSpec } from './fixtures/build.js';
import { tempDir } from './helpers/node.js';
import { startFakeScp, type FakeScp } from './helpers/fake-scp.js';
import { waitFor, within } from './helpers/wait.js';
import { openExportOutbox } from '../src/store/index.js';
import { cStoreFiles, createExporter, type Destination } from '../src/export/index.js';
import type { ExportOutbox } from '../src/shared/exports.js';

let fixtures: Fixture[];
const scps: FakeScp[] = [];
const outboxes: ExportOutbox[] = [];

beforeAll(async () => {
  fixtures = await buildFixtures(
    Array.from({ length: 4 }, (_, i) => ({ variant: 'dx8', syntax: 'ele', imageIndex: 950 + i }) as FixtureSpec),
    tempDir('precedent-export-rob-'),
  );
});
afterEach(async () => {
  for (const s of scps.splice(0)) await s.close();
});
afterAll(() => {
  for (const o of outboxes.splice(0)) o.close();
});

async function fakeScp(...args: Parameters<typeof startFakeScp>): Promise<FakeScp> {
  const scp = await startFakeScp(...args);
  scps.push(scp);
  return scp;
}

function exporterFor(dbPath: string, port: number, timeoutSeconds: number) {
  const outbox = openExportOutbox(dbPath);
  outboxes.push(outbox);
  const destinations: Destination[] = [{ kind: 'dimse', name: 'pacs', aeTitle: 'PACS', host: '127.0.0.1', port, forCallingAETitles: [] }];
  const exporter = createExporter({
    outbox,
    destinations,
    callingAETitle: 'PRECEDENT',
    maxAttempts: 3,
    backoffSeconds: 0.1,
    maxBackoffSeconds: 0.2,
    timeoutSeconds,
    checkIntervalSeconds: 0.1,
    log: pino({ level: 'silent' }),
  });
  return { outbox, exporter };
}

const objects = () => fixtures.map((f) => ({ SOPInstanceUID: f.sopInstanceUID, StudyInstanceUID: f.studyInstanceUID, path: f.path }));

describe('export robustness', () => {
  it('aborts an association whose destination announces a maximum PDU length of 4, every time, without hanging', async () => {
    const scp = await fakeScp({ maxPduLength: 4, answer: () => true });
    const destination = { name: 'tiny', aeTitle: 'PACS', host: '127.0.0.1', port: scp.port, callingAETitle: 'PRECEDENT', timeoutSeconds: 10 };
    const outcomes = await within(
      cStoreFiles(
        destination,
        fixtures.map((f) => f.path),
      ),
      15_000,
      'C-STORE pass to a destination with a 4-byte maximum',
    );
    expect(outcomes).toHaveLength(fixtures.length);
    for (const o of outcomes) expect(o).toEqual({ ok: false, error: expect.stringMatching(/maximum PDU length of 4 bytes/) as string });
    expect(scp.received).toEqual([]);

    // Through the outbox: failed attempts, kept visible; a pass after a "restart" fails the same way.
    const db = join(tempDir(), 'catalog.sqlite');
    const first = exporterFor(db, scp.port, 10);
    first.exporter.submit(objects(), ['pacs']);
    first.exporter.start();
    await waitFor(() => first.outbox.list({ state: 'failed' }).length === fixtures.length, 20_000);
    await first.exporter.stop();
    expect(first.outbox.list({ state: 'failed' })).toHaveLength(fixtures.length);
    const again = exporterFor(db, scp.port, 10);
    expect(again.outbox.retry({ state: 'failed' }, Date.now())).toBe(fixtures.length);
    await within(again.exporter.pass(), 15_000, 'pass after restart');
    expect(again.outbox.list({ state: 'sent' })).toEqual([]);
    expect(again.outbox.list().every((i) => /maximum PDU length of 4/.test(i.lastError ?? ''))).toBe(true);
  });

  it('records each acknowledged object as sent when its response arrives, so a restart re-sends only the others', async () => {
    // Acknowledges two C-STOREs, then receives the third and never answers: the pass is stuck there.
    const silent = await fakeScp({ maxPduLength: 16384, answer: (n) => n < 2 });
    const db = join(tempDir(), 'catalog.sqlite');
    const before = exporterFor(db, silent.port, 60);
    before.exporter.submit(objects(), ['pacs']);
    await waitFor(() => silent.received.length === 3, 15_000);
    expect(silent.received).toHaveLength(3);

    // What a node killed now (kill -9) finds in its catalog at the next start.
    const afterCrash = openExportOutbox(db);
    outboxes.push(afterCrash);
    const sent = afterCrash.list({ state: 'sent' }).map((i) => i.SOPInstanceUID);
    expect(sent.sort()).toEqual(silent.received.slice(0, 2).sort());
    expect(afterCrash.list({ state: 'pending' })).toHaveLength(fixtures.length - 2);

    // The restarted node (a new exporter on the same catalog) sends only the two not acknowledged.
    const good = await fakeScp({ maxPduLength: 16384, answer: () => true });
    const restarted = exporterFor(db, good.port, 10);
    await within(restarted.exporter.pass(), 15_000, 'pass of the restarted node');
    expect(good.received.sort()).toEqual(
      fixtures
        .map((f) => f.sopInstanceUID)
        .filter((u) => !sent.includes(u))
        .sort(),
    );
    expect(restarted.outbox.list({ state: 'sent' })).toHaveLength(fixtures.length);
    await silent.close(); // ends the stuck pass of the "killed" node
    await before.exporter.stop();
  });
});
