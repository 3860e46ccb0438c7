// `precedent exports list|retry`: results waiting for, delivered to, or failed at destinations.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { loadConfigOrExit } from '../config/index.js';
import { openExportOutbox, catalogFile } from '../store/index.js';
import type { ExportItem, ExportState } from '../shared/exports.js';

/** A table with a header line, columns padded to their widest value (the last one, the error, is not). */
export function exportsTable(items: readonly ExportItem[]): string {
  const header = ['ID', 'STATE', 'DESTINATION', 'ATTEMPTS', 'STUDY INSTANCE UID', 'SOP INSTANCE UID', 'LAST ERROR'];
  const rows = items.map((i) => [String(i.id), i.state, i.destination, String(i.attempts), i.StudyInstanceUID, i.SOPInstanceUID, i.lastError ?? '']);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]?.length ?? 0)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  return [header, ...rows].map(line).join('\n');
}

function openOutbox(configFile: string | undefined) {
  const config = loadConfigOrExit(configFile);
  return openExportOutbox(catalogFile(resolve(config.storage.dataDir)));
}

export function registerExportCommands(program: Command): void {
  const exports = program.command('exports').description('results queued for, delivered to or failed at export destinations');
  exports
    .command('list')
    .option('-c, --config <file>', 'configuration file')
    .option('--state <state>', 'pending, sent or failed')
    .option('--study <uid>', 'only this Study Instance UID')
    .option('--json', 'JSON instead of a table')
    .action((opts: { config?: string; state?: ExportState; study?: string; json?: boolean }) => {
      const outbox = openOutbox(opts.config);
      const items = outbox.list({ ...(opts.state ? { state: opts.state } : {}), ...(opts.study ? { StudyInstanceUID: opts.study } : {}) });
      outbox.close();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
        return;
      }
      if (items.length > 0) process.stdout.write(`${exportsTable(items)}\n`);
      process.stderr.write(`${items.length} item(s)\n`);
    });
  exports
    .command('retry')
    .option('-c, --config <file>', 'configuration file')
    .option('--id <ids...>', 'item ids (default: every failed item)')
    .description('make failed (or the given) items due again; a running node sends them on its next pass')
    .action((opts: { config?: string; id?: string[] }) => {
      const outbox = openOutbox(opts.config);
      const n = outbox.retry(opts.id ? { ids: opts.id.map(Number) } : { state: 'failed' }, Date.now());
      outbox.close();
      process.stdout.write(`${n} item(s) queued again\n`);
    });
}
