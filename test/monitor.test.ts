// The monitor: the node's abnormal probability against report labels. Figures are checked against an
// independent computation in this file; the running check's gauges, alert line and readiness; the
// `precedent monitor` report from real stores.
import { join } from 'node:path';
import { expectedFigures } from './helpers/agreement.js';
import { receivedObject } from './helpers/indexed-object.js';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { byWeek, createRunningMonitor, isoWeek, monitorFigures, monitorPairs, type MonitorPair } from '../src/monitor/index.js';
import { buildMonitorReport } from '../src/commands/monitor.js';
import { monitorMarkdown, trendSvg, windowConfusionSvg } from '../src/monitor/index.js';
import { openCaseStore, openCatalog, openObjectIndex, openReportStore } from '../src/store/index.js';
import { monitorSchema } from '../src/config/schema.js';
import { createLogger } from '../src/shared/log.js';
import type { RetrievalResult } from '../src/shared/cases.js';
import type { StoredReport } from '../src/shared/reports.js';
import { tempDir } from './helpers/node.js';

const DAY = 86400000;
const T0 = Date.UTC(2024, 0, 1); // a Monday

/** 40 studies over two weeks; probabilities and labels fixed by a small LCG so the test is exact. */
function pairs(): MonitorPair[] {
  let s = 7;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: 40 }, (_, i) => {
    const abnormal = rnd() < 0.5;
    return {
      StudyInstanceUID: `1.2.${i}`,
      at: T0 + (i % 14) * DAY,
      probability: Math.min(1, Math.max(0, (abnormal ? 0.65 : 0.35) + (rnd() - 0.5) * 0.7)),
      reportAbnormal: abnormal,
    };
  });
}

/** The same figures the simple way (test/helpers/agreement.ts). */
const independent = (list: MonitorPair[], threshold: number) =>
  expectedFigures(
    list.map((p) => ({ probability: p.probability, abnormal: p.reportAbnormal })),
    threshold,
  );

const opened: Array<{ close(): void }> = [];
afterEach(() => opened.splice(0).forEach((o) => o.close()));

/** A retrieval of model m@1 that shows no case, only a vote: `normal` against `other`. */
function voteOnly(SOPInstanceUID: string, StudyInstanceUID: string, normal: number, other: string): RetrievalResult {
  return {
    SOPInstanceUID,
    StudyInstanceUID,
    modelName: 'm',
    modelVersion: '1',
    k: 3,
    cases: [],
    vote: [
      { label: 'normal', probability: normal },
      { label: other, probability: 1 - normal },
    ],
  };
}

describe('monitor figures', () => {
  it('equal an independent computation, overall and per ISO week, with intervals around them', () => {
    const list = pairs();
    const f = monitorFigures(list, { threshold: 0.5, resamples: 200, seed: 1 });
    const want = independent(list, 0.5);
    for (const m of ['sensitivity', 'specificity', 'ppv', 'f1', 'auc'] as const) {
      expect(f.values[m]).toBeCloseTo(want[m], 12);
      expect(f.intervals[m]!.lo).toBeLessThanOrEqual(f.values[m]!);
      expect(f.intervals[m]!.hi).toBeGreaterThanOrEqual(f.values[m]!);
    }
    const weeks = byWeek(list);
    expect([...weeks.keys()]).toEqual(['2024-W01', '2024-W02']);
    for (const [, w] of weeks) expect(monitorFigures(w, { threshold: 0.5, resamples: 0, seed: 1 }).values.f1).toBeCloseTo(independent(w, 0.5).f1, 12);
  });

  it('numbers ISO weeks across year ends', () => {
    expect(isoWeek(Date.UTC(2023, 0, 1))).toBe('2022-W52');
    expect(isoWeek(Date.UTC(2020, 11, 31))).toBe('2020-W53');
    expect(isoWeek(Date.UTC(2024, 11, 30))).toBe('2025-W01');
  });

  it('pairs a report with the mean abnormal probability of its study images, and skips studies without results', () => {
    const report = (study: string, status: 'normal' | 'abnormal'): StoredReport => ({
      id: 1,
      source: 'hl7',
      AccessionNumber: '',
      StudyInstanceUID: '',
      status: 'final',
      text: '',
      messageId: '',
      labels: { status, findings: [], uncertain: [] },
      receivedAt: T0,
      matchedStudyInstanceUID: study,
      supersededBy: undefined,
    });
    const result = (study: string, normal: number): RetrievalResult => voteOnly(`${study}.${normal}`, study, normal, 'COVID-19');
    const got = monitorPairs([report('S1', 'abnormal'), report('S2', 'normal')], (s) => (s === 'S1' ? [result('S1', 0.2), result('S1', 0.4)] : []));
    expect(got).toEqual([{ StudyInstanceUID: 'S1', at: T0, probability: 0.7, reportAbnormal: true }]);
  });
});

describe('monitor over the stores', () => {
  function seeded(n: number, agree: boolean) {
    const dir = tempDir('precedent-monitor-');
    const file = join(dir, 'catalog.sqlite');
    const catalog = openCatalog(file);
    const reports = openReportStore(file);
    const cases = openCaseStore(file);
    const objects = openObjectIndex(file);
    opened.push(objects, cases, reports, catalog);
    for (let i = 0; i < n; i++) {
      const study = `1.9.${i}`;
      const abnormal = i % 2 === 0;
      objects.put(receivedObject(study, `M${i}`));
      const normal = agree === abnormal ? 0.1 : 0.9;
      cases.saveRetrievals([voteOnly(`${study}.1.1`, study, normal, 'other')], '', T0);
      reports.put(
        {
          source: 'hl7',
          AccessionNumber: `M${i}`,
          StudyInstanceUID: '',
          status: 'final',
          text: 't',
          messageId: 'm',
          labels: { status: abnormal ? 'abnormal' : 'normal', findings: [], uncertain: [] },
        },
        T0 + i * DAY,
      );
    }
    return { dir, reports, cases };
  }

  it('writes the table, Markdown and SVG of `precedent monitor`', () => {
    const { dir } = seeded(10, true);
    const report = buildMonitorReport(dir, { since: T0, threshold: 0.5, resamples: 50, seed: 1 });
    expect(report.window.pairs).toBe(10);
    expect(report.window.values.f1).toBe(1);
    expect(report.weeks.map((w) => [w.week, w.figures.pairs])).toEqual([
      ['2024-W01', 7],
      ['2024-W02', 3],
    ]);
    expect(monitorMarkdown(report)).toMatch(/\| since 2024-01-01 \| 10 \| 5 \| 1\.000/);
    expect(trendSvg(report)).toContain('2024-W02');
    expect(windowConfusionSvg(report)).toContain('<svg');
    expect(buildMonitorReport(dir, { since: T0 + 5 * DAY, threshold: 0.5, resamples: 0, seed: 1 }).window.pairs).toBe(5);
  });

  it('raises the alert, the gauge and (when configured) /readyz when F1 falls below the floor', async () => {
    const { reports, cases } = seeded(12, false);
    const lines: string[] = [];
    const log = createLogger('info', new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }));
    const registry = new Registry();
    const config = monitorSchema.parse({ f1Floor: 0.6, minPairs: 10, degradeReadiness: true, resamples: 20 });
    const monitor = createRunningMonitor({ reports, retrievals: (s) => cases.retrievals(s), config, registry, log, now: () => T0 + 20 * DAY });
    expect(monitor.pass().values.f1).toBe(0);
    expect(monitor.check().ok).toBe(false);
    expect(lines.join('')).toContain('monitor_f1_below_floor');
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/precedent_monitor_f1_below_floor 1/);
    expect(metrics).toMatch(/precedent_monitor_pairs 12/);
    const relaxed = createRunningMonitor({
      reports,
      retrievals: (s) => cases.retrievals(s),
      config: { ...config, degradeReadiness: false },
      registry: new Registry(),
      log,
      now: () => T0 + 20 * DAY,
    });
    relaxed.pass();
    expect(relaxed.check()).toEqual({ ok: true, detail: expect.stringMatching(/^below floor: 12 report pairs/) });
  });
});
