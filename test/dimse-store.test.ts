// C-ECHO and C-STORE against real dcmtk peers (echoscu, storescu, dcmsend), checking what lands on
// disk and in the catalog byte for byte.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildFixture, buildFixtures, type Fixture, type FixtureSpec, SYNTAX_NAMES } from './fixtures/build.js';
import { startTestNode, tempDir, type TestNode, stopAndCollectLogs } from './helpers/node.js';
import { dcmdumpValue, run } from './helpers/tools.js';
import { datasetContent, fileTransferSyntax } from './helpers/files.js';
import { waitFor } from './helpers/wait.js';

const PHI = { patientName: 'SECRETNAME^NOTINLOGS', patientID: 'PHI-ID-987654' };
const COMPRESSED = SYNTAX_NAMES.filter((s) => s !== 'ele' && s !== 'ile');

let fixtureDir: string;
let uncompressed: Fixture[];
let compressed: Fixture[];
let node: TestNode | undefined;

const ae = (n: TestNode) => ['-aet', 'TESTSCU', '-aec', 'PRECEDENT', '127.0.0.1', String(n.port)];
const successes = (out: string) => (out.match(/Received Store Response \(Success\)|Received C-STORE Response \(Success\)/g) ?? []).length;

beforeAll(async () => {
  fixtureDir = tempDir('precedent-fix-');
  const specs: FixtureSpec[] = [
    { variant: 'dx8', syntax: 'ele' },
    { variant: 'dx12', syntax: 'ele' },
    { variant: 'dx12m1', syntax: 'ele' },
    { variant: 'dx16', syntax: 'ele' },
    { variant: 'cr12m1', syntax: 'ele' },
    { variant: 'cr10rescale', syntax: 'ele' },
  ].map((s, i) => ({ ...s, ...PHI, imageIndex: i * 7 }) as FixtureSpec);
  uncompressed = await buildFixtures(specs, join(fixtureDir, 'plain'));
  compressed = await buildFixtures(
    COMPRESSED.map((syntax, i) => ({ variant: syntax === 'jpeg-baseline' ? 'dx8' : 'dx12', syntax, imageIndex: 100 + i, ...PHI }) as FixtureSpec),
    join(fixtureDir, 'compressed'),
  );
});

afterEach(async () => {
  if (node) {
    const logs = await stopAndCollectLogs(node);
    node = undefined;
    // No test may ever see patient identity in the logs.
    for (const identity of ['SECRETNAME', PHI.patientID]) expect(logs).not.toContain(identity);
  }
});

function expectStoredExactly(n: TestNode, f: Fixture): void {
  const versions = n.node.catalog.instanceVersions(f.sopInstanceUID);
  expect(versions).toHaveLength(1);
  const [v] = versions;
  expect(v?.status).toBe('accepted');
  expect(v?.StudyInstanceUID).toBe(f.studyInstanceUID);
  const stored = join(n.dataDir, v?.path ?? 'missing');
  // In the folder of the day (UTC) it was received.
  const day = new Date(v?.receivedAt ?? 0).toISOString().slice(0, 10).split('-');
  expect(stored).toBe(join(n.dataDir, 'instances', ...day, `${f.sopInstanceUID}.dcm`));
  expect(datasetContent(stored)).toBe(datasetContent(f.path));
  expect(fileTransferSyntax(stored)).toBe(v?.TransferSyntaxUID);
}

describe('association negotiation', () => {
  it('answers C-ECHO and rejects wrong called AE, unlisted calling AE and unlisted host', async () => {
    node = await startTestNode({ dimse: { allowedCallingAETitles: ['TESTSCU'] } });
    expect((await run('echoscu', ae(node))).code).toBe(0);

    const wrongCalled = await run('echoscu', ['-aet', 'TESTSCU', '-aec', 'NOTUS', '127.0.0.1', String(node.port)]);
    expect(wrongCalled.code).not.toBe(0);
    expect(wrongCalled.stderr).toMatch(/Called AE Title Not Recognized/);

    const intruder = await run('echoscu', ['-aet', 'INTRUDER', '-aec', 'PRECEDENT', '127.0.0.1', String(node.port)]);
    expect(intruder.code).not.toBe(0);
    expect(intruder.stderr).toMatch(/Calling AE Title Not Recognized/);
    expect(node.logs.filter((l) => l.includes('association rejected'))).toHaveLength(2);
  });

  it('rejects a host that is not on dimse.allowedHosts', async () => {
    node = await startTestNode({ dimse: { allowedHosts: ['10.254.254.254'] } });
    const r = await run('echoscu', ae(node));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Rejected Permanent/);
  });
});

describe('C-STORE from dcmtk', () => {
  it('stores every pixel variant with storescu (+sd) in implicit and explicit VR', async () => {
    node = await startTestNode();
    const explicit = await run('storescu', [...ae(node), '-xe', '+sd', join(fixtureDir, 'plain')]);
    expect(explicit.code).toBe(0);
    for (const f of uncompressed) {
      expectStoredExactly(node, f);
      // The File Meta we write in front of the received data set must itself be valid Part 10.
      const [v] = node.node.catalog.instanceVersions(f.sopInstanceUID);
      const check = await run('dciodvfy', [join(node.dataDir, v?.path ?? '')]);
      expect(check.stderr.split('\n').filter((l) => l.startsWith('Error'))).toEqual([]);
      expect(await dcmdumpValue(join(node.dataDir, v?.path ?? ''), '0002,0016')).toBe('TESTSCU');
    }

    // Implicit VR: the data set arrives re-encoded by storescu, so it is checked by reading it back.
    const again = await buildFixture({ variant: 'dx12', syntax: 'ele', imageIndex: 3, ...PHI }, join(fixtureDir, 'implicit'));
    const implicit = await run('storescu', [...ae(node), '-xi', again.path]);
    expect(implicit.code).toBe(0);
    const [v] = node.node.catalog.instanceVersions(again.sopInstanceUID);
    expect(v?.TransferSyntaxUID).toBe('1.2.840.10008.1.2');
    const stored = join(node.dataDir, v?.path ?? '');
    expect(fileTransferSyntax(stored)).toBe('1.2.840.10008.1.2');
    expect(await dcmdumpValue(stored, '0008,0018')).toBe(again.sopInstanceUID);
    expect(await dcmdumpValue(stored, '0010,0010')).toBe(PHI.patientName);
  });

  it('accepts every compressed transfer syntax as sent by dcmsend and keeps it unchanged', async () => {
    node = await startTestNode();
    const r = await run('dcmsend', ['-v', ...ae(node).slice(0, 4), '-nh', '+sd', ...ae(node).slice(4), join(fixtureDir, 'compressed')]);
    expect(successes(r.stdout + r.stderr)).toBe(compressed.length);
    for (const f of compressed) {
      expectStoredExactly(node, f);
      const [v] = node.node.catalog.instanceVersions(f.sopInstanceUID);
      expect(v?.TransferSyntaxUID).toBe(f.transferSyntaxUID);
    }
  });

  it('serves several associations at once', async () => {
    node = await startTestNode();
    const dirs = await Promise.all(
      [0, 1, 2, 3].map(async (k) => {
        const dir = join(fixtureDir, `parallel-${k}`);
        const fs = await buildFixtures(
          [0, 1, 2].map((i) => ({ variant: 'dx12', syntax: 'ele', imageIndex: 200 + k * 3 + i }) as FixtureSpec),
          dir,
        );
        return { dir, fs };
      }),
    );
    const n = node;
    const results = await Promise.all(dirs.map(({ dir }) => run('storescu', [...ae(n), '+sd', dir])));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    for (const { fs } of dirs) for (const f of fs) expectStoredExactly(n, f);
    expect(n.logs.filter((l) => l.includes('association accepted'))).toHaveLength(4);
  });

  it('answers Success for an identical re-send without processing it twice, and versions a different object under the same UID', async () => {
    node = await startTestNode();
    const [f] = uncompressed;
    if (!f) throw new Error('no fixture');
    expect((await run('storescu', [...ae(node), f.path])).code).toBe(0);
    expect((await run('storescu', [...ae(node), f.path])).code).toBe(0);
    expect(node.node.catalog.instanceVersions(f.sopInstanceUID)).toHaveLength(1);
    expect(node.logs.some((l) => l.includes('"disposition":"duplicate"'))).toBe(true);
    expect(node.node.catalog.study(f.studyInstanceUID)?.instanceCount).toBe(1);

    const impostor = await buildFixture(
      {
        variant: f.variant,
        syntax: 'ele',
        imageIndex: 500,
        sopInstanceUID: f.sopInstanceUID,
        studyInstanceUID: f.studyInstanceUID,
        seriesInstanceUID: f.seriesInstanceUID,
      },
      join(fixtureDir, 'impostor'),
    );
    expect((await run('storescu', [...ae(node), impostor.path])).code).toBe(0);
    const versions = node.node.catalog.instanceVersions(f.sopInstanceUID);
    expect(versions.map((v) => v.version)).toEqual([1, 2]);
    // Created in place under a free name: the first object's file is never replaced.
    expect(versions[0]?.path).toMatch(new RegExp(`/${f.sopInstanceUID.replaceAll('.', '\\.')}\\.dcm$`));
    expect(versions[1]?.path).toMatch(new RegExp(`/${f.sopInstanceUID.replaceAll('.', '\\.')}_1\\.dcm$`));
    expect(datasetContent(join(node.dataDir, versions[1]?.path ?? ''))).toBe(datasetContent(impostor.path));
    expect(datasetContent(join(node.dataDir, versions[0]?.path ?? ''))).toBe(datasetContent(f.path));
    expect(node.logs.some((l) => l.includes('kept as a new version'))).toBe(true);
  });

  it('keeps every one of four different objects sent under one SOP Instance UID at once, each in its own file', async () => {
    node = await startTestNode();
    const n = node;
    const [first] = uncompressed;
    if (!first) throw new Error('no fixture');
    // Same UIDs, different pixels: four versions arriving together on four associations, all created
    // in the same day folder while the others are in flight (no file may replace another).
    const variants = await Promise.all(
      [0, 1, 2, 3].map((k) =>
        buildFixture(
          {
            variant: 'dx16',
            syntax: 'ele',
            maxSize: 1024,
            imageIndex: 300 + k,
            sopInstanceUID: first.sopInstanceUID,
            studyInstanceUID: first.studyInstanceUID,
            seriesInstanceUID: first.seriesInstanceUID,
          },
          join(fixtureDir, `same-uid-${k}`),
        ),
      ),
    );
    const results = await Promise.all(variants.map((v) => run('storescu', [...ae(n), v.path])));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    const versions = n.node.catalog.instanceVersions(first.sopInstanceUID);
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3, 4]);
    const paths = versions.map((v) => v.path ?? '');
    expect(new Set(paths).size).toBe(4);
    expect(paths.map((p) => datasetContent(join(n.dataDir, p))).sort()).toEqual(variants.map((v) => datasetContent(v.path)).sort());
    // Nothing else in the folder: every file there is one of the four.
    const folder = join(n.dataDir, paths[0] ?? '', '..');
    expect(readdirSync(folder).sort()).toEqual(paths.map((p) => p.split('/').at(-1)).sort());
  });

  it('answers 0xA700 Out of Resources below storage.minFreeBytes and keeps nothing', async () => {
    node = await startTestNode({ storage: { minFreeBytes: Number.MAX_SAFE_INTEGER } });
    const [f] = uncompressed;
    if (!f) throw new Error('no fixture');
    const r = await run('storescu', ['-v', ...ae(node), f.path]);
    expect(r.stdout + r.stderr).toMatch(/Refused: OutOfResources|0xa700/i);
    expect(node.node.catalog.instanceVersions(f.sopInstanceUID)).toHaveLength(0);
    expect(readdirSync(join(node.dataDir, 'tmp'))).toEqual([]);
    expect((await run('echoscu', ae(node))).code).toBe(0);
  });

  it('acknowledges non-frontal or non-chest objects, records why, and removes them unless keepIgnored', async () => {
    const dir = join(fixtureDir, 'negatives');
    const [lateral, hand] = await buildFixtures(
      [
        { variant: 'dx12', syntax: 'ele', viewPosition: 'LL', imageIndex: 20 },
        { variant: 'cr12m1', syntax: 'ele', bodyPartExamined: 'HAND', imageIndex: 21 },
      ],
      dir,
    );
    if (!lateral || !hand) throw new Error('no fixture');
    for (const keepIgnored of [false, true]) {
      node = await startTestNode({ storage: { keepIgnored } });
      const r = await run('storescu', [...ae(node), '+sd', dir]);
      expect(r.code).toBe(0);
      for (const [f, reason] of [
        [lateral, /View Position LL/],
        [hand, /body part HAND/],
      ] as const) {
        const [v] = node.node.catalog.instanceVersions(f.sopInstanceUID);
        expect(v?.status).toBe('ignored');
        expect(v?.reason).toMatch(reason);
        expect(v?.path === null).toBe(!keepIgnored);
        if (v?.path) expect(existsSync(join(node.dataDir, v.path))).toBe(true);
        const kept = readdirSync(join(node.dataDir, 'instances'), { recursive: true, encoding: 'utf8' }).filter((p) => p.endsWith(`${f.sopInstanceUID}.dcm`));
        expect(kept).toHaveLength(keepIgnored ? 1 : 0);
        expect(node.node.catalog.study(f.studyInstanceUID)).toBeUndefined();
      }
      await node.stop();
      node = undefined;
    }
  });
});

describe('studies', () => {
  it('queues one analysis per study once it is quiet, re-analyses late images, and re-queues unfinished studies after a restart', async () => {
    const dataDir = tempDir();
    const dir = join(fixtureDir, 'study');
    const study = '2.25.1234567890123456789';
    const [a, b, late] = await buildFixtures(
      [0, 1, 2].map((i) => ({ variant: 'dx12', syntax: 'ele', imageIndex: 300 + i, studyInstanceUID: study }) as FixtureSpec),
      dir,
    );
    if (!a || !b || !late) throw new Error('no fixture');
    const calls: Array<{ StudyInstanceUID: string; generation: number }> = [];

    // First run: no analysis pipeline, like `precedent serve` today; the study completes and waits queued.
    node = await startTestNode({ studies: { completeAfterSeconds: 1.5 } }, { dataDir });
    expect((await run('storescu', [...ae(node), a.path])).code).toBe(0);
    expect((await run('storescu', [...ae(node), b.path])).code).toBe(0); // a second association, same study
    expect(node.node.catalog.study(study)?.state).toBe('receiving');
    await waitFor(() => node?.node.catalog.study(study)?.state === 'queued', 5000);
    expect(node.node.catalog.study(study)).toMatchObject({ generation: 1, instanceCount: 2 });
    await node.stop();
    node = undefined;

    // Restart with a pipeline: the queued study is picked up without any new image.
    node = await startTestNode({ studies: { completeAfterSeconds: 1.5 } }, { dataDir, analyze: async (job) => void calls.push(job) });
    await waitFor(() => node?.node.catalog.study(study)?.state === 'done', 5000);
    expect(calls).toEqual([{ StudyInstanceUID: study, generation: 1 }]);
    expect(node.logs.some((l) => l.includes('unfinished studies re-queued'))).toBe(true);

    // A late image reopens the study: one more analysis, generation 2.
    expect((await run('storescu', [...ae(node), late.path])).code).toBe(0);
    expect(node.node.catalog.study(study)?.state).toBe('receiving');
    await waitFor(() => node?.node.catalog.study(study)?.state === 'done' && calls.length === 2, 6000);
    expect(calls).toEqual([
      { StudyInstanceUID: study, generation: 1 },
      { StudyInstanceUID: study, generation: 2 },
    ]);
    expect(node.node.catalog.study(study)?.instanceCount).toBe(3);
  });

  it('completes a study that keeps receiving at studies.maxWaitSeconds', async () => {
    const dir = join(fixtureDir, 'trickle');
    const study = '2.25.99887766554433221100';
    const fs = await buildFixtures(
      [0, 1, 2, 3, 4].map((i) => ({ variant: 'dx8', syntax: 'ele', imageIndex: 400 + i, studyInstanceUID: study }) as FixtureSpec),
      dir,
    );
    node = await startTestNode({ studies: { completeAfterSeconds: 30, maxWaitSeconds: 2 } });
    for (const f of fs) {
      expect((await run('storescu', [...ae(node), f.path])).code).toBe(0);
      if (node.node.catalog.study(study)?.state !== 'receiving') break;
      await new Promise((r) => setTimeout(r, 300));
    }
    // Queued long before the 30 s of quiet that completeAfterSeconds would wait for.
    await waitFor(() => node?.node.catalog.study(study)?.state === 'queued', 5000);
  });
});
