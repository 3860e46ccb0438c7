// npm links a package's bin only into its dependants' node_modules/.bin, not its own. Operators and the
// acceptance scripts call `node_modules/.bin/precedent` from a checkout, so link it here after install.
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binDir = join(root, 'node_modules', '.bin');
mkdirSync(binDir, { recursive: true });
const link = join(binDir, 'precedent');
rmSync(link, { force: true });
symlinkSync('../../bin/precedent.js', link);
