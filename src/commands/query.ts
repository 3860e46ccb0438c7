// `precedent query FILE [--json] [-k N]`: the similar cases of one DICOM, PNG or JPEG file.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { RetrievalResult } from '../shared/cases.js';
import type { DecodedImage } from '../shared/analysis.js';
import { derivedUid } from '../shared/case-keys.js';
import { PrecedentError } from '../shared/errors.js';
import { decodeRasterFile, isRasterFile } from '../decode/index.js';
import { openModelContext, type CommonOptions } from '../app/archive-context.js';
import { positiveInt, runCommand } from './run-command.js';

interface Options extends CommonOptions {
  json?: boolean;
  k?: string;
  patient?: string;
  issuer: string;
}

function table(file: string, r: RetrievalResult): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const lines = [
    `${file}: ${r.cases.length} similar case(s), model ${r.modelName}@${r.modelVersion}`,
    `vote: ${r.vote.map((v) => `${v.label} ${pct(v.probability)}`).join(', ') || '(no labelled neighbours)'}`,
    '',
    'rank  similarity  labels                age  sex  outcomes                      study (retrieve AE)',
  ];
  for (const s of r.cases) {
    const c = s.case;
    const outcomes = Object.entries(c.outcomes)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    lines.push(
      `${String(s.rank).padStart(4)}  ${s.similarity.toFixed(4).padStart(10)}  ${(c.labels.join('|') || '-').padEnd(20).slice(0, 20)}  ${String(c.age ?? '-').padStart(3)}  ${(c.sex ?? '-').padEnd(3)}  ${(outcomes || '-').padEnd(28).slice(0, 28)}  ${c.StudyInstanceUID}${c.retrieveAETitle ? ` (${c.retrieveAETitle})` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function registerQueryCommand(program: Command): void {
  program
    .command('query')
    .description('print the similar cases of one DICOM, PNG or JPEG file')
    .argument('<file>', 'DICOM Part 10, PNG or JPEG file')
    .option('--json', 'JSON (the RetrievalResult) instead of a table')
    .option('-k, --k <n>', 'number of similar cases (default index.k)')
    .option('--patient <id>', "PNG/JPEG only: the patient ID, so that the patient's own cases are excluded")
    .option('--issuer <issuer>', 'issuer of --patient', '')
    .option('--model <dir>', 'model folder (default: model.dir of the configuration)')
    .option('-v, --verbose', 'log details to stderr')
    .option('-c, --config <file>', 'configuration file')
    .action((file: string, opts: Options) =>
      runCommand(async () => {
        const path = resolve(file);
        const ctx = await openModelContext(opts);
        try {
          const k = opts.k ? positiveInt(opts.k, '--k') : ctx.config.index.k;
          let image: DecodedImage;
          let ids: { SOPInstanceUID: string; StudyInstanceUID: string; patientKey: string };
          if (await isRasterFile(path)) {
            image = await decodeRasterFile(path);
            // A stand-alone picture has no study: its UIDs are derived from its path.
            ids = {
              SOPInstanceUID: derivedUid('precedent-query', 'sop', path),
              StudyInstanceUID: derivedUid('precedent-query', 'study', path),
              patientKey: opts.patient ? ctx.archive.patientKey(opts.patient, opts.issuer) : '',
            };
          } else {
            const a = ctx.archive.attributes(readFileSync(path));
            if (!a.triage.analyzable) throw new PrecedentError('INPUT_INVALID', `${file} is not an image we analyse: ${a.triage.reason}`);
            image = await ctx.dicomDecoder.decodeFile(path);
            ids = { SOPInstanceUID: a.SOPInstanceUID, StudyInstanceUID: a.StudyInstanceUID, patientKey: a.patientKey };
          }
          const [embedding] = await ctx.embedder.embed([image]);
          if (!embedding) throw new PrecedentError('INFERENCE_FAILED', 'no embedding returned');
          const [result] = await ctx.archive.retriever.retrieve(
            [{ SOPInstanceUID: ids.SOPInstanceUID, StudyInstanceUID: ids.StudyInstanceUID, vector: embedding.vector }],
            ids.patientKey,
            k,
          );
          if (!result) throw new PrecedentError('INDEX_FAILED', 'no result returned');
          process.stdout.write(opts.json ? `${JSON.stringify({ file: path, ...result }, null, 2)}\n` : table(file, result));
        } finally {
          await ctx.close();
        }
      }),
    );
}
