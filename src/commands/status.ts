// `precedent status [--study UID] [--json]`: the facts of the operations API's /status and
// /studies/{uid}, read straight from the catalog (no running node or HTTP needed).
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfigOrExit } from '../config/index.js';
import { openStatusReader, catalogFile } from '../store/index.js';
import type { ExportSummary, NodeStatus, RetentionSummary, StudyStatus } from '../shared/node-status.js';

function exportsLine(e: ExportSummary): string {
  const parts = [`pending ${e.byState.pending}`, `sent ${e.byState.sent}`, `failed ${e.byState.failed}`];
  return `${parts.join(', ')}${e.lastError ? `; last error: ${e.lastError}` : ''}`;
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

function retentionLine(r: RetentionSummary): string {
  const kept = `${mb(r.keptBytes)} of source objects on disk`;
  return r.files === 0 ? `nothing removed; ${kept}` : `removed ${r.files} file(s) of ${r.studies} study(ies), ${mb(r.bytes)}; ${kept}`;
}

function studyText(s: StudyStatus): string {
  const lines = [
    `Study ${s.StudyInstanceUID}`,
    `  state:       ${s.state ?? 'not queued (no analysable instance)'}${s.reason ? ` (${s.reason})` : ''}${s.generation !== null ? `, round ${s.generation}` : ''}`,
    `  received:    ${s.instances.received} object(s) in ${s.instances.series} series: ${s.instances.accepted} accepted, ${s.instances.ignored} ignored`,
    `  senders:     ${
      Object.entries(s.instances.byCallingAETitle)
        .map(([ae, n]) => `${ae} ${n}`)
        .join(', ') || '-'
    }`,
  ];
  for (const i of s.ignored) lines.push(`  ignored:     ${i.count} × ${i.reason}`);
  if (s.sourceRemoved > 0) lines.push(`  retention:   the files of ${s.sourceRemoved} accepted object(s) removed (rows, embeddings and results kept)`);
  lines.push(`  embeddings:  ${s.embeddings}`);
  lines.push(`  exports:     ${exportsLine(s.exports)}`);
  for (const d of s.exports.destinations) {
    lines.push(
      `    ${d.destination}: pending ${d.byState.pending}, sent ${d.byState.sent}, failed ${d.byState.failed}${d.lastError ? `; last error: ${d.lastError}` : ''}`,
    );
  }
  if (s.firstReceivedAt) lines.push(`  first/last:  ${s.firstReceivedAt} / ${s.lastReceivedAt ?? ''}; updated ${s.updatedAt ?? ''}`);
  return `${lines.join('\n')}\n`;
}

function summaryText(n: NodeStatus): string {
  const lines = [
    `Instances:  ${n.instances.received} received, ${n.instances.accepted} accepted, ${n.instances.ignored} ignored`,
    `Studies:    ${Object.entries(n.studies)
      .map(([state, count]) => `${state} ${count}`)
      .join(', ')}`,
    `Embeddings: ${n.embeddings}`,
    `Exports:    ${exportsLine(n.exports)}`,
    `Retention:  ${retentionLine(n.retention)}`,
  ];
  for (const r of n.retention.recent) lines.push(`  ${r.at}  ${r.trigger.padEnd(3)}  ${r.files} file(s) of ${r.studies} study(ies), ${mb(r.bytes)}`);
  if (n.recentStudies.length > 0) {
    lines.push('Recent studies:');
    for (const s of n.recentStudies)
      lines.push(`  ${s.updatedAt}  ${s.state.padEnd(9)} ${String(s.instanceCount).padStart(4)}  ${s.StudyInstanceUID}${s.reason ? `  (${s.reason})` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('what the catalog knows: the whole node, or one study (--study); the same facts as the operations API')
    .option('-c, --config <file>', 'configuration file (for storage.dataDir)')
    .option('--study <uid>', 'one Study Instance UID: received, ignored (with reasons), state, embeddings, exports')
    .option('--recent <n>', 'recent studies listed in the summary', '10')
    .option('--json', 'JSON instead of text')
    .action((opts: { config?: string; study?: string; recent: string; json?: boolean }) => {
      const config = loadConfigOrExit(opts.config);
      const file = catalogFile(resolve(config.storage.dataDir));
      if (!existsSync(file)) {
        process.stderr.write(`precedent: no catalog at ${file} (has a node run with this storage.dataDir?)\n`);
        process.exitCode = 1;
        return;
      }
      const reader = openStatusReader(file);
      try {
        if (opts.study) {
          const study = reader.study(opts.study);
          if (!study) {
            if (opts.json) process.stdout.write(`${JSON.stringify({ error: 'unknown study', StudyInstanceUID: opts.study })}\n`);
            process.stderr.write(`precedent: the catalog knows no study ${opts.study}\n`);
            process.exitCode = 1;
            return;
          }
          process.stdout.write(opts.json ? `${JSON.stringify(study, null, 2)}\n` : studyText(study));
          return;
        }
        const summary = reader.summary(Math.max(0, Number(opts.recent) || 0));
        process.stdout.write(opts.json ? `${JSON.stringify(summary, null, 2)}\n` : summaryText(summary));
      } finally {
        reader.close();
      }
    });
}
