// storage.retention on a running node: source objects of done studies are removed after
// removeSourceAfterDays, or oldest first above maxSourceBytes; rows (path NULL), results and the rest
// stay; a new round of a study analyses only what it still has; `precedent status` tells what
// retention did. The node's clock is injected, so "two days later" takes no time.
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFixtures, type Fixture, type FixtureSpec } from './fixtures/build.js';
import { startTestNode, tempDir, type TestNode } from './helpers/node.js';
import { run } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';
import type { StudyAnalysis } from '../src/jobs/index.js';

const DAY = 24 * 3600 * 1000;
let node: TestNode | undefined;
afterEach(async () => {
  await node?.stop();
  node = undefined;
});

const fileOf = (n: TestNode, f: Fixture): string | null => n.node.catalog.instanceVersions(f.sopInstanceUID)[0]?.path ?? null;

/** Three one-image studies, each received and analysed a day after the previous one. */
async function threeDoneStudies(
  retention: Record<string, number>,
  clock: { t: number },
): Promise<{ n: TestNode; studies: Fixture[]; paths: string[]; analysed: string[][] }> {
  const studies = await buildFixtures(
    [0, 1, 2].map((i) => ({ variant: 'dx8', syntax: 'ele', imageIndex: 600 + i }) as FixtureSpec),
    tempDir(),
  );
  const analysed: string[][] = [];
  const paths: string[] = [];
  const started: { node?: TestNode } = {};
  const analyze: StudyAnalysis = async (job) => {
    analysed.push((started.node?.node.catalog.analyzableInstances(job.StudyInstanceUID) ?? []).map((i) => i.SOPInstanceUID));
  };
  const n = await startTestNode(
    { studies: { completeAfterSeconds: 0.2, checkIntervalSeconds: 0.05 }, storage: { retention: { checkIntervalSeconds: 0.05, ...retention } } },
    { analyze, now: () => clock.t },
  );
  started.node = n;
  for (const f of studies) {
    expect((await run('storescu', ['-aet', 'TESTSCU', '-aec', 'PRECEDENT', '127.0.0.1', String(n.port), f.path])).code).toBe(0);
    clock.t += 1000;
    const m = n;
    await waitFor(() => m.node.catalog.study(f.studyInstanceUID)?.state === 'done', 10_000);
    paths.push(join(n.dataDir, fileOf(n, f) ?? 'gone already'));
    clock.t += DAY;
  }
  return { n, studies, paths, analysed };
}

describe('storage.retention', () => {
  it('removes the source objects of studies done more than removeSourceAfterDays ago, keeps rows and results, and a new round analyses only what is left', async () => {
    const clock = { t: Date.UTC(2026, 0, 1) };
    const { n, studies, paths, analysed } = await threeDoneStudies({ removeSourceAfterDays: 1.5 }, clock);
    node = n;
    // A result object of the first study, which retention must leave alone.
    const result = join(n.dataDir, 'results', studies[0]?.studyInstanceUID ?? '', '2.25.9.dcm');
    mkdirSync(join(result, '..'), { recursive: true });
    writeFileSync(result, 'DICM');
    // Done at day 0, day 1, day 2 (and a second); now is day 3: the first two are older than 1.5 days.
    await waitFor(() => fileOf(n, studies[1] as Fixture) === null, 5000);
    expect(paths.map((p) => existsSync(p))).toEqual([false, false, true]);
    expect(studies.map((f) => fileOf(n, f) === null)).toEqual([true, true, false]);
    expect(n.node.catalog.instanceVersions(studies[0]?.sopInstanceUID ?? '')).toHaveLength(1);
    expect(existsSync(result)).toBe(true);
    // QIDO-RS no longer lists what WADO-RS could not serve.
    const db = new Database(join(n.dataDir, 'catalog.sqlite'), { readonly: true });
    const indexed = studies.map((f) => db.prepare('SELECT COUNT(*) AS n FROM dicom_objects WHERE sop_instance_uid = ?').get(f.sopInstanceUID) as { n: number });
    db.close();
    expect(indexed.map((r) => r.n)).toEqual([0, 0, 1]);
    // One pass per study here, as each became old enough on its own.
    const lines = n.logs.filter((l) => l.includes('retention removed source objects')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([0, 1].map(() => expect.objectContaining({ component: 'retention', trigger: 'age', studies: 1, files: 1 }) as unknown));

    // A late image reopens the first study: the analysis sees the new image only.
    const [late] = await buildFixtures([{ variant: 'dx8', syntax: 'ele', imageIndex: 610, studyInstanceUID: studies[0]?.studyInstanceUID }], tempDir());
    expect((await run('storescu', ['-aet', 'TESTSCU', '-aec', 'PRECEDENT', '127.0.0.1', String(n.port), late?.path ?? ''])).code).toBe(0);
    clock.t += 1000;
    await waitFor(() => analysed.length === 4, 10_000);
    expect(analysed[3]).toEqual([late?.sopInstanceUID]);

    const config = join(n.dataDir, 'status.json');
    writeFileSync(config, JSON.stringify({ storage: { dataDir: n.dataDir } }));
    const status = await run('node', ['bin/precedent.js', 'status', '--config', config]);
    expect(status.stdout).toMatch(/^Retention: {2}removed 2 file\(s\) of 2 study\(ies\), [\d.]+ MB; [\d.]+ MB of source objects on disk$/m);
    expect(status.stdout.match(/^ {2}2026-01-0\dT\S+ {2}age {2}1 file\(s\) of 1 study\(ies\), [\d.]+ MB$/gm)).toHaveLength(2);
    const one = await run('node', ['bin/precedent.js', 'status', '--config', config, '--json', '--study', studies[1]?.studyInstanceUID ?? '']);
    expect(JSON.parse(one.stdout)).toMatchObject({ state: 'done', sourceRemoved: 1, instances: { received: 1, accepted: 1 } });
  }, 120_000);

  it('keeps source objects under maxSourceBytes by removing the oldest done studies first', async () => {
    const clock = { t: Date.UTC(2026, 0, 1) };
    // Room for about one and a half of the three objects: the two oldest go.
    const size = (await buildFixtures([{ variant: 'dx8', syntax: 'ele', imageIndex: 600 }], tempDir()))[0]?.path ?? '';
    const { n, studies } = await threeDoneStudies({ maxSourceBytes: Math.floor(statSync(size).size * 1.5) }, clock);
    node = n;
    await waitFor(() => studies.slice(0, 2).every((f) => fileOf(n, f) === null), 5000);
    expect(studies.map((f) => fileOf(n, f) === null)).toEqual([true, true, false]);
    expect(n.logs.filter((l) => l.includes('"trigger":"cap"')).length).toBeGreaterThan(0);
  }, 120_000);
});
