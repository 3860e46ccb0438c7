// Where a capability's worker thread script is: <folder>/<folder>-thread.js by convention (decode/
// decode-thread.js, embed/embed-thread.js ...). Compiled (dist/<folder>/*.js) it is simply the sibling. Under vitest the caller runs from src/<folder>/*.ts, but a worker thread is
// started by plain Node, which (v20) cannot load TypeScript, and vitest does not transform worker
// threads; tsx is not a dependency, and tsc copies no hand-written .js. The test command runs
// `npm run build` first, so from source we start the compiled twin in dist/ and refuse a stale one:
// tests would otherwise exercise yesterday's worker without saying so.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

function staleSource(srcDir: string, distDir: string, folders: readonly string[]): string | undefined {
  for (const folder of folders) {
    for (const name of readdirSync(join(srcDir, folder))) {
      if (!name.endsWith('.ts') || name.endsWith('.d.ts')) continue;
      const compiled = join(distDir, folder, name.replace(/\.ts$/, '.js'));
      if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(join(srcDir, folder, name)).mtimeMs) return `${folder}/${name}`;
    }
  }
  return undefined;
}

/**
 * The <folder>-thread.js beside `self` (the caller's import.meta.url, a module of src/<folder>/ or
 * dist/<folder>/). From source, the compiled one, checked against <folder>/ and shared/.
 */
export function workerScriptUrl(self: string, folder: string): URL {
  const script = `${folder}-thread.js`;
  if (!self.endsWith('.ts')) return new URL(`./${script}`, self);
  const srcDir = fileURLToPath(new URL('../', self));
  const distDir = fileURLToPath(new URL('../../dist/', self));
  const stale = staleSource(srcDir, distDir, [folder, 'shared']);
  if (stale !== undefined) {
    throw new Error(`dist/ is missing or older than src/${stale}: run \`npm run build\` (the ${folder} worker thread runs the compiled JavaScript)`);
  }
  return new URL(`../../dist/${folder}/${script}`, self);
}
