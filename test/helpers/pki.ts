// A throw-away PKI made with the real openssl at test time: a CA, a server certificate for
// localhost/127.0.0.1 and client certificates (one from a foreign CA).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './tools.js';

export interface TestPki {
  dir: string;
  ca: string;
  serverKey: string;
  serverCert: string;
  clientKey: string;
  clientCert: string;
  /** Signed by a CA the node does not trust. */
  rogueKey: string;
  rogueCert: string;
  rogueCa: string;
}

async function openssl(args: string[]): Promise<void> {
  const r = await run('openssl', args);
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

async function issue(dir: string, name: string, cn: string, caName: string, ext: string): Promise<void> {
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, ext);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.csr`), '-subj', `/CN=${cn}`]);
  await openssl([
    'x509',
    '-req',
    '-in',
    join(dir, `${name}.csr`),
    '-CA',
    join(dir, `${caName}.crt`),
    '-CAkey',
    join(dir, `${caName}.key`),
    '-CAcreateserial',
    '-out',
    join(dir, `${name}.crt`),
    '-days',
    '2',
    '-sha256',
    '-extfile',
    extFile,
  ]);
}

export async function makePki(dir: string): Promise<TestPki> {
  for (const ca of ['ca', 'rogue-ca']) {
    await openssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, `${ca}.key`),
      '-out',
      join(dir, `${ca}.crt`),
      '-days',
      '2',
      '-sha256',
      '-subj',
      `/CN=Precedent test ${ca}`,
    ]);
  }
  await issue(dir, 'server', 'localhost', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  await issue(dir, 'client', 'TESTSCU', 'ca', 'extendedKeyUsage=clientAuth,serverAuth\n');
  await issue(dir, 'rogue', 'ROGUE', 'rogue-ca', 'extendedKeyUsage=clientAuth,serverAuth\n');
  const p = (n: string) => join(dir, n);
  return {
    dir,
    ca: p('ca.crt'),
    serverKey: p('server.key'),
    serverCert: p('server.crt'),
    clientKey: p('client.key'),
    clientCert: p('client.crt'),
    rogueKey: p('rogue.key'),
    rogueCert: p('rogue.crt'),
    rogueCa: p('rogue-ca.crt'),
  };
}
