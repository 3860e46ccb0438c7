// Separate hosts (issue 17): the node and two remote workers in their own Linux network namespaces,
// joined by a bridge, with separate working folders and no shared files. The node's data directory is
// root's, mode 0700; the workers run as `nobody` and cannot read it. A study sent with dcmtk's dcmsend
// flows to its result SR; the worker that claimed it is killed mid-job and the other one finishes it.
// Then a burst of studies while a worker and Redis are killed: every study completes, each image with
// the embedding an in-process node computes for it (the check issue 17 names).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { buildFixtures, type Fixture, type FixtureSpec } from './fixtures/build.js';
import { startTestNode, tempDir } from './helpers/node.js';
import { testModelDir } from './helpers/model-fixture.js';
import { requireTool, run } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';
import { WORKER_TOKEN } from './helpers/remote.js';

const ID = `p17${process.pid % 10000}`;
const NET = `10.77.${process.pid % 200}`;
const BRIDGE = `${ID}br`;
const HOSTS = { node: { ns: `${ID}n`, ip: `${NET}.2` }, w1: { ns: `${ID}a`, ip: `${NET}.3` }, w2: { ns: `${ID}b`, ip: `${NET}.4` } } as const;
const NOBODY = 65534;
const DIMSE_PORT = 11112;
const API_PORT = 11113;
const REDIS_PORT = 6390;

interface Proc {
  child: ChildProcess;
  output: () => string;
  ready: Promise<void>;
}

const procs: ChildProcess[] = [];
let root = '';

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

/** A process inside a namespace (as `nobody` when asked), ready once it logged `readyText`. */
function startIn(ns: string, asNobody: boolean, args: string[], readyText: string): Proc {
  const user = asNobody ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'] : [];
  const child = spawn('ip', ['netns', 'exec', ns, ...user, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp' },
  });
  procs.push(child);
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      if (out.includes(readyText)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} in ${ns} exited (${code}): ${out.slice(-800)}`)));
  });
  ready.catch(() => undefined);
  return { child, output: () => out, ready };
}

function setUpNetwork(): void {
  sh('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  sh('ip', ['addr', 'add', `${NET}.1/24`, 'dev', BRIDGE]);
  sh('ip', ['link', 'set', BRIDGE, 'up']);
  for (const [name, host] of Object.entries(HOSTS)) {
    sh('ip', ['netns', 'add', host.ns]);
    const outside = `${ID}${name}`;
    sh('ip', ['link', 'add', outside, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.ns]);
    sh('ip', ['link', 'set', outside, 'master', BRIDGE, 'up']);
    sh('ip', ['-n', host.ns, 'addr', 'add', `${host.ip}/24`, 'dev', 'eth0']);
    sh('ip', ['-n', host.ns, 'link', 'set', 'eth0', 'up']);
    sh('ip', ['-n', host.ns, 'link', 'set', 'lo', 'up']);
  }
}

function tearDownNetwork(): void {
  for (const host of Object.values(HOSTS)) spawnSync('ip', ['netns', 'del', host.ns]);
  spawnSync('ip', ['link', 'del', BRIDGE]);
}

function studyState(nodeData: string, uid: string): string | undefined {
  if (!existsSync(join(nodeData, 'catalog.sqlite'))) return undefined;
  const db = new Database(join(nodeData, 'catalog.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT state FROM studies WHERE study_instance_uid = ?').get(uid) as { state: string } | undefined)?.state;
  } finally {
    db.close();
  }
}

const isRoot = process.getuid?.() === 0;

describe('node and remote workers on separate hosts (network namespaces)', () => {
  beforeAll(() => {
    if (!isRoot) throw new Error('this test needs root: it creates network namespaces (ip netns) and runs workers as nobody');
    for (const tool of ['ip', 'setpriv', 'redis-server', 'dcmsend']) requireTool(tool);
    if (!existsSync('dist/cli.js')) throw new Error('run `npm run build` first: the node and workers run the built CLI');
    tearDownNetwork();
    setUpNetwork();
  });
  afterAll(async () => {
    for (const c of procs) if (c.exitCode === null) c.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    tearDownNetwork();
  });

  it('a study flows from dcmsend to its result SR; the worker killed mid-job is replaced by the other; a burst survives a worker and Redis killed, with the embeddings of an in-process run', async () => {
    root = tempDir('precedent-netns-');
    chmodSync(root, 0o755);
    // The model: a copy every user may read (the workers' only input besides the images).
    const model = join(root, 'model');
    mkdirSync(model, { mode: 0o755 });
    for (const f of ['model.onnx', 'model.json']) copyFileSync(join(testModelDir(), f), join(model, f));
    for (const f of readdirSync(model)) chmodSync(join(model, f), 0o644);
    // The node's data directory: root's alone.
    const nodeData = join(root, 'node-data');
    mkdirSync(nodeData, { mode: 0o700 });
    const redisDir = join(root, 'redis');
    mkdirSync(redisDir);
    const startRedis = (): Proc =>
      startIn(
        HOSTS.node.ns,
        false,
        [
          'redis-server',
          '--bind',
          HOSTS.node.ip,
          '--port',
          String(REDIS_PORT),
          '--dir',
          redisDir,
          '--appendonly',
          'yes',
          '--save',
          '',
          '--maxmemory-policy',
          'noeviction',
          '--protected-mode',
          'no',
        ],
        'Ready to accept connections',
      );
    let redis = startRedis();
    await redis.ready;
    const redisUrl = `redis://${HOSTS.node.ip}:${REDIS_PORT}`;
    const queue = { redisUrl, prefix: ID, lockSeconds: 3, backoffSeconds: 0.2, attempts: 10 };
    const inference = { device: 'cpu' as const, batchSize: 1 };
    const nodeConfig = join(root, 'node.json');
    writeFileSync(
      nodeConfig,
      JSON.stringify({
        dimse: { host: HOSTS.node.ip, port: DIMSE_PORT },
        storage: { dataDir: nodeData, minFreeBytes: 0 },
        studies: { completeAfterSeconds: 0.5, checkIntervalSeconds: 0.2 },
        queue,
        workers: { inProcess: false, token: WORKER_TOKEN, apiHost: HOSTS.node.ip, apiPort: API_PORT },
        model: { dir: model },
        inference,
        archive: { reference: false },
        ops: { port: 0 },
      }),
    );
    const node = startIn(HOSTS.node.ns, false, [process.execPath, 'bin/precedent.js', 'serve', '--config', nodeConfig], 'Precedent node started');
    await node.ready;

    const workerProc = (name: 'w1' | 'w2'): Proc => {
      const dir = join(root, name);
      mkdirSync(dir, { mode: 0o700, recursive: true });
      chownSync(dir, NOBODY, NOBODY);
      const config = join(root, `${name}.json`);
      writeFileSync(
        config,
        JSON.stringify({
          queue,
          model: { dir: model },
          inference,
          worker: { nodeUrl: `http://${HOSTS.node.ip}:${API_PORT}`, token: WORKER_TOKEN, scratchDir: dir, fetchAttempts: 3, fetchBackoffSeconds: 0.2 },
        }),
      );
      chmodSync(config, 0o644);
      return startIn(HOSTS[name].ns, true, [process.execPath, 'bin/precedent.js', 'worker', '--config', config], 'Precedent worker started');
    };
    let w1 = workerProc('w1');
    let w2 = workerProc('w2');
    await Promise.all([w1.ready, w2.ready]);

    // Separate hosts indeed: a worker's user cannot read the node's data directory.
    const peek = spawnSync('ip', ['netns', 'exec', HOSTS.w1.ns, 'setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'ls', nodeData], {
      encoding: 'utf8',
    });
    expect(peek.status).not.toBe(0);
    expect(peek.stderr).toMatch(/Permission denied/);

    const uid = `2.25.${Date.now()}77`;
    const files: Fixture[] = await buildFixtures(
      Array.from({ length: 16 }, (_, i) => ({ variant: 'dx12', syntax: i % 2 ? 'jpegls' : 'ele', imageIndex: 900 + i, studyInstanceUID: uid }) as FixtureSpec),
      tempDir('precedent-netns-study-'),
    );
    const sent = await run('dcmsend', ['-aet', 'NETNS', '-aec', 'PRECEDENT', '-nh', HOSTS.node.ip, String(DIMSE_PORT), ...files.map((f) => f.path)], {
      env: { ...process.env, TCP_NODELAY: '1' },
      timeoutMs: 60_000,
    });
    expect(sent.code).toBe(0);

    // Whichever worker claims the round is killed while it fetches and embeds; the other takes over.
    const claimed = (w: Proc): boolean => w.output().includes('study round claimed');
    await waitFor(() => claimed(w1) || claimed(w2), 60_000);
    const [victim, survivor] = claimed(w1) ? [w1, w2] : [w2, w1];
    expect(victim.output()).not.toContain('result handed to the node');
    victim.child.kill('SIGKILL');
    await waitFor(() => studyState(nodeData, uid) === 'done', 120_000);
    // The survivor claimed the same round after the victim's lock expired, and finished it.
    expect(survivor.output()).toContain('study round claimed');
    expect(survivor.output()).toContain('result handed to the node');
    expect(survivor.output()).toContain(uid);

    const results = readdirSync(join(nodeData, 'results', uid)).filter((f) => f.endsWith('.dcm'));
    expect(results.length).toBeGreaterThanOrEqual(files.length);
    // One Comprehensive 3D SR per image among them (dcmdump names the SOP Class).
    const classes = await Promise.all(results.map(async (f) => (await run('dcmdump', ['+P', '0008,0016', join(nodeData, 'results', uid, f)])).stdout));
    expect(classes.filter((c) => c.includes('Comprehensive3DSRStorage'))).toHaveLength(files.length);
    // The workers kept nothing: their scratch folders are empty of images.
    for (const name of ['w1', 'w2']) {
      const left = readdirSync(join(root, name), { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.dcm'));
      if (name === (victim === w1 ? 'w1' : 'w2')) continue; // a killed worker cannot clean up
      expect(left).toEqual([]);
    }

    // A burst of studies while a worker and then Redis are killed (SIGKILL) and started again.
    if (victim === w1) w1 = workerProc('w1');
    else w2 = workerProc('w2');
    await Promise.all([w1.ready, w2.ready]);
    const burst = await Promise.all(
      [0, 1, 2, 3].map((s) =>
        buildFixtures(
          [0, 1].map(
            (i) =>
              ({
                variant: 'dx12',
                syntax: i ? 'jpegls' : 'ele',
                imageIndex: 700 + s * 2 + i,
                patientID: `P${s}`,
                studyInstanceUID: `${uid}.${s + 1}`,
              }) as FixtureSpec,
          ),
          tempDir('precedent-netns-burst-'),
        ),
      ),
    );
    const burstFiles = burst.flat();
    const burstUids = burst.map((study) => study[0]?.studyInstanceUID ?? '');
    const claims = (): number => (w1.output() + w2.output()).split('study round claimed').length - 1;
    const claimsBefore = claims();
    const sentBurst = await run('dcmsend', ['-aet', 'NETNS', '-aec', 'PRECEDENT', '-nh', HOSTS.node.ip, String(DIMSE_PORT), ...burstFiles.map((f) => f.path)], {
      env: { ...process.env, TCP_NODELAY: '1' },
      timeoutMs: 60_000,
    });
    expect(sentBurst.code).toBe(0);
    // A worker dies, then Redis, as soon as the burst is being worked on: studies are held and queued.
    await waitFor(() => claims() > claimsBefore, 120_000);
    expect(burstUids.filter((u) => studyState(nodeData, u) === 'done').length).toBeLessThan(burstUids.length);
    w1.child.kill('SIGKILL');
    redis.child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1000));
    redis = startRedis();
    await redis.ready;
    w1 = workerProc('w1');
    await waitFor(() => burstUids.every((u) => studyState(nodeData, u) === 'done'), 180_000);

    // The same studies analysed in-process on this host: the embeddings are the same, image by image.
    const inProcess = await startTestNode({ model: { dir: model }, inference, archive: { reference: false }, studies: { completeAfterSeconds: 0.5 } });
    try {
      const local = await run('dcmsend', ['-aet', 'LOCAL', '-aec', 'PRECEDENT', '127.0.0.1', String(inProcess.port), ...burstFiles.map((f) => f.path)]);
      expect(local.code).toBe(0);
      await waitFor(() => burstUids.every((u) => inProcess.node.catalog.study(u)?.state === 'done'), 120_000);
      const remote = new Database(join(nodeData, 'catalog.sqlite'), { readonly: true, fileMustExist: true });
      try {
        for (const u of burstUids) {
          const mine = inProcess.node.catalog.embeddings(u);
          expect(mine).toHaveLength(2);
          for (const e of mine) {
            const row = remote
              .prepare('SELECT vector FROM embeddings WHERE sop_instance_uid = ? AND model_version = ?')
              .get(e.SOPInstanceUID, e.modelVersion) as { vector: Buffer } | undefined;
            expect(row).toBeDefined();
            const theirs = new Float32Array(
              row?.vector.buffer.slice(row.vector.byteOffset, row.vector.byteOffset + row.vector.byteLength) ?? new ArrayBuffer(0),
            );
            expect(theirs).toHaveLength(e.vector.length);
            const largest = Math.max(...Array.from(e.vector, (v, i) => Math.abs(v - (theirs[i] ?? NaN))));
            expect(largest).toBeLessThan(1e-5);
          }
        }
        // Every study of the burst got its results once: one SR per image.
        for (const u of burstUids) {
          const files = readdirSync(join(nodeData, 'results', u)).filter((f) => f.endsWith('.dcm'));
          const kinds = await Promise.all(files.map(async (f) => (await run('dcmdump', ['+P', '0008,0016', join(nodeData, 'results', u, f)])).stdout));
          expect(kinds.filter((c) => c.includes('Comprehensive3DSRStorage'))).toHaveLength(2);
        }
      } finally {
        remote.close();
      }
    } finally {
      await inProcess.stop();
    }
  }, 600_000);
});
