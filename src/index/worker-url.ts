// Where the index worker thread's script is: the sibling worker.js when compiled. Under vitest this
// module runs from src/index/*.ts, but a worker thread is started by plain Node, which (v20) cannot load
// TypeScript: from source we start the compiled twin in dist/ (the test command builds first) and
// refuse a stale one, as embed/worker-url.ts does.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const WORKER_SOURCES = ['index', 'shared'];

function stale(srcDir: string, distDir: string): string | undefined {
  for (const folder of WORKER_SOURCES) {
    for (const name of readdirSync(join(srcDir, folder))) {
      if (!name.endsWith('.ts') || name.endsWith('.d.ts')) continue;
      const compiled = join(distDir, folder, name.replace(/\.ts$/, '.js'));
      if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(join(srcDir, folder, name)).mtimeMs) return `${folder}/${name}`;
    }
  }
  return undefined;
}

export function indexWorkerUrl(self: string = import.meta.url): URL {
  if (!self.endsWith('.ts')) return new URL('./worker.js', self);
  const srcDir = fileURLToPath(new URL('../', self));
  const distDir = fileURLToPath(new URL('../../dist/', self));
  const old = stale(srcDir, distDir);
  if (old !== undefined) throw new Error(`dist/ is missing or older than src/${old}: run \`npm run build\` (the index worker thread runs the compiled JavaScript)`);
  return new URL('../../dist/index/worker.js', self);
}
