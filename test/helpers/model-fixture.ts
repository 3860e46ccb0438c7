// The test model: built by test/helpers/make_test_model.py (onnx + numpy, no torch) once per content
// hash of the script and its arguments, into the OS temp folder. A missing python3 or onnx module is
// an error, never a skip: the embed tests must not pass without having run a model.
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelCard } from '../../src/shared/analysis.js';

const SCRIPT = fileURLToPath(new URL('./make_test_model.py', import.meta.url));
// Debian's python3-onnx lives in the system interpreter; a pyenv/venv python3 on PATH may lack it.
const PYTHON = process.env.PRECEDENT_PYTHON ?? '/usr/bin/python3';

export interface TestModelOptions {
  channels?: 1 | 3;
  attention?: boolean;
  resize?: 'stretch' | 'letterbox';
}

/** Folder with model.onnx + model.json for the options; built on first use, then cached. */
export function testModelDir(options: TestModelOptions = {}): string {
  const args = ['--channels', String(options.channels ?? 1), '--resize', options.resize ?? 'stretch'];
  if (options.attention === false) args.push('--no-attention');
  const hash = createHash('sha256').update(readFileSync(SCRIPT)).update(JSON.stringify(args)).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `precedent-test-model-${hash}`);
  if (existsSync(join(dir, 'model.onnx')) && existsSync(join(dir, 'model.json'))) return dir;

  // Build beside the final folder and rename: test files running in parallel never see half a model.
  const staging = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const run = spawnSync(PYTHON, [SCRIPT, staging, ...args], { encoding: 'utf8', timeout: 120_000 });
  if (run.error || run.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(
      `cannot build the test ONNX model with ${PYTHON} (set PRECEDENT_PYTHON to another interpreter; ` +
        `on Debian: apt-get install python3-onnx python3-numpy): ${run.error?.message ?? run.stderr}`,
    );
  }
  try {
    renameSync(staging, dir);
  } catch {
    // Another test file built the same model first: its copy is identical (the script is deterministic).
    rmSync(staging, { recursive: true, force: true });
  }
  return dir;
}

export function readCard(dir: string): ModelCard {
  return JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as ModelCard;
}

/** A fresh folder with the same model.onnx and a card changed by `edit` (which may return any JSON). */
export function editedModel(dir: string, edit: (card: ModelCard) => unknown): string {
  const root = join(tmpdir(), 'precedent-test-models');
  mkdirSync(root, { recursive: true });
  const out = mkdtempSync(join(root, 'card-'));
  copyFileSync(join(dir, 'model.onnx'), join(out, 'model.onnx'));
  const card = readCard(dir);
  const edited = edit(card) ?? card;
  writeFileSync(join(out, 'model.json'), typeof edited === 'string' ? edited : JSON.stringify(edited, null, 2));
  return out;
}
