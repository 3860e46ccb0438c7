// Regenerates the key reference in docs/configuration.md from the zod schema (between the markers).
//   npm run docs:config            write it
//   npm run docs:config -- --check exit 1 if the committed file is out of date
// Needs dist/ (npm run build) and the TypeScript sources in src/config (for the key comments).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { renderConfigReference, spliceReference } = await import(new URL('../dist/config/reference.js', import.meta.url).href);
const file = `${root}docs/configuration.md`;
const current = readFileSync(file, 'utf8');
const next = spliceReference(current, renderConfigReference());
if (process.argv.includes('--check')) {
  if (next !== current) {
    process.stderr.write('docs/configuration.md is out of date: run `npm run docs:config`\n');
    process.exit(1);
  }
  process.stdout.write('docs/configuration.md is up to date\n');
} else if (next !== current) {
  writeFileSync(file, next);
  process.stdout.write('docs/configuration.md: configuration keys regenerated\n');
} else {
  process.stdout.write('docs/configuration.md: already up to date\n');
}
