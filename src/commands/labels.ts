// `precedent labels load CSV`: labels and clinical data for archive studies, joined by SOPInstanceUID,
// StudyInstanceUID or AccessionNumber. Rows whose study has not arrived yet wait for it.
import type { Command } from 'commander';
import type { StudyLabels } from '../shared/case-store.js';
import { PrecedentError } from '../shared/errors.js';
import { readLabelsCsv } from '../index/index.js';
import { openCaseContext, runCommand } from './archive-context.js';

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
        const entries: StudyLabels[] = rows.map((r) => {
          // The most specific key wins: an image, then a study, then an accession.
          if (r.SOPInstanceUID) return { match: { SOPInstanceUID: r.SOPInstanceUID }, facts: r.facts };
          if (r.StudyInstanceUID) return { match: { StudyInstanceUID: r.StudyInstanceUID }, facts: r.facts };
          if (r.AccessionNumber) return { match: { AccessionNumber: r.AccessionNumber }, facts: r.facts };
          throw new PrecedentError('INPUT_INVALID', `${csv} line ${r.line}: needs AccessionNumber, StudyInstanceUID or SOPInstanceUID`);
        });
        const ctx = openCaseContext(opts);
        try {
          const result = ctx.cases.loadLabels(entries, Date.now());
          process.stdout.write(`${result.rows} row(s): ${result.casesUpdated} case(s) updated, ${result.pending} row(s) wait for their study\n`);
        } finally {
          ctx.close();
        }
      }),
    );
}
