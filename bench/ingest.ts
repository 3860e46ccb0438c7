// npm run bench, ingest section: C-STORE throughput of the node (`precedent serve`, analysis held
// off), a real Orthanc (fsync per file) and dcmtk storescp (no fsync), side by side in the same run,
// with 1 and 4 associations from dcmsend. Every run sends fresh UIDs (a copy of one fixture set with
// the UIDs' last digits replaced, lengths kept), so no receiver sees a duplicate. Runs are
// interleaved (node, Orthanc, storescp for each association count, the order rotated each round) so
// that load on the machine hits all three alike, and repeated: on a shared VM one run of the same
// receiver varies by ±20 %, so the table gives medians of BENCH_INGEST_ROUNDS rounds and the median
// of each round's ratio, with their range; the load average is printed with the table.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomInt } from 'node:crypto';
import { buildFixtures, type FixtureSpec, type PixelVariant } from '../test/fixtures/build.js';
import { readSharedLabels } from '../test/fixtures/shared.js';
import { tempDir } from '../test/helpers/node.js';
import { startOrthanc } from '../test/helpers/orthanc.js';
import { freePort } from '../test/helpers/process.js';
import { run } from '../test/helpers/tools.js';
import { median, printTable } from './table.js';

const IMAGES = Number(process.env.BENCH_INGEST_IMAGES ?? 200);
const ASSOCIATIONS = (process.env.BENCH_INGEST_ASSOCIATIONS ?? '1,4').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_INGEST_ROUNDS ?? 5);
const VARIANTS: PixelVariant[] = ['dx12', 'cr12m1', 'dx8', 'dx16'];

interface Receiver {
  name: string;
  aeTitle: string;
  port: number;
  /** Its process, whose CPU time (all threads, user + system) is read around each run. */
  pid: number | undefined;
  stop(): Promise<void>;
}

export async function benchIngest(): Promise<void> {
  const available = readSharedLabels().length;
  // A mix of pixel formats and sizes (256-1024 px, uncompressed), like a PACS routing a morning's CXRs.
  const specs = Array.from({ length: IMAGES }, (_, i): FixtureSpec => ({
    variant: VARIANTS[i % VARIANTS.length] ?? 'dx12',
    syntax: 'ele',
    imageIndex: (i * 37) % available,
    maxSize: [256, 512, 1024][i % 3],
  }));
  const fixtureDir = tempDir('precedent-bench-ingest-fix-');
  const base = await buildFixtures(specs, fixtureDir);
  const files = base.map((f) => ({ bytes: readFileSync(f.path), uids: [f.studyInstanceUID, f.seriesInstanceUID, f.sopInstanceUID] }));
  rmSync(fixtureDir, { recursive: true, force: true });
  const megabytes = files.reduce((s, f) => s + f.bytes.length, 0) / 1e6;
  const receivers = [await startNode(), await startOrthancReceiver(), await startStorescp()];
  const rates = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  const loads: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const associations of ASSOCIATIONS) {
        for (let i = 0; i < receivers.length; i++) {
          const receiver = receivers[(i + round) % receivers.length] as Receiver;
          const dir = freshCopy(files);
          // The copy's 54 MB of dirty pages would otherwise be written back during the run, in the
          // way of the receivers' own fsyncs.
          execFileSync('sync');
          loads.push(loadavg()[0] ?? 0);
          const key = `${receiver.name}/${associations}`;
          const cpu0 = cpuMs(receiver.pid);
          rates.set(key, [...(rates.get(key) ?? []), await send(receiver, dir, associations)]);
          cpu.set(key, [...(cpu.get(key) ?? []), (cpuMs(receiver.pid) - cpu0) / IMAGES]);
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    for (const r of receivers) await r.stop();
  }
  console.log(
    `\n## Ingest — ${IMAGES} CXR objects (${megabytes.toFixed(1)} MB, fresh UIDs per run) with dcmsend, ${ROUNDS} interleaved rounds; load average during the runs ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}\n`,
  );
  const of = (name: string, a: number): number[] => rates.get(`${name}/${a}`) ?? [];
  /** Median of the per-round ratios (both receivers measured in the same round), with their range. */
  const ratio = (name: string, base: string, a: number): string => {
    const r = of(name, a).map((v, i) => v / (of(base, a)[i] ?? NaN));
    return `${median(r).toFixed(2)} (${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)})`;
  };
  const rate = (name: string, a: number): string =>
    `${median(of(name, a)).toFixed(0)} (${Math.min(...of(name, a)).toFixed(0)}–${Math.max(...of(name, a)).toFixed(0)})`;
  const cpuPer = (name: string, a: number): string => median(cpu.get(`${name}/${a}`) ?? []).toFixed(1);
  printTable(
    [
      'associations',
      'Precedent (img/s)',
      'Orthanc (img/s)',
      'storescp, no fsync (img/s)',
      'Precedent / Orthanc',
      'Precedent / storescp',
      'CPU ms per object: Precedent / Orthanc / storescp',
    ],
    ASSOCIATIONS.map((a) => [
      String(a),
      rate('precedent', a),
      rate('orthanc', a),
      rate('storescp', a),
      ratio('precedent', 'orthanc', a),
      ratio('precedent', 'storescp', a),
      `${cpuPer('precedent', a)} / ${cpuPer('orthanc', a)} / ${cpuPer('storescp', a)}`,
    ]),
  );
  console.log(
    '\nMedians of the rounds, range in brackets; a ratio is taken within each round, then its median. CPU: the receiving process, all threads, user + system.',
  );
}

/** CPU time (user + system, all threads) a process has used so far, from /proc; NaN when unknown. */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  // Fields 14 and 15 of /proc/<pid>/stat, after the parenthesised command name, in clock ticks (100 Hz on Linux).
  const fields = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The same objects under new UIDs of the same length (only the last digits change). */
function freshCopy(files: ReadonlyArray<{ bytes: Buffer; uids: string[] }>): string {
  const dir = tempDir('precedent-bench-ingest-run-');
  files.forEach((f, i) => {
    const bytes = Buffer.from(f.bytes);
    for (const uid of f.uids) {
      const fresh = uid.slice(0, -6) + String(randomInt(100000, 999999));
      const from = Buffer.from(uid, 'latin1');
      for (let at = bytes.indexOf(from); at >= 0; at = bytes.indexOf(from, at + from.length)) bytes.write(fresh, at, 'latin1');
    }
    writeFileSync(join(dir, `${i}.dcm`), bytes);
  });
  return dir;
}

/** Wall time for `associations` dcmsend processes to send the folder's files between them. */
async function send(receiver: Receiver, dir: string, associations: number): Promise<number> {
  const names = readdirSync(dir).map((n) => join(dir, n));
  const groups = Array.from({ length: associations }, (_, g) => names.filter((_, i) => i % associations === g));
  const t0 = performance.now();
  const results = await Promise.all(
    groups.map((g) => run('dcmsend', ['-aet', 'BENCHSCU', '-aec', receiver.aeTitle, '127.0.0.1', String(receiver.port), ...g], { timeoutMs: 600_000 })),
  );
  const seconds = (performance.now() - t0) / 1000;
  const failed = results.find((r) => r.code !== 0);
  if (failed) throw new Error(`dcmsend to ${receiver.name} failed: ${failed.stderr.slice(-300)}`);
  return names.length / seconds;
}

async function waitForPort(port: number, child: ChildProcess, what: string): Promise<void> {
  const end = Date.now() + 60_000;
  while ((await run('echoscu', ['-aec', what, '127.0.0.1', String(port)])).code !== 0) {
    if (child.exitCode !== null || Date.now() > end) throw new Error(`${what} did not start`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const stopChild = (child: ChildProcess) => async (): Promise<void> => {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
};

/** `precedent serve` as deployed: its own process, the default model, analysis held off for the burst. */
async function startNode(): Promise<Receiver> {
  const dataDir = tempDir('precedent-bench-ingest-node-');
  const port = await freePort();
  const config = join(dataDir, 'precedent.json');
  writeFileSync(
    config,
    JSON.stringify({
      dimse: { port, host: '127.0.0.1' },
      storage: { dataDir, minFreeBytes: 0 },
      studies: { completeAfterSeconds: 3600, maxWaitSeconds: 7200 },
      log: { level: 'warn' },
      ops: { enabled: false },
      archive: { reference: false },
    }),
  );
  const child = spawn('node', ['bin/precedent.js', 'serve', '--config', config], { stdio: 'ignore', env: { ...process.env, PRECEDENT_SHARED_DIR: undefined } });
  await waitForPort(port, child, 'PRECEDENT');
  return { name: 'precedent', aeTitle: 'PRECEDENT', port, pid: child.pid, stop: stopChild(child) };
}

async function startOrthancReceiver(): Promise<Receiver> {
  const orthanc = await startOrthanc({ aeTitle: 'PRECEDENT', port: 1 }, { route: false });
  return { name: 'orthanc', aeTitle: orthanc.aeTitle, port: orthanc.dicomPort, pid: orthanc.pid, stop: () => orthanc.stop() };
}

async function startStorescp(): Promise<Receiver> {
  const dir = tempDir('precedent-bench-ingest-scp-');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const child = spawn('storescp', ['-aet', 'STORESCP', '+xa', '-od', dir, String(port)], { stdio: 'ignore', env: { ...process.env, TCP_NODELAY: '1' } });
  await waitForPort(port, child, 'STORESCP');
  return { name: 'storescp', aeTitle: 'STORESCP', port, pid: child.pid, stop: stopChild(child) };
}
