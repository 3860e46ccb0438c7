// Real `precedent` processes and free ports for tests that need them.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface PrecedentProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves when the process logged `readyText`; rejects if it exits first. */
  ready: Promise<void>;
}

/** Runs the built CLI (`bin/precedent.js <command> --config FILE`) as an operator would. */
export function startPrecedent(command: 'serve' | 'worker', config: string, readyText: string): PrecedentProcess {
  let out = '';
  // PRECEDENT_SHARED_DIR locates test data (the bench sets it); the CLI would reject it as an unknown config key.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'PRECEDENT_SHARED_DIR'));
  const child = spawn(process.execPath, ['bin/precedent.js', command, '--config', config], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(readyText)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`precedent ${command} exited (${code}): ${out.slice(-500)}`)));
  });
  return { child, output: () => out, ready };
}
