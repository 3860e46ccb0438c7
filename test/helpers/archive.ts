// The archive commands as an operator runs them: the built CLI (`node bin/precedent.js ...`) on a
// config file of its own data dir, and subsets of the shared labels.csv.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cxrLabelsPath } from '../fixtures/shared.js';
import { tempDir } from './node.js';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function startCli(args: string[]): { child: ChildProcess; done: Promise<CliResult>; stderr: () => string } {
  const child = spawn(process.execPath, ['bin/precedent.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done, stderr: () => stderr };
}

export const cli = (args: string[]): Promise<CliResult> => startCli(args).done;

/** A fresh data dir with a config file (CPU inference, quiet logs); returns both. */
export function cliDataDir(extra = ''): { dataDir: string; config: string } {
  const dir = tempDir('precedent-archive-cli-');
  const dataDir = join(dir, 'var');
  const config = join(dir, 'precedent.yaml');
  writeFileSync(config, `storage:\n  dataDir: ${dataDir}\n  minFreeBytes: 0\ninference:\n  device: cpu\nlog:\n  level: warn\n${extra}`);
  return { dataDir, config };
}

/** labels.csv restricted to the rows `keep` selects (0-based data rows), written beside nothing: image_path stays relative to the shared folder. */
export function labelsSubset(keep: (index: number, row: string) => boolean): { csv: string; rows: string[] } {
  const [header, ...rows] = readFileSync(cxrLabelsPath(), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const kept = rows.filter((r, i) => keep(i, r));
  const csv = join(tempDir('precedent-labels-'), 'labels.csv');
  writeFileSync(csv, `${[header, ...kept].join('\n')}\n`);
  return { csv, rows: kept };
}

export function json<T>(r: CliResult): T {
  if (r.code !== 0) throw new Error(`precedent exited ${r.code ?? r.signal}: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as T;
}
