// `precedent cases delete --patient ID | --study UID` (erasure requests) and `precedent cases count`.
import type { Command } from 'commander';
import { patientKeyOf } from '../shared/case-keys.js';
import { patientKeySecret } from '../archive/index.js';
import { openCaseContext, refreshIndexFiles } from '../app/archive-context.js';
import { runCommand, UsageError } from './run-command.js';

interface DeleteOptions {
  config?: string;
  patient?: string;
  issuer: string;
  study?: string;
  json?: boolean;
}

export function registerCasesCommands(program: Command): void {
  const cases = program.command('cases').description('the historical archive: erasure requests and counts');
  cases
    .command('delete')
    .description('remove the cases of a patient or a study from the catalog (cases, embeddings, stored results) and from every index file')
    .option('--patient <id>', 'PatientID (as in the DICOM, or patient_group / patient_id of an image import CSV)')
    .option('--issuer <issuer>', 'IssuerOfPatientID of --patient (empty for image imports)', '')
    .option('--study <uid>', 'StudyInstanceUID')
    .option('--json', 'JSON output')
    .option('-c, --config <file>', 'configuration file')
    .action((opts: DeleteOptions) =>
      runCommand(async () => {
        if (Boolean(opts.patient) === Boolean(opts.study)) throw new UsageError('give exactly one of --patient ID or --study UID');
        const ctx = openCaseContext(opts);
        try {
          const selector = opts.patient
            ? { patientKey: patientKeyOf(patientKeySecret(ctx.config, ctx.dataDir), opts.patient, opts.issuer) }
            : { StudyInstanceUID: opts.study ?? '' };
          const removed = ctx.cases.deleteCases(selector, Date.now());
          const indexFiles = await refreshIndexFiles(ctx);
          if (opts.json) {
            process.stdout.write(`${JSON.stringify({ removed: removed.length, caseKeys: removed.map(String), indexFiles }, null, 2)}\n`);
          } else {
            process.stdout.write(`removed ${removed.length} case(s) from the catalog\n${indexFiles.map((l) => `  index ${l}\n`).join('')}`);
          }
        } finally {
          ctx.close();
        }
      }),
    );
  cases
    .command('count')
    .description('number of cases in the archive')
    .option('-c, --config <file>', 'configuration file')
    .action((opts: { config?: string }) =>
      runCommand(async () => {
        const ctx = openCaseContext(opts);
        try {
          process.stdout.write(`${ctx.cases.count()}\n`);
        } finally {
          ctx.close();
        }
      }),
    );
}
