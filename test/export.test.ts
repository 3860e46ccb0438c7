// Delivery of result objects to a real dcmtk storescp: retries with backoff while it is down,
// failures kept visible, manual retry, and no duplicate rows for the same object and destination.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildFixtures, type Fixture, type FixtureSpec } from './fixtures/build.js';
import { tempDir } from './helpers/node.js';
import { freePort } from './helpers/process.js';
import { dcmdumpValue, requireTool, run } from './helpers/tools.js';
import { openExportOutbox } from '../src/store/index.js';
import dcmjsDimse from 'dcmjs-dimse';
import { cStoreFiles, createExporter, type Destination } from '../src/export/index.js';
import { writeFileSync } from 'node:fs';
import { buildHeatmapSC, sourceFromDataset } from '../src/report/index.js';
import { createJpegBaselineEncoder } from '../src/decode/index.js';
import { waitFor } from './helpers/wait.js';

let fixtures: Fixture[];
const scps: ChildProcess[] = [];

beforeAll(async () => {
  fixtures = await buildFixtures(
    Array.from({ length: 4 }, (_, i) => ({ variant: 'dx8', syntax: i === 3 ? 'jpegls' : 'ele', imageIndex: 900 + i }) as FixtureSpec),
    tempDir('precedent-export-fix-'),
  );
});
afterAll(() => {
  for (const s of scps) s.kill('SIGKILL');
});

async function startStorescp(port: number, dir: string, syntaxes = '+xa'): Promise<ChildProcess> {
  requireTool('storescp');
  mkdirSync(dir, { recursive: true });
  // +xa: accept every transfer syntax dcmtk knows (JPEG-LS included); +xe: Explicit VR Little Endian first, uncompressed only.
  const child = spawn('storescp', ['-aet', 'PACS', syntaxes, '-od', dir, String(port)], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: 'ignore' });
  scps.push(child);
  await new Promise((r) => setTimeout(r, 300));
  return child;
}

async function storedUids(dir: string): Promise<string[]> {
  const uids = await Promise.all(readdirSync(dir).map((f) => dcmdumpValue(join(dir, f), '0008,0018')));
  return uids.sort();
}

function setup(port: number, maxAttempts = 20) {
  const dataDir = tempDir();
  const outbox = openExportOutbox(join(dataDir, 'catalog.sqlite'));
  const destinations: Destination[] = [{ kind: 'dimse', name: 'pacs', aeTitle: 'PACS', host: '127.0.0.1', port, forCallingAETitles: [] }];
  const exporter = createExporter({
    outbox,
    destinations,
    callingAETitle: 'PRECEDENT',
    maxAttempts,
    backoffSeconds: 0.2,
    maxBackoffSeconds: 1,
    timeoutSeconds: 5,
    checkIntervalSeconds: 0.1,
    log: pino({ level: 'silent' }),
  });
  return { outbox, exporter };
}

const objects = () => fixtures.map((f) => ({ SOPInstanceUID: f.sopInstanceUID, StudyInstanceUID: f.studyInstanceUID, path: f.path }));

describe('export to a DICOM destination', () => {
  it('delivers every object once (compressed ones included) and records it', async () => {
    const port = await freePort();
    const dir = tempDir('precedent-scp-');
    await startStorescp(port, dir);
    const { outbox, exporter } = setup(port);
    exporter.submit(objects(), ['pacs']);
    exporter.submit(objects(), ['pacs']); // the same results again: no second row, nothing sent twice
    await waitFor(() => outbox.list({ state: 'sent' }).length === fixtures.length, 15_000);
    await exporter.pass();
    expect(outbox.list()).toHaveLength(fixtures.length);
    expect(await storedUids(dir)).toEqual(fixtures.map((f) => f.sopInstanceUID).sort());
    expect(outbox.list().every((i) => i.attempts === 1)).toBe(true);
    outbox.close();
  });

  it('keeps retrying with backoff while the destination is down and delivers when it returns', async () => {
    const port = await freePort();
    const { outbox, exporter } = setup(port);
    exporter.start();
    exporter.submit(objects().slice(0, 2), ['pacs']);
    await waitFor(() => outbox.list().every((i) => i.attempts >= 2), 10_000);
    expect(outbox.list().every((i) => i.state === 'pending' && (i.lastError ?? '').length > 0)).toBe(true);
    const dir = tempDir('precedent-scp-');
    await startStorescp(port, dir);
    await waitFor(() => outbox.list({ state: 'sent' }).length === 2, 15_000);
    await exporter.stop();
    expect((await storedUids(dir)).length).toBe(2);
    outbox.close();
  });

  it('gives up after export.maxAttempts, keeps the failure listable, and delivers on manual retry', async () => {
    const port = await freePort();
    const { outbox, exporter } = setup(port, 2);
    exporter.start();
    exporter.submit(objects().slice(0, 1), ['pacs']);
    await waitFor(() => outbox.list({ state: 'failed' }).length === 1, 10_000);
    const [failed] = outbox.list({ state: 'failed' });
    expect(failed?.attempts).toBe(2);
    expect(failed?.lastError).toMatch(/network error|refused|no answer/i);
    const dir = tempDir('precedent-scp-');
    await startStorescp(port, dir);
    expect(outbox.retry({ state: 'failed' }, Date.now())).toBe(1);
    await waitFor(() => outbox.list({ state: 'sent' }).length === 1, 15_000);
    await exporter.stop();
    expect(await storedUids(dir)).toEqual([fixtures[0]?.sopInstanceUID]);
    outbox.close();
  });
});

/** A Storage SCP (dcmjs-dimse) whose n-th C-STORE response (from 0) has the given status and delay. */
async function scriptedPacs(answer: (n: number) => { status: number; delayMs: number }): Promise<{ port: number; close: () => void }> {
  const { Scp, Server, constants, responses } = dcmjsDimse;
  let n = 0;
  class ScriptedPacs extends Scp {
    override associationRequested(association: dcmjsDimse.association.Association): void {
      for (const { context } of association.getPresentationContexts())
        context.setResult(constants.PresentationContextResult.Accept, context.getTransferSyntaxUids()[0] ?? '1.2.840.10008.1.2');
      this.sendAssociationAccept();
    }
    override associationReleaseRequested(): void {
      this.sendAssociationReleaseResponse();
    }
    override cStoreRequest(request: dcmjsDimse.requests.CStoreRequest, callback: (r: dcmjsDimse.responses.CStoreResponse) => void): void {
      const { status, delayMs } = answer(n++);
      const response = responses.CStoreResponse.fromRequest(request);
      response.setStatus(status);
      setTimeout(() => callback(response), delayMs);
    }
  }
  const port = await freePort();
  const server = new Server(ScriptedPacs);
  server.listen(port);
  return { port, close: () => server.close() };
}

const destination = (port: number, timeoutSeconds: number) => ({
  name: 'scripted',
  aeTitle: 'PACS',
  host: '127.0.0.1',
  port,
  callingAETitle: 'PRECEDENT',
  timeoutSeconds,
});

describe('C-STORE outcomes', () => {
  it('is for silence, not for the whole pass: a PACS that answers every C-STORE slowly still gets them all', async () => {
    // Each answer after 700 ms: six objects take at least 4.2 s (the PACS sleeps, so that is a floor,
    // not a measurement), with a 3 s timeout that leaves each answer 2.3 s of slack on a loaded machine.
    const pacs = await scriptedPacs(() => ({ status: 0x0000, delayMs: 700 }));
    try {
      const files = fixtures.slice(0, 3).map((f) => f.path);
      const started = Date.now();
      const outcomes = await cStoreFiles(destination(pacs.port, 3), [...files, ...files]);
      expect(Date.now() - started).toBeGreaterThan(3000); // the pass outlasted the timeout and still succeeded
      expect(outcomes).toEqual(Array.from({ length: 6 }, () => ({ ok: true })));
    } finally {
      pacs.close();
    }
  }, 60_000);

  it('counts warnings as stored and failures as failed, with the status in the error', async () => {
    const statuses = [0xb000, 0x0107, 0x0116, 0xa700];
    const pacs = await scriptedPacs((n) => ({ status: statuses[n] ?? 0, delayMs: 0 }));
    try {
      const outcomes = await cStoreFiles(
        destination(pacs.port, 5),
        fixtures
          .slice(0, 3)
          .map((f) => f.path)
          .concat(fixtures[0]?.path ?? ''),
      );
      expect(outcomes).toEqual([{ ok: true }, { ok: true }, { ok: true }, { ok: false, error: expect.stringMatching(/^status 0xa700/) as string }]);
    } finally {
      pacs.close();
    }
  }, 60_000);

  it('sends a JPEG Baseline capture as it is where accepted, and transcoded to Little Endian where only uncompressed is', async () => {
    const source = sourceFromDataset({
      SOPClassUID: '1.2.840.10008.5.1.4.1.1.1',
      SOPInstanceUID: '2.25.11',
      SeriesInstanceUID: '2.25.12',
      StudyInstanceUID: '2.25.13',
      PatientID: 'EXPORT-SC',
      PatientOrientation: ['L', 'F'],
    });
    const pixels = new Float32Array(256 * 256).map((_, i) => (i % 256) / 256);
    const attention = { width: 8, height: 8, data: new Float32Array(64).map((_, i) => i / 64) };
    const sc = buildHeatmapSC({
      source,
      model: { name: 'm', version: '1', deviceUID: '2.25.14' },
      image: { width: 256, height: 256, pixels, notes: [] },
      attention,
      encodeJpegBaseline: await createJpegBaselineEncoder(),
    });
    const file = join(tempDir('precedent-export-sc-'), 'sc.dcm');
    writeFileSync(file, sc.bytes);
    for (const [syntaxes, expected] of [
      ['+xa', '1.2.840.10008.1.2.4.50'],
      ['+xe', '1.2.840.10008.1.2.1'],
    ] as const) {
      const port = await freePort();
      const dir = tempDir('precedent-scp-');
      await startStorescp(port, dir, syntaxes);
      expect(await cStoreFiles(destination(port, 10), [file])).toEqual([{ ok: true }]);
      const [stored] = readdirSync(dir);
      const path = join(dir, stored ?? '');
      expect(await dcmdumpValue(path, '0008,0018')).toBe(sc.SOPInstanceUID);
      expect((await run('dcmdump', ['-q', '-Un', '+P', '0002,0010', path])).stdout).toContain(`[${expected}]`);
      expect(await dcmdumpValue(path, '0028,0004')).toBe(expected === '1.2.840.10008.1.2.1' ? 'RGB' : 'YBR_FULL_422');
    }
  });
});
