// DICOM TLS with a CA made at test time: the DIMSE listener against dcmtk's echoscu/storescu +tls
// (mutual authentication), C-STORE export over TLS to dcmtk's storescp +tls, and DICOMweb over HTTPS
// with client-certificate (mTLS) authentication.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { buildFixtures, type Fixture, type FixtureSpec } from './fixtures/build.js';
import { startTestNode, tempDir, type TestNode } from './helpers/node.js';
import { freePort } from './helpers/process.js';
import { requireTool, run } from './helpers/tools.js';
import { makePki, type TestPki } from './helpers/pki.js';
import { multipartBody, sample } from './helpers/stow.js';
import { cStoreFiles, createExporter } from '../src/export/index.js';
import { openCatalog, openExportOutbox } from '../src/store/index.js';
import { createPromMetrics } from '../src/ops/index.js';
import { createLogger } from '../src/shared/log.js';

let pki: TestPki;
let fixtures: Fixture[];
let node: TestNode | undefined;
let scp: ChildProcess | undefined;

beforeAll(async () => {
  const dir = tempDir('precedent-tls-');
  pki = await makePki(dir);
  fixtures = await buildFixtures(
    Array.from({ length: 3 }, (_, i) => ({ variant: 'dx8', syntax: 'ele', imageIndex: 300 + i, maxSize: 64 }) as FixtureSpec),
    join(dir, 'fixtures'),
  );
});

afterEach(async () => {
  await node?.stop();
  node = undefined;
  if (scp && scp.exitCode === null) {
    const s = scp;
    await new Promise<void>((resolve) => {
      s.once('exit', () => resolve());
      s.kill('SIGTERM');
    });
  }
  scp = undefined;
});

const tlsArgs = (key: string, cert: string): string[] => ['+tls', key, cert, '+cf', pki.ca];

describe('DIMSE listener over TLS', () => {
  it('accepts echoscu/storescu +tls with a client certificate from the CA and refuses everything else', async () => {
    node = await startTestNode({ dimse: { tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requireClientCert: true } } });
    const target = ['-aet', 'TESTSCU', '-aec', 'PRECEDENT', 'localhost', String(node.port)];

    const echo = await run('echoscu', [...tlsArgs(pki.clientKey, pki.clientCert), ...target]);
    expect(echo.code).toBe(0);
    const store = await run('storescu', [...tlsArgs(pki.clientKey, pki.clientCert), ...target, ...fixtures.map((f) => f.path)]);
    expect(store.code).toBe(0);
    for (const f of fixtures) expect(node.node.catalog.instanceVersions(f.sopInstanceUID)).toHaveLength(1);

    const plain = await run('echoscu', target, { timeoutMs: 15_000 });
    expect(plain.code).not.toBe(0);
    const rogue = await run('echoscu', [...tlsArgs(pki.rogueKey, pki.rogueCert), ...target], { timeoutMs: 15_000 });
    expect(rogue.code).not.toBe(0);
    const anonymous = await run('echoscu', ['+tla', '+cf', pki.ca, ...target], { timeoutMs: 15_000 });
    expect(anonymous.code).not.toBe(0);
    expect(node.logs.some((l) => l.includes('"msg":"TLS handshake failed"'))).toBe(true);
    expect(node.logs.some((l) => l.includes('"msg":"DIMSE listening"') && l.includes('"tls":true'))).toBe(true);
  });

  it('without requireClientCert, takes any TLS client that trusts the server', async () => {
    node = await startTestNode({ dimse: { tls: { key: pki.serverKey, cert: pki.serverCert, requireClientCert: false } } });
    const anonymous = await run('echoscu', ['+tla', '+cf', pki.ca, '-aet', 'TESTSCU', '-aec', 'PRECEDENT', 'localhost', String(node.port)]);
    expect(anonymous.code).toBe(0);
  });
});

async function startStorescp(port: number, out: string, extra: string[]): Promise<void> {
  requireTool('storescp');
  scp = spawn('storescp', [...extra, '-aet', 'TLSDEST', '-od', out, String(port)], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: 'ignore' });
  const end = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) return;
    if (Date.now() > end) throw new Error('storescp did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('C-STORE export over TLS', () => {
  it('delivers to storescp +tls with our client certificate, fails without it, and counts both in the metrics', async () => {
    const port = await freePort();
    const out = tempDir('precedent-tls-out-');
    await startStorescp(port, out, tlsArgs(pki.serverKey, pki.serverCert));
    const base = { name: 'pacs-tls', aeTitle: 'TLSDEST', host: 'localhost', port, callingAETitle: 'PRECEDENT', timeoutSeconds: 20 };

    const outcomes = await cStoreFiles(
      { ...base, tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } },
      fixtures.map((f) => f.path),
    );
    expect(outcomes).toEqual(fixtures.map(() => ({ ok: true })));
    const received = readdirSync(out);
    expect(received).toHaveLength(fixtures.length);

    const noCert = await cStoreFiles({ ...base, tls: { ca: pki.ca } }, [fixtures[0]?.path ?? '']);
    expect(noCert[0]?.ok).toBe(false);
    const untrusted = await cStoreFiles({ ...base, tls: { ca: pki.rogueCa, cert: pki.clientCert, key: pki.clientKey } }, [fixtures[0]?.path ?? '']);
    expect(untrusted[0]).toMatchObject({ ok: false, error: expect.stringMatching(/network error|certificate/i) as unknown as string });

    // Through the exporter, with its metrics.
    const dataDir = tempDir('precedent-tls-export-');
    const catalog = openCatalog(join(dataDir, 'catalog.sqlite'));
    const outbox = openExportOutbox(join(dataDir, 'catalog.sqlite'));
    const metrics = createPromMetrics({ defaultMetrics: false });
    const exporter = createExporter({
      outbox,
      destinations: [
        {
          kind: 'dimse',
          name: 'pacs-tls',
          aeTitle: 'TLSDEST',
          host: 'localhost',
          port,
          forCallingAETitles: [],
          tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey },
        },
        { kind: 'dimse', name: 'pacs-plain', aeTitle: 'TLSDEST', host: 'localhost', port, forCallingAETitles: [] },
      ],
      callingAETitle: 'PRECEDENT',
      maxAttempts: 1,
      backoffSeconds: 1,
      maxBackoffSeconds: 1,
      timeoutSeconds: 10,
      checkIntervalSeconds: 60,
      log: createLogger('silent'),
      metrics,
    });
    const f = fixtures[1] as Fixture;
    exporter.submit([{ SOPInstanceUID: f.sopInstanceUID, StudyInstanceUID: f.studyInstanceUID, path: f.path }], ['pacs-tls', 'pacs-plain']);
    await exporter.pass();
    await exporter.stop();
    const items = outbox.list();
    expect(items.find((i) => i.destination === 'pacs-tls')?.state).toBe('sent');
    expect(items.find((i) => i.destination === 'pacs-plain')?.state).toBe('failed');
    const text = await metrics.render();
    expect(sample(text, 'precedent_export_duration_seconds_count', { destination: 'pacs-tls', outcome: 'sent' })).toBe(1);
    expect(sample(text, 'precedent_export_failures_total', { destination: 'pacs-plain' })).toBe(1);
    expect(sample(text, 'precedent_export_failures_total', { destination: 'pacs-tls' })).toBeUndefined();
    outbox.close();
    catalog.close();
  });
});

function httpsStow(port: number, body: Buffer, contentType: string, cert?: { key: string; cert: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        path: '/dicomweb/studies',
        method: 'POST',
        ca: readFileSync(pki.ca),
        ...(cert ? { key: readFileSync(cert.key), cert: readFileSync(cert.cert) } : {}),
        headers: { 'Content-Type': contentType, 'Content-Length': body.length, Accept: 'application/dicom+json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A node whose DICOMweb edge is HTTPS with client certificates from the test CA (auth: mtls). */
function startMtlsNode(requireClientCert: boolean): Promise<TestNode> {
  return startTestNode({
    dicomweb: {
      enabled: true,
      port: 0,
      host: '127.0.0.1',
      auth: { type: 'mtls' },
      tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requireClientCert },
    },
  });
}

describe('DICOMweb over HTTPS with mutual TLS', () => {
  it('stores with a client certificate from the CA and answers 401 without one or with a foreign one', async () => {
    node = await startMtlsNode(false);
    const port = node.dicomwebPort ?? 0;
    const { body, contentType } = multipartBody([{ bytes: readFileSync(fixtures[0]?.path ?? '') }]);
    const ok = await httpsStow(port, body, contentType, { key: pki.clientKey, cert: pki.clientCert });
    expect(ok.status).toBe(200);
    expect(node.node.catalog.instanceVersions(fixtures[0]?.sopInstanceUID ?? '')).toHaveLength(1);
    const none = await httpsStow(port, body, contentType);
    expect(none.status).toBe(401);
    const rogue = await httpsStow(port, body, contentType, { key: pki.rogueKey, cert: pki.rogueCert });
    expect(rogue.status).toBe(401);
    expect(JSON.parse(rogue.body)).toMatchObject({ error: 'unauthorized' });
    expect(node.logs.some((l) => l.includes('"who":"cert:TESTSCU"'))).toBe(true);
  });

  it('refuses the handshake itself with requireClientCert', async () => {
    node = await startMtlsNode(true);
    const { body, contentType } = multipartBody([{ bytes: readFileSync(fixtures[2]?.path ?? '') }]);
    await expect(httpsStow(node.dicomwebPort ?? 0, body, contentType)).rejects.toThrow();
    const ok = await httpsStow(node.dicomwebPort ?? 0, body, contentType, { key: pki.clientKey, cert: pki.clientCert });
    expect(ok.status).toBe(200);
  });
});

describe('TLS configuration errors', () => {
  it('names the key whose PEM file cannot be read', async () => {
    const missing = join(pki.dir, 'nope.pem');
    await expect(startTestNode({ dimse: { tls: { key: missing, cert: pki.serverCert, requireClientCert: false } } })).rejects.toThrow(
      /dimse\.tls\.key: cannot read/,
    );
  });
});
