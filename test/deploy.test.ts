// What cannot run here (Docker, Kubernetes, systemd as PID 1) is checked for syntax and consistency:
// every YAML/JSON file under deploy/ parses, compose and Kubernetes define what the operations guide
// describes, configuration they carry is accepted by the real config loader, Dockerfiles are
// well-formed, and systemd-analyze verifies the units.
import { describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Script } from 'node:vm';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../src/config/index.js';
import { requireTool, run } from './helpers/tools.js';

type Doc = Record<string, unknown> & { kind?: string; metadata?: { name?: string }; spec?: Record<string, unknown> };

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

const all = files('deploy');
const k8s = all
  .filter((f) => f.startsWith('deploy/k8s/') && /\.ya?ml$/.test(f) && !f.endsWith('kustomization.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(f, 'utf8')).map((d) => ({ file: f, doc: d.toJS() as Doc })));
const find = (kind: string, name: string): Doc | undefined => k8s.find((d) => d.doc.kind === kind && d.doc.metadata?.name === name)?.doc;
const at = (o: unknown, ...path: Array<string | number>): unknown =>
  path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], o);

describe('deploy/ files', () => {
  it('every YAML and JSON file parses without errors', () => {
    const parsed = all.filter((f) => /\.(ya?ml|json)$/.test(f));
    expect(parsed.length).toBeGreaterThanOrEqual(8);
    for (const f of parsed) {
      const text = readFileSync(f, 'utf8');
      if (f.endsWith('.json')) expect(() => JSON.parse(text) as unknown).not.toThrow();
      else for (const doc of parseAllDocuments(text)) expect({ file: f, errors: doc.errors.map((e) => e.message) }).toEqual({ file: f, errors: [] });
    }
  });

  it('docker-compose.yml: node, Redis with AOF and noeviction, scalable remote workers with the node URL and token, valid configuration', () => {
    const compose = parse(readFileSync('deploy/docker-compose.yml', 'utf8'), { merge: true }) as {
      services: Record<string, Record<string, unknown>>;
      volumes: Record<string, unknown>;
    };
    expect(Object.keys(compose.services).sort()).toEqual(['precedent', 'redis', 'worker', 'worker-gpu']);
    const redisCommand = (compose.services.redis?.command as string[]).join(' ');
    expect(redisCommand).toContain('--appendonly yes');
    expect(redisCommand).toContain('--maxmemory-policy noeviction');
    expect(at(compose.services.worker, 'deploy', 'replicas')).toBeGreaterThanOrEqual(1);
    expect(compose.services.worker?.command).toEqual(['worker']);
    expect(compose.services.precedent?.command).toEqual(['serve']);
    expect(at(compose.services['worker-gpu'], 'deploy', 'resources', 'reservations', 'devices', 0, 'capabilities')).toEqual(['gpu']);
    for (const name of ['precedent', 'worker', 'worker-gpu']) {
      const service = compose.services[name] as { volumes?: string[]; environment: Record<string, string> };
      // Only the node mounts the data volume; workers are stateless.
      expect(service.volumes ?? []).toEqual(name === 'precedent' ? ['precedent-data:/var/lib/precedent'] : []);
      // The PRECEDENT_* variables a service sets are accepted by the real loader.
      const env = Object.fromEntries(
        Object.entries(service.environment).map(([k, v]) => [
          k,
          String(v)
            .replace(/\$\{STOW_TOKEN[^}]*\}/, 'a-stow-token-of-32-characters-xx')
            .replace(/\$\{WORKER_TOKEN[^}]*\}/, 'a-worker-token-of-32-characters-x'),
        ]),
      );
      const config = loadConfig({ env });
      expect(config.storage.dataDir).toBe('/var/lib/precedent');
      expect(config.queue.redisUrl).toBe('redis://redis:6379');
      // Remote workers: the node's worker API and the token both sides present.
      expect(config.workers.token).toBe('a-worker-token-of-32-characters-x');
      expect(config.worker.token).toBe(config.workers.token);
      expect(config.worker.nodeUrl).toBe(`http://precedent:${config.workers.apiPort}`);
      expect(config.model.dir).toBe('/opt/precedent/models/default');
    }
    const node = loadConfig({
      env: Object.fromEntries(
        Object.entries((compose.services.precedent as { environment: Record<string, string> }).environment).map(([k, v]) => [
          k,
          String(v).replace(/\$\{STOW_TOKEN[^}]*\}/, 'a-stow-token-of-32-characters-xx'),
        ]),
      ),
    });
    expect(node.workers.inProcess).toBe(false);
    expect(node.dicomweb.auth).toEqual({ type: 'bearer', tokens: ['a-stow-token-of-32-characters-xx'] });
    expect(Object.keys(compose.volumes).sort()).toEqual(['precedent-data', 'redis-data']);
  });

  it('Kubernetes: node StatefulSet with its volume, stateless worker Deployment reaching its worker API, Redis StatefulSet, Services, ConfigMap', () => {
    const kinds = new Set(k8s.map((d) => d.doc.kind));
    for (const kind of ['Namespace', 'ConfigMap', 'Service', 'StatefulSet', 'Deployment', 'Secret']) expect(kinds).toContain(kind);
    for (const d of k8s) {
      expect(typeof d.doc.apiVersion).toBe('string');
      expect(d.doc.metadata?.name).toMatch(/^[a-z0-9-]+$/);
    }
    // The ConfigMap's file plus the Secret's environment, as the pods load them.
    const secret = find('Secret', 'precedent-dicomweb');
    const workerSecret = at(find('Secret', 'precedent-workers'), 'stringData') as Record<string, string>;
    const file = join(mkdtempSync(join(tmpdir(), 'precedent-k8s-')), 'precedent.yaml');
    writeFileSync(file, String(at(find('ConfigMap', 'precedent-config'), 'data', 'precedent.yaml')));
    const config = loadConfig({ file, env: { ...(at(secret, 'stringData') as Record<string, string>), ...workerSecret } });
    // Both sides of the worker API read one token; the workers reach it through its own Service.
    expect(config.workers.token).toBe(config.worker.token);
    expect(config.workers.token).toBeDefined();
    const workerApi = find('Service', 'precedent-workers');
    expect(config.worker.nodeUrl).toBe(`http://${workerApi?.metadata?.name ?? ''}:${config.workers.apiPort}`);
    expect(at(workerApi, 'spec', 'ports', 0, 'port')).toBe(config.workers.apiPort);
    // The model ships in the image (deploy/Dockerfile), not on the node's volume.
    expect(config.model.dir.startsWith(config.storage.dataDir)).toBe(false);
    expect(config.workers.inProcess).toBe(false);
    expect(config.dicomweb.auth?.type).toBe('bearer');
    // Without the Secret the node refuses to start: DICOMweb is enabled and needs explicit auth.
    expect(() => loadConfig({ file, env: {} })).toThrow(/dicomweb\.auth/);

    const node = find('StatefulSet', 'precedent');
    const claim = String(at(node, 'spec', 'volumeClaimTemplates', 0, 'metadata', 'name'));
    expect(at(node, 'spec', 'replicas')).toBe(1);
    const nodeContainer = at(node, 'spec', 'template', 'spec', 'containers', 0) as Record<string, unknown>;
    const ports = (nodeContainer.ports as Array<{ containerPort: number }>).map((p) => p.containerPort).sort();
    expect(ports).toEqual([config.dicomweb.port, config.ops.port, config.dimse.port, config.workers.apiPort].sort());
    expect(at(nodeContainer, 'readinessProbe', 'httpGet', 'path')).toBe('/readyz');
    expect(at(nodeContainer, 'livenessProbe', 'httpGet', 'path')).toBe('/healthz');

    const worker = find('Deployment', 'precedent-worker');
    expect(at(worker, 'spec', 'replicas')).toBeGreaterThanOrEqual(1);
    // Stateless: no claim on the node's volume, free to run on any Kubernetes node.
    const volumes = at(worker, 'spec', 'template', 'spec', 'volumes') as Array<{ persistentVolumeClaim?: { claimName: string } }>;
    expect(volumes.filter((v) => v.persistentVolumeClaim)).toEqual([]);
    expect(at(worker, 'spec', 'template', 'spec', 'affinity')).toBeUndefined();
    expect(at(node, 'spec', 'volumeClaimTemplates', 0, 'metadata', 'name')).toBe(claim);
    const workerEnv = (at(worker, 'spec', 'template', 'spec', 'containers', 0, 'envFrom') as Array<{ secretRef?: { name: string } }>).map(
      (e) => e.secretRef?.name,
    );
    expect(workerEnv).toContain('precedent-workers');
    expect(at(worker, 'spec', 'template', 'spec', 'containers', 0, 'ports', 0, 'containerPort')).toBe(config.ops.workerPort);

    const redis = find('StatefulSet', 'precedent-redis');
    const args = (at(redis, 'spec', 'template', 'spec', 'containers', 0, 'args') as string[]).join(' ');
    expect(args).toContain('--appendonly yes');
    expect(args).toContain('--maxmemory-policy noeviction');
    expect(config.queue.redisUrl).toBe(`redis://${find('Service', 'precedent-redis')?.metadata?.name ?? ''}:6379`);
    for (const service of ['precedent', 'precedent-ops', 'precedent-redis']) expect(find('Service', service)).toBeDefined();

    const kustomization = parse(readFileSync('deploy/k8s/kustomization.yaml', 'utf8')) as { resources: string[] };
    for (const r of kustomization.resources) expect(existsSync(join('deploy/k8s', r))).toBe(true);
  });

  it('Dockerfiles are well-formed, copy what exists, and the CUDA one installs the CUDA provider', () => {
    const instructions = new Set([
      'FROM',
      'RUN',
      'CMD',
      'LABEL',
      'EXPOSE',
      'ENV',
      'ADD',
      'COPY',
      'ENTRYPOINT',
      'VOLUME',
      'USER',
      'WORKDIR',
      'ARG',
      'ONBUILD',
      'STOPSIGNAL',
      'HEALTHCHECK',
      'SHELL',
    ]);
    for (const file of ['deploy/Dockerfile', 'deploy/Dockerfile.cuda']) {
      const logical = readFileSync(file, 'utf8')
        .replace(/\\\n(\s*#.*\n)*/g, ' ')
        .split('\n')
        .filter((l) => l.trim() && !l.trim().startsWith('#'));
      for (const line of logical)
        expect({ file, instruction: line.trim().split(/\s+/)[0] }).toEqual({
          file,
          instruction: expect.stringMatching(new RegExp(`^(${[...instructions].join('|')})$`)) as unknown as string,
        });
      expect(logical.filter((l) => l.startsWith('FROM')).length).toBe(2);
      for (const line of logical.filter((l) => l.startsWith('COPY') && !l.includes('--from'))) {
        for (const src of line.split(/\s+/).slice(1, -1)) expect({ file, src, exists: existsSync(src) }).toEqual({ file, src, exists: true });
      }
      const health = logical.find((l) => l.startsWith('HEALTHCHECK')) ?? '';
      const cmd = JSON.parse(health.slice(health.indexOf('['))) as string[];
      expect(cmd.slice(0, 2)).toEqual(['node', '-e']);
      expect(() => new Script(cmd[2] ?? '')).not.toThrow();
      expect(existsSync(`${file}.dockerignore`)).toBe(true);
    }
    const cuda = readFileSync('deploy/Dockerfile.cuda', 'utf8');
    expect(cuda).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12');
    expect(cuda).toMatch(/^FROM nvidia\/cuda:12\.[0-9.]+-cudnn-runtime/m);
    expect(cuda).toMatch(/network access/i);
    // Everywhere else the CUDA download is skipped: by allowScripts (npm >= 11.16) and, for the npm 10
    // of the node:20 images, by the variable; no .npmrc key (npm 11 warns about unknown ones).
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { allowScripts: Record<string, boolean> };
    expect(pkg.allowScripts['onnxruntime-node']).toBe(false);
    expect(readFileSync('deploy/Dockerfile', 'utf8')).toContain('ONNXRUNTIME_NODE_INSTALL=skip npm install');
    expect(existsSync('.npmrc')).toBe(false);
  });

  it('systemd-analyze verifies the node and worker units', async () => {
    requireTool('systemd-analyze');
    const units = all.filter((f) => f.endsWith('.service')).map((f) => relative('deploy', f));
    expect(units.sort()).toEqual(['precedent-worker@.service', 'precedent.service']);
    // Verified from a scratch copy: systemd-analyze also loads neighbouring files of the same name.
    const dir = mkdtempSync(join(tmpdir(), 'precedent-units-'));
    for (const unit of units) {
      copyFileSync(join('deploy', unit), join(dir, unit));
      const r = await run('systemd-analyze', ['verify', join(dir, unit)]);
      expect({ unit, code: r.code, stderr: r.stderr.trim() }).toEqual({ unit, code: 0, stderr: '' });
    }
    const worker = readFileSync('deploy/precedent-worker@.service', 'utf8');
    expect(worker).toMatch(/^ExecStart=.* worker --config /m);
    expect(loadConfig({ env: { PRECEDENT_OPS__WORKER_PORT: '9101' } }).ops.workerPort).toBe(9101);
  });
});
