// A destination that refuses the association: the outcome (and so the export log line and `precedent
// exports list`) says how it refused, decoded from the A-ASSOCIATE-RJ or A-ABORT PDU (PS3.8 9.3.4,
// 9.3.8), instead of "no response (association ended)". The peer answers the A-ASSOCIATE-RQ with the
// exact bytes a PACS sends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFixture, type Fixture } from './fixtures/build.js';
import { tempDir } from './helpers/node.js';
import { freePort } from './helpers/process.js';
import { PDU } from './helpers/raw-peer.js';
import { run } from './helpers/tools.js';
import { cStoreFiles } from '../src/export/index.js';
import { openExportOutbox } from '../src/store/index.js';

let fixture: Fixture;
const servers: Server[] = [];
beforeAll(async () => {
  fixture = await buildFixture({ variant: 'dx8', syntax: 'ele', imageIndex: 910 }, tempDir('precedent-refusal-'));
}, 60_000);
afterAll(() => {
  for (const s of servers) s.close();
});

/** A peer that answers the first PDU it receives with `type` and the four bytes `body`, then closes. */
async function refusingPeer(type: number, body: number[]): Promise<number> {
  const port = await freePort();
  const server = createServer((socket) => {
    socket.once('data', () => {
      const pdu = Buffer.alloc(10);
      pdu[0] = type;
      pdu.writeUInt32BE(4, 2);
      Buffer.from(body).copy(pdu, 6);
      socket.end(pdu);
    });
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return port;
}

const send = (port: number) =>
  cStoreFiles({ name: 'pacs', aeTitle: 'PACS', host: '127.0.0.1', port, callingAETitle: 'PRECEDENT', timeoutSeconds: 10 }, [fixture.path]);

describe('a destination that refuses the association', () => {
  it('A-ASSOCIATE-RJ: the result, reason and source are named', async () => {
    // Rejected permanent (1), by the service user (1): calling AE title not recognised (3).
    expect(await send(await refusingPeer(PDU.ASSOCIATE_RJ, [0, 1, 1, 3]))).toEqual([
      { ok: false, error: 'association rejected by the destination (permanent): calling AE title not recognised; source service user' },
    ]);
    // Rejected transient (2) by the presentation service provider (3): local limit exceeded (2).
    expect(await send(await refusingPeer(PDU.ASSOCIATE_RJ, [0, 2, 3, 2]))).toEqual([
      { ok: false, error: 'association rejected by the destination (transient): local limit exceeded; source service provider (presentation)' },
    ]);
  });

  it('A-ABORT: who aborted, and the provider reason', async () => {
    expect(await send(await refusingPeer(PDU.ABORT, [0, 0, 0, 0]))).toEqual([{ ok: false, error: 'association aborted by the destination (service user)' }]);
    expect(await send(await refusingPeer(PDU.ABORT, [0, 0, 2, 2]))).toEqual([
      { ok: false, error: "association aborted by the destination's DICOM service provider: unexpected PDU" },
    ]);
  });
});

describe('precedent exports list', () => {
  it('prints a header and the Study Instance UID of each item, and the refusal as the last error', async () => {
    const dataDir = tempDir('precedent-exports-list-');
    const config = join(dataDir, 'precedent.json');
    writeFileSync(config, JSON.stringify({ storage: { dataDir, minFreeBytes: 0 } }));
    const outbox = openExportOutbox(join(dataDir, 'catalog.sqlite'));
    outbox.add({ SOPInstanceUID: '2.25.11', StudyInstanceUID: '2.25.1', path: fixture.path }, ['pacs'], 1);
    const [item] = outbox.due(2, 10);
    outbox.markFailed(item?.id ?? 0, 'association rejected by the destination (permanent): calling AE title not recognised; source service user', 3, true);
    outbox.close();
    const r = await run('node', ['bin/precedent.js', 'exports', 'list', '--config', config]);
    expect(r.code).toBe(0);
    const [header, row, ...rest] = r.stdout.trimEnd().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual(['ID', 'STATE', 'DESTINATION', 'ATTEMPTS', 'STUDY INSTANCE UID', 'SOP INSTANCE UID', 'LAST ERROR']);
    expect(row?.split(/\s{2,}/)).toEqual([
      '1',
      'failed',
      'pacs',
      '1',
      '2.25.1',
      '2.25.11',
      'association rejected by the destination (permanent): calling AE title not recognised; source service user',
    ]);
    expect(rest).toEqual([]);
    expect(r.stderr).toContain('1 item(s)');
  });
});
