// `precedent serve` (the built dist/, as an operator runs it) in a child process: for inputs that may
// exhaust memory (an out-of-memory abort here would take the test worker down with it), for peak RSS
// measured from outside (/proc/PID/status VmHWM), and for kill -9.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './node.js';
import { within } from './wait.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ServeChild {
  port: number;
  /** The DICOMweb port when the YAML enables it. */
  dicomwebPort: number | undefined;
  dataDir: string;
  child: ChildProcess;
  output: () => string;
  /** Peak resident set size of the process so far, in bytes (VmHWM). */
  peakRss: () => number;
  stop: () => Promise<void>;
}

/** `extraYaml` is appended to the config (top-level keys other than dimse, storage, log, ops, model). */
export async function startServeChild(opts: { extraYaml?: string; storageYaml?: string; dataDir?: string; heapMb?: number } = {}): Promise<ServeChild> {
  const dataDir = opts.dataDir ?? tempDir();
  const config = join(dataDir, 'precedent.yaml');
  writeFileSync(
    config,
    `dimse:\n  port: 0\n  host: 127.0.0.1\nstorage:\n  dataDir: ${dataDir}\n  minFreeBytes: 0\n${opts.storageYaml ?? ''}log:\n  level: debug\nops:\n  port: 0\nmodel:\n  dir: ${join(dataDir, 'no-model')}\n${opts.extraYaml ?? ''}`,
  );
  const child = spawn(process.execPath, [`--max-old-space-size=${opts.heapMb ?? 256}`, join(REPO_ROOT, 'bin/precedent.js'), 'serve', '--config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const started = await new Promise<{ port: number; dicomwebPort: number | undefined }>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.includes('"msg":"Precedent node started"'));
      if (!line) return;
      const web = out.split('\n').find((l) => l.includes('"msg":"DICOMweb listening"'));
      resolve({ port: (JSON.parse(line) as { dimsePort: number }).dimsePort, dicomwebPort: web ? (JSON.parse(web) as { port: number }).port : undefined });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`precedent serve exited (${code ?? signal}): ${out.slice(-1000)}`)));
  });
  return {
    ...started,
    dataDir,
    child,
    output: () => out,
    peakRss: () => {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return Number(m?.[1] ?? NaN) * 1024;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await within(exited, 5000, 'precedent serve exit').catch(() => child.kill('SIGKILL'));
    },
  };
}

/** The last lines a dying child wrote, without V8's native stack frames. */
export const outputTail = (out: string): string =>
  out
    .split('\n')
    .filter((l) => !/^\s*\d+: 0x/.test(l))
    .slice(-12)
    .join('\n');
