// Association-level robustness (PS3.8): requests dcmjs-dimse alone would crash on or buffer without
// limit are rejected (A-ASSOCIATE-RJ) or aborted (A-ABORT) by the node, which keeps serving: after
// each case dcmtk's echoscu must still succeed.
import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { associateRq, EXPLICIT_VR_LE, PDU, pDataTf, RawPeer, cStoreRq, type ProposedContext } from './helpers/raw-peer.js';
import { CR_CONTEXT, CR_IMAGE_STORAGE, crDataset, element, newCrUids, text } from './helpers/raw-dataset.js';
import { startTestNode, type TestNode } from './helpers/node.js';
import { echo, within } from './helpers/wait.js';
import { createDimseServer, type DimseServer } from '../src/dimse/server.js';
import { createLogger } from '../src/shared/log.js';
import { testConfig } from './helpers/node.js';
import type { IngestService } from '../src/shared/types.js';

const VERIFICATION = '1.2.840.10008.1.1';
let node: TestNode | undefined;
let server: DimseServer | undefined;
const peers: RawPeer[] = [];

afterEach(async () => {
  for (const p of peers.splice(0)) p.destroy();
  await node?.stop();
  node = undefined;
  await server?.close(500);
  server = undefined;
});

async function peerOf(port: number): Promise<RawPeer> {
  const peer = await RawPeer.connect(port);
  peers.push(peer);
  return peer;
}

const crContext = (id: number): ProposedContext => ({ id, abstractSyntax: CR_IMAGE_STORAGE, transferSyntaxes: [EXPLICIT_VR_LE] });

/** The A-ASSOCIATE-RJ fields (PS3.8 9.3.4) the node answered with to `rq`. */
async function rejection(port: number, rq: Buffer): Promise<{ result: number; source: number; reason: number }> {
  const peer = await peerOf(port);
  await peer.send(rq);
  const reply = await peer.nextPdu();
  expect(reply.type).toBe(PDU.ASSOCIATE_RJ);
  return { result: reply.body.readUInt8(1), source: reply.body.readUInt8(2), reason: reply.body.readUInt8(3) };
}

/** Waits for the node's A-ABORT and the close that follows. */
async function expectAbort(peer: RawPeer): Promise<void> {
  const pdu = await peer.nextPdu();
  expect(pdu.type).toBe(PDU.ABORT);
  await within(peer.closed, 5000, 'close after A-ABORT');
}

/** A command set in Implicit VR LE (PS3.7 E.1): (element, value) pairs of group 0000, group length first. */
function command(elements: Array<[number, Buffer]>): Buffer {
  const body = Buffer.concat(
    elements.map(([el, value]) => {
      const head = Buffer.alloc(8);
      head.writeUInt16LE(el, 2);
      head.writeUInt32LE(value.length, 4);
      return Buffer.concat([head, value]);
    }),
  );
  const gl = Buffer.alloc(12);
  gl.writeUInt32LE(4, 4);
  gl.writeUInt32LE(body.length, 8);
  return Buffer.concat([gl, body]);
}
const us = (n: number): Buffer => Buffer.from([n & 0xff, n >> 8]);

describe('A-ASSOCIATE-RQ checks', () => {
  it('rejects 129 presentation contexts (IDs 1..255 then 1 again) and two with the same ID, and keeps serving', async () => {
    node = await startTestNode();
    const ids = [...Array.from({ length: 128 }, (_, i) => 2 * i + 1), 1];
    const many = await rejection(node.port, associateRq({ calledAE: 'PRECEDENT', callingAE: 'RAW', contexts: ids.map(crContext) }));
    expect(many).toEqual({ result: 1, source: 1, reason: 1 });
    const twice = await rejection(node.port, associateRq({ calledAE: 'PRECEDENT', callingAE: 'RAW', contexts: [crContext(255), crContext(255)] }));
    expect(twice).toEqual({ result: 1, source: 1, reason: 1 });
    expect(node.logs.filter((l) => l.includes('ASSOCIATION_REFUSED'))).toHaveLength(2);
    expect(await echo(node)).toBe(0);
  });

  it('rejects a wrong application context name and an unsupported protocol version (PS3.8 9.3.4)', async () => {
    node = await startTestNode();
    const rq = associateRq({ calledAE: 'PRECEDENT', callingAE: 'RAW', contexts: [CR_CONTEXT] });
    const wrongContext = Buffer.from(rq.toString('latin1').replace('1.2.840.10008.3.1.1.1', '1.2.840.10008.3.1.1.9'), 'latin1');
    expect(await rejection(node.port, wrongContext)).toEqual({ result: 1, source: 1, reason: 2 });
    const version0 = Buffer.from(rq);
    version0.writeUInt16BE(0x0000, 6);
    expect(await rejection(node.port, version0)).toEqual({ result: 1, source: 2, reason: 2 });
    expect(await echo(node)).toBe(0);
  });
});

describe('P-DATA-TF checks', () => {
  it('aborts a PDU header declaring 0xFFFFFFFF bytes, before or after association, without buffering what follows', async () => {
    node = await startTestNode();
    for (const associateFirst of [false, true]) {
      const peer = await peerOf(node.port);
      if (associateFirst) expect(await peer.associate({ contexts: [CR_CONTEXT] })).toMatchObject({ accepted: true });
      const header = Buffer.from([PDU.P_DATA_TF, 0, 0xff, 0xff, 0xff, 0xff]);
      await peer.send(Buffer.concat([header, Buffer.alloc(64 * 1024, 0x41)])).catch(() => undefined);
      if (associateFirst) await expectAbort(peer);
      else await within(peer.closed, 5000, 'close of an unassociated connection');
      // The rest of the stream is not read: the node has already closed.
      await peer.send(Buffer.alloc(1024 * 1024, 0x42)).catch(() => undefined);
      expect(peer.isClosed).toBe(true);
    }
    expect(node.logs.filter((l) => l.includes('PROTOCOL_VIOLATION'))).toHaveLength(2);
    expect(await echo(node)).toBe(0);
  });

  it('announces dimse.maxPduLength whatever the requestor proposes, takes PDUs up to it and aborts a longer one', async () => {
    node = await startTestNode({ dimse: { maxPduLength: 65536 } });
    for (const proposed of [16384, 0, 1_048_576]) {
      const probe = await peerOf(node.port);
      // Each side announces what it receives (PS3.8 D.1): the requestor's maximum does not change ours.
      expect(await probe.associate({ contexts: [CR_CONTEXT], maxPduLength: proposed })).toMatchObject({ accepted: true, maxPduLength: 65536 });
      probe.destroy();
    }
    const peer = await peerOf(node.port);
    expect(await peer.associate({ contexts: [CR_CONTEXT], maxPduLength: 16384 })).toMatchObject({ accepted: true, maxPduLength: 65536 });
    const uids = newCrUids();
    // Image Comments (UT) long enough that two P-DATA-TF PDUs are exactly 65536 bytes long: the
    // announced Maximum Length covers the PDV items, the 6-byte PDU header excluded.
    const filler = element(0x0020, 0x4000, 'UT', text('x'.repeat(150_000)));
    const fine = await peer.cStore(1, { sopClassUid: CR_IMAGE_STORAGE, sopInstanceUid: uids.sop, dataset: crDataset(uids, filler), fragment: 65536 - 6 });
    expect(fine.status).toBe(0);
    await peer.sendCommand(1, cStoreRq({ sopClassUid: CR_IMAGE_STORAGE, sopInstanceUid: newCrUids().sop, messageId: 2 }));
    await peer.send(pDataTf([{ contextId: 1, command: false, last: false, data: Buffer.alloc(65536 + 100) }])).catch(() => undefined);
    await expectAbort(peer);
    expect(await echo(node)).toBe(0);
  });

  it('aborts a C-ECHO-RQ that announces a data set instead of buffering it', async () => {
    node = await startTestNode();
    const peer = await peerOf(node.port);
    expect(await peer.associate({ contexts: [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [EXPLICIT_VR_LE] }] })).toMatchObject({ accepted: true });
    const echoRq = command([
      [0x0002, Buffer.from(`${VERIFICATION}\0`, 'latin1')],
      [0x0100, us(0x0030)],
      [0x0110, us(1)],
      [0x0800, us(0x0000)], // a data set follows
    ]);
    await peer.sendCommand(1, echoRq);
    await peer.send(pDataTf([{ contextId: 1, command: false, last: false, data: Buffer.alloc(60_000, 0x43) }])).catch(() => undefined);
    await expectAbort(peer);
    expect(await echo(node)).toBe(0);
  });

  it('aborts data on a presentation context it rejected, and a data set on another context than its command', async () => {
    node = await startTestNode();
    const rejected = await peerOf(node.port);
    const result = await rejected.associate({ contexts: [CR_CONTEXT, { id: 3, abstractSyntax: '1.2.3.4.5', transferSyntaxes: [EXPLICIT_VR_LE] }] });
    expect(result).toMatchObject({
      accepted: true,
      contexts: [
        { id: 1, result: 0 },
        { id: 3, result: 3 },
      ],
    });
    const uids = newCrUids();
    await rejected.sendCommand(3, cStoreRq({ sopClassUid: CR_IMAGE_STORAGE, sopInstanceUid: uids.sop, messageId: 1 }));
    await expectAbort(rejected);

    const split = await peerOf(node.port);
    expect(await split.associate({ contexts: [crContext(1), crContext(3)] })).toMatchObject({ accepted: true });
    await split.sendCommand(1, cStoreRq({ sopClassUid: CR_IMAGE_STORAGE, sopInstanceUid: uids.sop, messageId: 1 }));
    await split.sendDataset(3, crDataset(uids));
    await expectAbort(split);
    expect(node.node.catalog.instanceCount()).toBe(0);
    expect(await echo(node)).toBe(0);
  });
});

describe('connections and failures', () => {
  it('closes connections that send no A-ASSOCIATE-RQ within ARTIM, and idle connections do not count as associations', async () => {
    node = await startTestNode({ dimse: { maxAssociations: 2, artimSeconds: 1.5 } });
    const idle = await Promise.all(Array.from({ length: 10 }, () => peerOf(node?.port ?? 0)));
    // Ten idle connections, a limit of two associations: real peers still get in.
    expect(await echo(node)).toBe(0);
    expect(await echo(node)).toBe(0);
    await within(Promise.all(idle.map((p) => p.closed)), 10_000, 'ARTIM closing idle connections');
    expect(idle.every((p) => p.isClosed)).toBe(true);
  });

  it('contains an exception thrown while handling one association: logged with a code, answered with A-ABORT, others served', async () => {
    const logs: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs.push(...chunk.toString().split('\n').filter(Boolean));
        cb();
      },
    });
    // An ingest that throws as a bug would: the injected fault.
    const ingest: IngestService = {
      begin: () => {
        throw new TypeError('injected fault');
      },
    };
    server = createDimseServer({ config: testConfig().dimse, aeTitles: ['PRECEDENT'], ingest, log: createLogger('debug', sink) });
    const port = await server.listen();
    const peer = await peerOf(port);
    expect(await peer.associate({ contexts: [CR_CONTEXT] })).toMatchObject({ accepted: true });
    const uids = newCrUids();
    await peer.sendCommand(1, cStoreRq({ sopClassUid: CR_IMAGE_STORAGE, sopInstanceUid: uids.sop, messageId: 1 }));
    await peer.sendDataset(1, crDataset(uids)).catch(() => undefined);
    await expectAbort(peer);
    const failure = logs.map((l) => JSON.parse(l) as { code?: string; err?: { code?: string } }).find((l) => l.code === 'ASSOCIATION_FAILED');
    expect(failure?.err?.code).toBe('TypeError');
    expect(await echo({ port })).toBe(0);
  });
});
