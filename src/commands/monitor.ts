// `precedent monitor [--since DATE]`: the node's output against the radiologists' reports, as a table on
// stdout and a Markdown + SVG report (trend per week, confusion matrix) in --out.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { openCaseStore, openReportStore, catalogFile } from '../store/index.js';
import { byWeek, monitorFigures, monitorPairs, monitorMarkdown, monitorTable, trendSvg, windowConfusionSvg, type MonitorReport } from '../monitor/index.js';
import { openCaseContext } from '../app/archive-context.js';
import { positiveInt, runCommand, UsageError } from './run-command.js';

export function buildMonitorReport(dataDir: string, options: { since: number; threshold: number; resamples: number; seed: number }): MonitorReport {
  const file = catalogFile(dataDir);
  const reports = openReportStore(file);
  const cases = openCaseStore(file);
  try {
    const pairs = monitorPairs(reports.currentMatched(), (study) => cases.retrievals(study)).filter((p) => p.at >= options.since);
    const figureOptions = { threshold: options.threshold, resamples: options.resamples, seed: options.seed };
    return {
      threshold: options.threshold,
      since: new Date(options.since).toISOString().slice(0, 10),
      window: monitorFigures(pairs, figureOptions),
      weeks: [...byWeek(pairs)].map(([week, list]) => ({ week, figures: monitorFigures(list, figureOptions) })),
    };
  } finally {
    cases.close();
    reports.close();
  }
}

export function registerMonitorCommand(program: Command): void {
  program
    .command('monitor')
    .description("the node's abnormal calls against the radiologists' reports: sensitivity, specificity, PPV, F1, AUC with intervals, per week")
    .option('-c, --config <file>', 'configuration file')
    .option('--since <date>', 'pairs from this date (YYYY-MM-DD); default: monitor.windowDays ago')
    .option('--out <dir>', 'write monitor.md, trend.svg and confusion.svg here')
    .option('--resamples <n>', 'bootstrap resamples (default monitor.resamples)')
    .action((opts: { config?: string; since?: string; out?: string; resamples?: string }) =>
      runCommand(async () => {
        const ctx = openCaseContext(opts);
        const { config, dataDir } = ctx;
        ctx.close();
        const since = opts.since ? Date.parse(`${opts.since}T00:00:00Z`) : Date.now() - config.monitor.windowDays * 86400000;
        if (Number.isNaN(since)) throw new UsageError(`--since must be a date YYYY-MM-DD (got ${opts.since})`);
        const resamples = opts.resamples ? positiveInt(opts.resamples, '--resamples') : config.monitor.resamples;
        const report = buildMonitorReport(dataDir, { since, threshold: config.monitor.threshold, resamples, seed: 1 });
        process.stdout.write(`${monitorTable(report)}\n`);
        if (opts.out) {
          const out = resolve(opts.out);
          mkdirSync(out, { recursive: true });
          writeFileSync(join(out, 'monitor.md'), monitorMarkdown(report));
          writeFileSync(join(out, 'trend.svg'), trendSvg(report));
          writeFileSync(join(out, 'confusion.svg'), windowConfusionSvg(report));
          process.stdout.write(`written: ${join(out, 'monitor.md')}, trend.svg, confusion.svg\n`);
        }
      }),
    );
}
