// npm run bench, results section: end-to-end latency from the last C-STORE of a one-image study to
// the SR arriving at a PACS (dcmtk storescp), with the study completion timeout reported separately.
// The archive is a slice of the shared radiographs imported with the default model.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildFixtures, type FixtureSpec } from '../test/fixtures/build.js';
import { cxrDir, readSharedLabels } from '../test/fixtures/shared.js';
import { startTestNode, tempDir, type TestNode } from '../test/helpers/node.js';
import { freePort } from '../test/helpers/process.js';
import { run } from '../test/helpers/tools.js';
import { median, printTable } from './table.js';

const STUDIES = Number(process.env.BENCH_E2E_STUDIES ?? 5);
const COMPLETE_AFTER = Number(process.env.BENCH_E2E_COMPLETE_AFTER ?? 1);

/** Query images spread over the shared set, wrapping around it (any BENCH_E2E_STUDIES works). */
export function queryImageIndexes(studies: number, available: number): number[] {
  return Array.from({ length: studies }, (_, i) => (3 + i * 97) % available);
}

export async function benchEndToEnd(): Promise<void> {
  const pacsDir = tempDir('precedent-bench-pacs-');
  const pacsPort = await freePort();
  const scp = spawn('storescp', ['-aet', 'BENCHPACS', '+xa', '-od', pacsDir, String(pacsPort)], { stdio: 'ignore', env: { ...process.env, TCP_NODELAY: '1' } });
  // The PACS stand-in goes with the bench, however the bench ends (an exception, Ctrl-C).
  const stopScp = (): void => void scp.kill('SIGTERM');
  process.once('exit', stopScp);
  try {
    await measure(pacsDir, pacsPort);
  } finally {
    stopScp();
    process.off('exit', stopScp);
  }
}

async function measure(pacsDir: string, pacsPort: number): Promise<void> {
  const modelDir = resolve('models/default');
  const dataDir = tempDir('precedent-bench-e2e-');
  const labels = readFileSync(join(cxrDir(), 'labels.csv'), 'utf8').trim().split('\n');
  const csv = join(dataDir, 'archive.csv');
  writeFileSync(csv, `${[labels[0], ...labels.slice(1).filter((_, i) => i % 5 === 0)].join('\n')}\n`);
  const overrides = {
    model: { dir: modelDir },
    inference: { device: 'cpu' as const },
    studies: { completeAfterSeconds: COMPLETE_AFTER, checkIntervalSeconds: 0.05 },
    export: { destinations: [{ name: 'pacs', aeTitle: 'BENCHPACS', host: '127.0.0.1', port: pacsPort, forCallingAETitles: [] }], checkIntervalSeconds: 0.1 },
  };
  const config = join(dataDir, 'precedent.json');
  writeFileSync(config, JSON.stringify({ ...overrides, storage: { dataDir, minFreeBytes: 0 }, ops: { enabled: false } }));
  // PRECEDENT_SHARED_DIR locates the test data for the bench itself; the CLI would reject it as an unknown config key.
  const imported = await run('node', ['bin/precedent.js', 'import', '--config', config, '--images', cxrDir(), '--labels', csv], {
    timeoutMs: 600_000,
    env: { PRECEDENT_SHARED_DIR: undefined },
  });
  if (imported.code !== 0) throw new Error(`import failed: ${imported.stderr.slice(-300)}`);
  const node = await startTestNode({ ...overrides, log: { level: 'warn' } }, { dataDir });
  try {
    const sent = await sendAll(node, pacsDir, labels.slice(1).filter((_, i) => i % 5 === 0).length);
    await printResultSizes(dataDir, sent);
  } finally {
    await node.stop();
  }
}

async function sendAll(node: TestNode, pacsDir: string, archive: number): Promise<number> {
  const queries = await buildFixtures(
    queryImageIndexes(STUDIES, readSharedLabels().length).map((imageIndex) => ({ variant: 'dx12', syntax: 'jpegls', imageIndex, maxSize: 512 }) as FixtureSpec),
    tempDir(),
  );
  const totals: number[] = [];
  const seen = new Set<string>();
  for (const q of queries) {
    const before = new Set(readdirSync(pacsDir));
    const t0 = performance.now();
    // dcmsend proposes the file's own transfer syntax (storescu only proposes uncompressed ones).
    await run('dcmsend', ['-aet', 'BENCHMOD', '-aec', 'PRECEDENT', '127.0.0.1', String(node.port), q.path]);
    const sent = performance.now();
    let srAt = 0;
    while (!srAt && performance.now() - sent < 120_000) {
      for (const f of readdirSync(pacsDir)) {
        if (before.has(f) || seen.has(f)) continue;
        seen.add(f);
        const modality = await run('dcmdump', ['-q', '+P', '0008,0060', join(pacsDir, f)]);
        if (modality.stdout.includes('[SR]')) srAt = performance.now();
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    if (srAt) totals.push(srAt - t0);
    else console.error(`no SR for study ${q.studyInstanceUID}; last node log lines:\n${node.logs.slice(-8).join('\n')}`);
  }
  console.log(
    `\n## Results end to end — ${STUDIES} one-image studies (512-px JPEG-LS DX) against ${archive} imported cases, default model, CPU; PACS = dcmtk storescp\n`,
  );
  printTable(
    ['studies with an SR', 'median last C-STORE → SR at PACS (s)', 'completion timeout (s)', 'median after completion (s)', 'max after completion (s)'],
    [
      [
        `${totals.length}/${STUDIES}`,
        (median(totals) / 1000).toFixed(2),
        COMPLETE_AFTER.toFixed(2),
        (median(totals) / 1000 - COMPLETE_AFTER).toFixed(2),
        (Math.max(...totals) / 1000 - COMPLETE_AFTER).toFixed(2),
      ],
    ],
  );
  return queries.reduce((sum, q) => sum + statSync(q.path).size, 0);
}

/**
 * What the results cost on disk per study: the files under results/ as written (Secondary Captures in
 * JPEG Baseline), next to what the same captures take uncompressed (Rows x Columns x 3 each).
 */
async function printResultSizes(dataDir: string, receivedBytes: number): Promise<void> {
  const root = join(dataDir, 'results');
  let written = 0;
  let uncompressed = 0;
  const studies = readdirSync(root);
  for (const study of studies) {
    for (const name of readdirSync(join(root, study))) {
      const file = join(root, study, name);
      const size = statSync(file).size;
      written += size;
      const dims = await run('dcmdump', ['-q', '+P', '0028,0010', '+P', '0028,0011', '+P', '0028,0002', file]);
      const values = [...dims.stdout.matchAll(/US (\d+)/g)].map((m) => Number(m[1]));
      // An SC: the same object with RGB pixel data in place of the JPEG frame; the SR as it is.
      uncompressed += values.length === 3 ? size + Math.max(0, values.reduce((a, b) => a * b, 1) - pixelBytes(file)) : size;
    }
  }
  const n = Math.max(1, studies.length);
  const mb = (bytes: number): string => (bytes / n / 1e6).toFixed(2);
  console.log(`\n## Result size per study — ${studies.length} studies (SR + heatmap SC + similar-cases SC)\n`);
  printTable(
    ['received per study (MB)', 'results written per study (MB)', 'same with uncompressed captures (MB)', 'results / received', 'saved by JPEG Baseline'],
    [
      [
        mb(receivedBytes),
        mb(written),
        mb(uncompressed),
        (written / Math.max(1, receivedBytes)).toFixed(1),
        `${(100 * (1 - written / Math.max(1, uncompressed))).toFixed(0)} %`,
      ],
    ],
  );
}

/** Bytes of the encapsulated Pixel Data element's value (its fragments), 0 when there is none. */
function pixelBytes(file: string): number {
  const bytes = readFileSync(file);
  // (7FE0,0010) OB with undefined length: the last top-level element of the file.
  const at = bytes.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42]));
  return at < 0 ? 0 : bytes.length - at - 12;
}
