// The running check inside `precedent serve`: every monitor.intervalSeconds the window's figures are
// recomputed and exported as Prometheus gauges; when F1 falls below monitor.f1Floor (on at least
// monitor.minPairs pairs) an alert line is logged and, if monitor.degradeReadiness, /readyz fails.
import { Gauge, type Registry } from 'prom-client';
import type { MonitorConfig } from '../config/schema.js';
import type { Logger } from '../shared/log.js';
import type { RetrievalResult } from '../shared/cases.js';
import type { ReportStore } from '../shared/reports.js';
import { MONITOR_METRICS, monitorFigures, monitorPairs, type MonitorFigures } from './figures.js';

export interface RunningMonitor {
  /** Recomputes the window now (also what the timer does). */
  pass(): MonitorFigures;
  /** The readiness check's verdict from the last pass. */
  check(): { ok: boolean; detail: string };
  start(): void;
  stop(): void;
}

export function createRunningMonitor(deps: {
  reports: ReportStore;
  retrievals: (StudyInstanceUID: string) => RetrievalResult[];
  config: MonitorConfig;
  registry: Registry;
  log: Logger;
  now: () => number;
}): RunningMonitor {
  const { config, log } = deps;
  const value = new Gauge({
    name: 'precedent_monitor_value',
    help: 'Agreement of the node with the reports over monitor.windowDays, by metric (sensitivity, specificity, ppv, f1, auc).',
    labelNames: ['metric', 'bound'],
    registers: [deps.registry],
  });
  const pairs = new Gauge({ name: 'precedent_monitor_pairs', help: 'Analysed studies with a report in the monitor window.', registers: [deps.registry] });
  const below = new Gauge({
    name: 'precedent_monitor_f1_below_floor',
    help: '1 while the window F1 is below monitor.f1Floor (on at least monitor.minPairs pairs).',
    registers: [deps.registry],
  });
  let alerting = false;
  let last: MonitorFigures | undefined;
  let timer: NodeJS.Timeout | undefined;

  function pass(): MonitorFigures {
    const since = deps.now() - config.windowDays * 86400000;
    const window = monitorPairs(deps.reports.currentMatched(), deps.retrievals).filter((p) => p.at >= since);
    const figures = monitorFigures(window, { threshold: config.threshold, resamples: config.resamples, seed: 1 });
    last = figures;
    pairs.set(figures.pairs);
    for (const m of MONITOR_METRICS) {
      const v = figures.values[m];
      const i = figures.intervals[m];
      if (v !== undefined) value.set({ metric: m, bound: 'point' }, v);
      if (i) {
        value.set({ metric: m, bound: 'low' }, i.lo);
        value.set({ metric: m, bound: 'high' }, i.hi);
      }
    }
    const f1 = figures.values.f1;
    const now = config.f1Floor !== undefined && figures.pairs >= config.minPairs && f1 !== undefined && f1 < config.f1Floor;
    below.set(now ? 1 : 0);
    if (now && !alerting)
      log.warn(
        { alert: 'monitor_f1_below_floor', f1, floor: config.f1Floor, pairs: figures.pairs, windowDays: config.windowDays },
        'ALERT: agreement with the radiologists fell below monitor.f1Floor',
      );
    if (!now && alerting)
      log.info(
        { alert: 'monitor_f1_below_floor', f1, floor: config.f1Floor, pairs: figures.pairs },
        'agreement with the radiologists is back above monitor.f1Floor',
      );
    alerting = now;
    return figures;
  }

  return {
    pass,
    check() {
      const f1 = last?.values.f1;
      const detail = `${last?.pairs ?? 0} report pairs in ${config.windowDays} days, F1 ${f1 === undefined ? 'n/a' : f1.toFixed(3)}${config.f1Floor === undefined ? '' : `, floor ${config.f1Floor}`}`;
      return { ok: !(alerting && config.degradeReadiness), detail: alerting ? `below floor: ${detail}` : detail };
    },
    start() {
      const run = (): void => {
        try {
          pass();
        } catch (err) {
          log.warn({ err: err instanceof Error ? err.message : String(err) }, 'monitor pass failed');
        }
      };
      run();
      timer = setInterval(run, config.intervalSeconds * 1000);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}
