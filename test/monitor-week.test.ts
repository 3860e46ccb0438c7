// A simulated week (issue 16 item 5): a node with DIMSE and MLLP on receives chest radiographs made from
// real films (dcmsend) and analyses them with the test model against a small labelled archive; the
// radiologists' reports, real Open-i texts whose MeSH indexing says normal or abnormal, arrive over
// MLLP from python3-hl7's mllp_send, spread over seven days across an ISO week boundary. The test
// pairs each study's abnormal probability (from the node's stored results) with its report's MeSH
// status, computes sensitivity, specificity, PPV, F1 and AUC with its own code, and checks that the
// monitor (its module, `precedent monitor`'s table and the running check's gauges) says the same, per
// week as well.
import { writeFileSync } from 'node:fs';
import { expectedFigures } from './helpers/agreement.js';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtures, readSharedLabels, sharedDir, type Fixture, type FixtureSpec } from './fixtures/build.js';
import { testModelDir } from './helpers/model-fixture.js';
import { startTestNode, tempDir, type TestNode } from './helpers/node.js';
import { cli } from './helpers/archive.js';
import { requireTool, run } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';
import { createLabeller, meshStatus, readOpenIReports, reportRules, type OpenIReport } from '../src/reports/index.js';
import { buildMonitorReport } from '../src/commands/monitor.js';
import type { Archive } from '../src/archive/index.js';

const DAY = 86_400_000;
// Thursday 4 January 2024, 08:00 UTC: days 0-3 fall in ISO week 2024-W01, days 4-6 in 2024-W02.
const T0 = Date.UTC(2024, 0, 4, 8);
const WEEK_OF_DAY = (day: number): string => (day < 4 ? '2024-W01' : '2024-W02');
const CLINICAL = 24;
const THRESHOLD = 0.5;

let node: TestNode;
let dir: string;
// The node's clock: real while studies arrive and are analysed, then the days of the simulated week.
let clock: number | undefined;

interface Study {
  fixture: Fixture;
  accession: string;
  day: number;
  report: OpenIReport;
  reportAbnormal: boolean;
}
const studies: Study[] = [];

/** Films of labels.csv by label: `normal` ones and the others (pneumonia, COVID-19). */
function films(): { normal: number[]; abnormal: number[] } {
  const rows = readSharedLabels();
  const normal = rows.flatMap((r, i) => (r['label'] === 'normal' ? [i] : []));
  const abnormal = rows.flatMap((r, i) => (r['label'] === 'COVID-19' || r['label'] === 'other pneumonia' ? [i] : []));
  return { normal, abnormal };
}

/** Open-i reports with a MeSH status that the shipped rules read the same way, normal and abnormal. */
function openIReports(): { normal: OpenIReport[]; abnormal: OpenIReport[] } {
  const labeller = createLabeller(reportRules());
  const usable = readOpenIReports(join(sharedDir(), 'data', 'reports-openi', 'NLMCXR_reports.tgz')).filter(
    (r) => r.sections['IMPRESSION'] && !/[\\|^~&]/.test(`${r.sections['FINDINGS'] ?? ''}${r.sections['IMPRESSION']}`),
  );
  const agreeing = (status: 'normal' | 'abnormal') =>
    usable.filter(
      (r) =>
        meshStatus(r.major) === status &&
        labeller.label({ FINDINGS: r.sections['FINDINGS'] ?? '', IMPRESSION: r.sections['IMPRESSION'] ?? '' }).status === status,
    );
  return { normal: agreeing('normal'), abnormal: agreeing('abnormal') };
}

function oru(s: Study, n: number): string {
  const obx = [
    ...(s.report.sections['FINDINGS'] ? [`OBX|1|TX|^^^&GDT|1|${s.report.sections['FINDINGS']}||||||F`] : []),
    `OBX|2|TX|^^^&IMP|1|${s.report.sections['IMPRESSION']}||||||F`,
  ];
  return (
    [
      `MSH|^~\\&|RIS|HOSP|PRECEDENT|HOSP|20240104080000||ORU^R01^ORU_R01|WEEK${n}|P|2.5.1`,
      `PID|1||WK-${n}^^^HOSP^MR||WEEK^PATIENT${n}`,
      `OBR|1|PL${n}|${s.accession}|71046^XR CHEST^CPT|||20240104080000||||||||||||||||||F`,
      ...obx,
    ].join('\r') + '\r'
  );
}

beforeAll(async () => {
  requireTool('dcmsend');
  requireTool('mllp_send');
  dir = tempDir('precedent-week-');
  const { normal, abnormal } = films();
  const texts = openIReports();
  // A small labelled archive (sent to the archive AE title): the neighbours the votes come from.
  const archiveFilms = [...normal.slice(0, 5), ...abnormal.slice(0, 5)];
  const archive = await buildFixtures(
    archiveFilms.map((imageIndex, i) => ({ variant: 'dx12', syntax: 'ele', imageIndex, accessionNumber: `ARC-${i}`, patientID: `ARC-P${i}` }) as FixtureSpec),
    join(dir, 'archive'),
  );
  // The week's clinical studies: half on normal films with normal reports, half on abnormal ones.
  const specs: FixtureSpec[] = [];
  for (let i = 0; i < CLINICAL; i++) {
    const abnormalStudy = i % 2 === 1;
    const day = i % 7;
    const date = new Date(T0 + day * DAY).toISOString().slice(0, 10).replaceAll('-', '');
    specs.push({
      variant: 'dx12',
      syntax: 'ele',
      imageIndex: (abnormalStudy ? abnormal : normal)[5 + Math.floor(i / 2)]!,
      accessionNumber: `WEEK-${i}`,
      patientID: `WEEK-P${i}`,
      studyDate: date,
    });
  }
  const clinical = await buildFixtures(specs, join(dir, 'clinical'));
  clinical.forEach((fixture, i) => {
    const abnormalStudy = i % 2 === 1;
    studies.push({
      fixture,
      accession: `WEEK-${i}`,
      day: i % 7,
      report: (abnormalStudy ? texts.abnormal : texts.normal)[Math.floor(i / 2) * 7]!,
      reportAbnormal: abnormalStudy,
    });
  });

  node = await startTestNode(
    {
      dimse: { archiveAeTitle: 'ARCHIVE' },
      studies: { completeAfterSeconds: 0.4 },
      model: { dir: testModelDir() },
      inference: { device: 'cpu' },
      reports: { mllp: { port: 0, host: '127.0.0.1', maxMessageBytes: 1 << 20, idleTimeoutSeconds: 30, application: 'PRECEDENT', facility: 'TEST' } },
      monitor: { threshold: THRESHOLD, intervalSeconds: 0.5, windowDays: 28, resamples: 50 },
    },
    { now: () => clock ?? Date.now() },
  );
  const cases = (node.node.archive() as Archive).cases;
  cases.loadLabels(
    archiveFilms.map((f, i) => ({
      match: { AccessionNumber: `ARC-${i}` },
      facts: { labels: [i < 5 ? 'normal' : 'pneumonia'], age: null, sex: null, outcomes: {}, clinical: { label_source: 'csv' } },
    })),
    Date.now(),
  );
  const send = async (calledAE: string, files: Fixture[]): Promise<void> => {
    const r = await run('dcmsend', ['-aet', 'MODALITY', '-aec', calledAE, '-nh', '127.0.0.1', String(node.port), ...files.map((f) => f.path)]);
    expect(r.code).toBe(0);
  };
  await send('ARCHIVE', archive);
  await waitFor(() => archive.every((f) => node.node.catalog.study(f.studyInstanceUID)?.state === 'done'), 60_000);
  await send(node.config.dimse.aeTitle, clinical);
  await waitFor(() => clinical.every((f) => node.node.catalog.study(f.studyInstanceUID)?.state === 'done'), 90_000);

  // The week: each day's reports in one MLLP connection, at that day's time on the node's clock.
  for (let day = 0; day < 7; day++) {
    clock = T0 + day * DAY + 3_600_000;
    const file = join(dir, `day-${day}.hl7`);
    writeFileSync(file, studies.flatMap((s, i) => (s.day === day ? [oru(s, i)] : [])).join(''));
    const r = await run('mllp_send', ['--loose', '--file', file, '--port', String(node.mllpPort), '127.0.0.1']);
    expect(r.stdout.match(/MSA\|AA\|/g)?.length).toBe(studies.filter((s) => s.day === day).length);
  }
  clock = T0 + 7 * DAY;
}, 180_000);

afterAll(async () => {
  await node?.stop();
});

interface Pair {
  probability: number;
  abnormal: boolean;
  week: string;
}

/** The node's abnormal probability of each study (1 - the vote for `normal`, mean over its images) and the report's MeSH status. */
function pairs(): Pair[] {
  const cases = (node.node.archive() as Archive).cases;
  return studies.map((s) => {
    const results = cases.retrievals(s.fixture.studyInstanceUID);
    expect(results.length).toBeGreaterThan(0);
    const p = results.map((r) => 1 - (r.vote.find((v) => v.label === 'normal')?.probability ?? 0));
    return { probability: p.reduce((a, b) => a + b, 0) / p.length, abnormal: s.reportAbnormal, week: WEEK_OF_DAY(s.day) };
  });
}

const figures = (list: Pair[]) => expectedFigures(list, THRESHOLD);

describe('a simulated week of studies and reports', () => {
  it('stores every report with its study, labelled as its MeSH indexing says', () => {
    for (const s of studies) {
      const report = node.node.reports.currentForStudy(s.fixture.studyInstanceUID);
      expect(report?.labels.status).toBe(s.reportAbnormal ? 'abnormal' : 'normal');
      expect(report?.receivedAt).toBe(T0 + s.day * DAY + 3_600_000);
    }
    // The votes differ between studies: the figures below are not those of a constant.
    expect(new Set(pairs().map((p) => p.probability.toFixed(6))).size).toBeGreaterThan(3);
  });

  it("gives the monitor's figures that an independent computation gives, for the week and per ISO week", () => {
    const mine = pairs();
    const report = buildMonitorReport(node.dataDir, { since: Date.UTC(2024, 0, 1), threshold: THRESHOLD, resamples: 50, seed: 1 });
    expect(report.window.pairs).toBe(CLINICAL);
    const want = figures(mine);
    for (const m of ['sensitivity', 'specificity', 'ppv', 'f1', 'auc'] as const) {
      if (Number.isNaN(want[m])) expect(report.window.values[m]).toBeUndefined();
      else expect(report.window.values[m]).toBeCloseTo(want[m], 12);
    }
    expect(report.weeks.map((w) => [w.week, w.figures.pairs])).toEqual([
      ['2024-W01', mine.filter((p) => p.week === '2024-W01').length],
      ['2024-W02', mine.filter((p) => p.week === '2024-W02').length],
    ]);
    for (const w of report.weeks) {
      const got = figures(mine.filter((p) => p.week === w.week));
      for (const m of ['f1', 'auc', 'sensitivity'] as const) if (!Number.isNaN(got[m])) expect(w.figures.values[m]).toBeCloseTo(got[m], 12);
    }
  });

  it('prints the same figures in `precedent monitor` and exports them as gauges', async () => {
    const want = figures(pairs());
    const config = join(dir, 'precedent.yaml');
    writeFileSync(config, `storage:\n  dataDir: ${node.dataDir}\nlog:\n  level: warn\nmonitor:\n  threshold: ${THRESHOLD}\n`);
    const r = await cli(['monitor', '--config', config, '--since', '2024-01-01', '--resamples', '20', '--out', join(dir, 'monitor')]);
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    const row = r.stdout
      .split('\n')
      .find((l) => l.startsWith('| since 2024-01-01 |'))
      ?.split('|')
      .map((c) => c.trim());
    expect(row?.slice(2, 4)).toEqual([String(CLINICAL), String(CLINICAL / 2)]);
    // sensitivity, specificity, PPV, F1, AUC, each "0.123 [lo, hi]".
    expect(row?.slice(4, 9).map((c) => c.split(' ')[0])).toEqual((['sensitivity', 'specificity', 'ppv', 'f1', 'auc'] as const).map((m) => want[m].toFixed(3)));
    expect(r.stdout.split('\n').filter((l) => /^\| 2024-W0[12] \|/.test(l))).toHaveLength(2);

    // The running check (every monitor.intervalSeconds, window monitor.windowDays back from the node's clock).
    await waitFor(
      async () =>
        (await (await fetch(`http://127.0.0.1:${node.opsPort}/metrics`)).text()).match(/^precedent_monitor_pairs\{[^}]*\} (\d+)$/m)?.[1] === String(CLINICAL),
      10_000,
    );
    const metrics = await (await fetch(`http://127.0.0.1:${node.opsPort}/metrics`)).text();
    const gauge = (m: string) => Number(new RegExp(`precedent_monitor_value\\{metric="${m}",bound="point"[^}]*\\} (\\S+)`).exec(metrics)?.[1]);
    expect(gauge('f1')).toBeCloseTo(want.f1, 9);
    expect(gauge('auc')).toBeCloseTo(want.auc, 9);
  });
});
