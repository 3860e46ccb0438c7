// `precedent labels load CSV`: labels and clinical data for archive studies, joined by SOPInstanceUID,
// StudyInstanceUID or AccessionNumber. Rows whose study has not arrived yet wait for it.
import type { Command } from 'commander';
import type { StudyLabels } from '../shared/case-store.js';
import { PrecedentError } from '../shared/errors.js';
import { readLabelsCsv } from '../archive/index.js';
import { openCaseContext } from '../app/archive-context.js';
import { positiveInt, runCommand, UsageError } from './run-command.js';
import { runScoreOpenI } from './labels-openi.js';
import { labelsFromReports } from './labels-reports.js';
import { DEFAULT_RULES_FILE, reportRules } from '../reports/index.js';

export function registerLabelsCommands(program: Command): void {
  const labels = program.command('labels').description('labels and clinical data of archive cases');
  labels
    .command('load')
    .description('load a labels CSV keyed by AccessionNumber, StudyInstanceUID or SOPInstanceUID (columns as ../shared/data/cxr/labels.csv)')
    .argument('<csv>', 'CSV file')
    .option('-c, --config <file>', 'configuration file')
    .action((csv: string, opts: { config?: string }) =>
      runCommand(async () => {
        const { rows } = readLabelsCsv(csv);
        const entries: StudyLabels[] = rows
          .map((r) => {
            // The most specific key wins: an image, then a study, then an accession.
            if (r.SOPInstanceUID) return { match: { SOPInstanceUID: r.SOPInstanceUID }, facts: r.facts };
            if (r.StudyInstanceUID) return { match: { StudyInstanceUID: r.StudyInstanceUID }, facts: r.facts };
            if (r.AccessionNumber) return { match: { AccessionNumber: r.AccessionNumber }, facts: r.facts };
            throw new PrecedentError('INPUT_INVALID', `${csv} line ${r.line}: needs AccessionNumber, StudyInstanceUID or SOPInstanceUID`);
          })
          .map((e) => ({ ...e, facts: { ...e.facts, clinical: { ...e.facts.clinical, label_source: 'csv' } } }));
        const ctx = openCaseContext(opts);
        try {
          const result = ctx.cases.loadLabels(entries, Date.now());
          process.stdout.write(`${result.rows} row(s): ${result.casesUpdated} case(s) updated, ${result.pending} row(s) wait for their study\n`);
        } finally {
          ctx.close();
        }
      }),
    );
  labels
    .command('from-reports')
    .description(
      'label archive studies from their stored reports (HL7, FHIR, DICOM SR) with the report rules; provenance: clinical.label_source = report-rules',
    )
    .option('-c, --config <file>', 'configuration file (reports.rulesFile chooses the rules)')
    .action((opts: { config?: string }) =>
      runCommand(async () => {
        const ctx = openCaseContext(opts);
        try {
          const file = ctx.config.reports.rulesFile ?? DEFAULT_RULES_FILE;
          const entries = labelsFromReports(ctx.dataDir, reportRules(file), file === DEFAULT_RULES_FILE ? 'default' : file);
          const result = ctx.cases.loadLabels(entries, Date.now());
          const abnormal = entries.filter((e) => e.facts.labels.includes('abnormal')).length;
          process.stdout.write(
            `${entries.length} reported studies (${abnormal} abnormal, ${entries.length - abnormal} normal): ${result.casesUpdated} case(s) updated, ${result.pending} wait for their cases\n`,
          );
        } finally {
          ctx.close();
        }
      }),
    );
  labels
    .command('score-openi')
    .description('measure the report labeller against the Open-i MeSH indexing (NLMCXR_reports.tgz): sensitivity, specificity, PPV, F1 with intervals')
    .argument('<tgz>', 'NLMCXR_reports.tgz as published')
    .option('--rules <file>', 'report rules (YAML or JSON); default: the shipped config/report-rules.yaml')
    .option('--uncertain <how>', 'count uncertain mentions as positive or ignore them (overrides the rules)')
    .option('--resamples <n>', 'bootstrap resamples', '1000')
    .option('--seed <n>', 'bootstrap seed', '1')
    .action((tgz: string, opts: { rules?: string; uncertain?: string; resamples: string; seed: string }) =>
      runCommand(async () => {
        if (opts.uncertain !== undefined && opts.uncertain !== 'positive' && opts.uncertain !== 'ignore')
          throw new UsageError('--uncertain must be positive or ignore');
        process.stdout.write(runScoreOpenI(tgz, { ...opts, resamples: positiveInt(opts.resamples, '--resamples'), seed: positiveInt(opts.seed, '--seed') }));
      }),
    );
}
