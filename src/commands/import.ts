// `precedent import --images DIR (--labels CSV | --unlabelled) | --dicom DIR [--labels CSV] [--ae ARCHIVE]`:
// bulk indexing of a labelled archive.
import type { Command } from 'commander';
import { aeTitle } from '../config/primitives.js';
import { openModelContext, type CommonOptions } from '../app/archive-context.js';
import { positiveInt, runCommand, UsageError } from './run-command.js';
import { importTarget, runImport, type ImportSummary } from '../archive/index.js';

interface Options extends CommonOptions {
  images?: string;
  dicom?: string;
  labels?: string;
  unlabelled?: boolean;
  issuer: string;
  ae?: string;
  batch: string;
  json?: boolean;
}

function printSummary(s: ImportSummary): void {
  const lines = [
    `import from ${s.source}: ${s.items} image(s) in ${s.seconds} s`,
    `  added ${s.added}, updated ${s.updated}, unchanged ${s.unchanged}, ignored ${s.ignored}, failed ${s.failed}`,
    `  archive: ${s.casesInArchive} case(s) for this model; index ${s.index.size} vector(s), ${s.index.mode}${s.index.rebuilt ? ', rebuilt' : ''} (${s.index.file})`,
    ...s.failures.slice(0, 10).map((f) => `  failed: ${f}`),
    ...(s.failures.length > 10 ? [`  ... and ${s.failures.length - 10} more`] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description('index a labelled archive (PNG/JPEG with a labels CSV, or DICOM files) as similar cases; resumable and idempotent')
    .option(
      '--images <dir>',
      "folder of PNG/JPEG radiographs; needs --labels (each row's image_path is found relative to the CSV's folder, else relative to this folder) or --unlabelled (every PNG/JPEG under it)",
    )
    .option('--dicom <dir>', 'folder of DICOM files (searched recursively)')
    .option(
      '--labels <csv>',
      'labels and clinical data (columns as ../shared/data/cxr/labels.csv; for --dicom keyed by SOPInstanceUID, StudyInstanceUID or AccessionNumber)',
    )
    .option('--unlabelled', 'with --images: import every PNG/JPEG in the folder as a case without labels (labels can follow with `precedent labels load`)')
    .option('--issuer <issuer>', "IssuerOfPatientID of the CSV's patient IDs (--images), so that they match the same patients' DICOM", '')
    .option(
      '--ae <aeTitle>',
      'AE title of the archive (PACS) that holds these studies: stored with each case and shown in the report, so a viewer can retrieve a similar case',
    )
    .option('--model <dir>', 'model folder (default: model.dir of the configuration)')
    .option('--batch <n>', 'images per embedding batch', '16')
    .option('--json', 'print the summary as JSON')
    .option('-v, --verbose', 'log progress details to stderr')
    .option('-c, --config <file>', 'configuration file')
    .action((opts: Options) =>
      runCommand(async () => {
        if (Boolean(opts.images) === Boolean(opts.dicom)) throw new UsageError('give exactly one of --images DIR or --dicom DIR');
        if (opts.labels !== undefined && opts.unlabelled) throw new UsageError('give --labels CSV or --unlabelled, not both');
        // Without a CSV every picture in the folder becomes an unlabelled case: say so explicitly.
        if (opts.images && opts.labels === undefined && !opts.unlabelled)
          throw new UsageError('--images needs --labels CSV, or --unlabelled to import every PNG/JPEG in the folder without labels');
        const batch = positiveInt(opts.batch, '--batch');
        if (opts.ae !== undefined) {
          const ae = aeTitle.safeParse(opts.ae);
          if (!ae.success) throw new UsageError(`--ae ${JSON.stringify(opts.ae)}: ${ae.error.issues[0]?.message ?? 'not an AE title'} (1-16 characters)`);
          opts.ae = ae.data;
        }
        importTarget({ ...opts, batch });
        const ctx = await openModelContext(opts);
        try {
          const summary = await runImport(ctx, { ...opts, batch });
          if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
          else printSummary(summary);
        } finally {
          await ctx.close();
        }
      }),
    );
}
