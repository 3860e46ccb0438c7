// Real peers: dcmtk and friends. A missing tool is an error (never a skip), so CI cannot pass
// without having exercised them.
import { execFile, spawnSync } from 'node:child_process';

export function requireTool(name: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  if (found.status !== 0) throw new Error(`${name} is not installed: run the README's test command (it installs dcmtk, dicom3tools, ...)`);
  return found.stdout.trim();
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool with TCP_NODELAY=1 (Debian's dcmtk otherwise waits ~50 ms per message for Nagle). */
export function run(cmd: string, args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  requireTool(cmd);
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { env: { ...process.env, TCP_NODELAY: '1', ...options.env }, timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** Values of one tag in a file, via dcmdump (an independent reader of what we wrote). */
export async function dcmdumpValue(file: string, tag: string): Promise<string> {
  const r = await run('dcmdump', ['-q', '+P', tag, file]);
  const m = /\[(.*)\]/.exec(r.stdout);
  return m?.[1] ?? '';
}
