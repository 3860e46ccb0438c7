// monitor/: the node's output against the radiologists' reports (issue 16): pairs, figures with
// intervals, the weekly trend, and the running check inside `precedent serve`.
export {
  monitorPairs,
  monitorFigures,
  byWeek,
  isoWeek,
  NORMAL_LABEL,
  MONITOR_METRICS,
  type MonitorPair,
  type MonitorFigures,
  type MonitorMetric,
} from './figures.js';
export { monitorTable, monitorMarkdown, trendSvg, windowConfusionSvg, type MonitorReport } from './render.js';
export { createRunningMonitor, type RunningMonitor } from './running.js';
