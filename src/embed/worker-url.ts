// Where the worker thread's script is. Compiled (dist/embed/*.js) it is simply the sibling worker.js.
// Under vitest this module runs from src/embed/*.ts, but a worker thread is started by plain Node,
// which (v20) cannot load TypeScript, and vitest does not transform worker threads; tsx is not a
// dependency, and tsc copies no hand-written .js. The test command runs `npm run build` first, so
// from source we start the compiled twin in dist/ and refuse a stale one: tests would otherwise
// exercise yesterday's worker without saying so.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** Source folders whose compiled output the worker loads (its own modules and shared/). */
const WORKER_SOURCES = ['embed', 'shared'];

function newestSource(srcDir: string, distDir: string): { stale?: string } {
  for (const folder of WORKER_SOURCES) {
    for (const name of readdirSync(join(srcDir, folder))) {
      if (!name.endsWith('.ts') || name.endsWith('.d.ts')) continue;
      const source = join(srcDir, folder, name);
      const compiled = join(distDir, folder, name.replace(/\.ts$/, '.js'));
      if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(source).mtimeMs) return { stale: `${folder}/${name}` };
    }
  }
  return {};
}

export function workerScriptUrl(self: string = import.meta.url): URL {
  if (!self.endsWith('.ts')) return new URL('./worker.js', self);
  const srcDir = fileURLToPath(new URL('../', self));
  const distDir = fileURLToPath(new URL('../../dist/', self));
  const { stale } = newestSource(srcDir, distDir);
  if (stale !== undefined) {
    throw new Error(`dist/ is missing or older than src/${stale}: run \`npm run build\` (the embedding worker thread runs the compiled JavaScript)`);
  }
  return new URL('../../dist/embed/worker.js', self);
}
