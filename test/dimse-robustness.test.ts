// What the DIMSE edge does with peers that misbehave: garbage data sets, bogus PDUs, associations that
// die mid-object, absurd element lengths, mismatched UIDs, and several associations interleaved. Each
// case speaks the Upper Layer protocol itself (test/helpers/raw-peer.ts), then checks the node still
// serves real peers (dcmtk's echoscu) and that the catalog and data directory hold exactly what was
// acknowledged.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startTestNode, type TestNode } from './helpers/node.js';
import { outputTail, startServeChild, type ServeChild } from './helpers/serve-child.js';
import { echo, waitFor, within } from './helpers/wait.js';
import { cStoreRq, EXPLICIT_VR_LE, RawPeer, type AssociateResult } from './helpers/raw-peer.js';
import { CR_CONTEXT, CR_IMAGE_STORAGE, crDataset, element, newCrUids, text, ui, uid, type CrUids } from './helpers/raw-dataset.js';

interface LogLine {
  msg?: string;
  SOPInstanceUID?: string;
  status?: string;
  [key: string]: unknown;
}

const logLines = (n: TestNode): LogLine[] => n.logs.map((l) => JSON.parse(l) as LogLine);

function partFiles(n: TestNode): string[] {
  return readdirSync(join(n.dataDir, 'tmp')).filter((f) => f.endsWith('.part'));
}

/** Every file name under <dataDir>/instances, recursively. */
function instanceFiles(n: TestNode): string[] {
  const root = join(n.dataDir, 'instances');
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, encoding: 'utf8' });
}

function expectAccepted(result: AssociateResult): void {
  expect(result.accepted).toBe(true);
  if (!result.accepted) return;
  expect(result.contexts).toEqual([{ id: 1, result: 0, transferSyntax: EXPLICIT_VR_LE }]);
}

async function associatedPeer(n: { port: number }): Promise<RawPeer> {
  const peer = await RawPeer.connect(n.port);
  expectAccepted(await peer.associate({ contexts: [CR_CONTEXT] }));
  return peer;
}

let node: TestNode | undefined;
const peers: RawPeer[] = [];
const children: ServeChild[] = [];

async function start(): Promise<TestNode> {
  node = await startTestNode();
  return node;
}

async function connect(n: TestNode): Promise<RawPeer> {
  const peer = await associatedPeer(n);
  peers.push(peer);
  return peer;
}

afterEach(async () => {
  for (const p of peers.splice(0)) p.destroy();
  await node?.stop();
  node = undefined;
  for (const child of children.splice(0)) await child.stop();
});

describe('DIMSE robustness against misbehaving peers', () => {
  it('answers a malformed data set with 0xC000-range status and keeps the association usable', async () => {
    const n = await start();
    const peer = await connect(n);

    // The first element's header claims 0xFFFE bytes of SOP Class UID; about 30 follow.
    const bad = newCrUids();
    const garbage = Buffer.concat([element(0x0008, 0x0016, 'UI', ui(CR_IMAGE_STORAGE), 0xfffe), element(0x0008, 0x0018, 'UI', ui(bad.sop))]);
    const failed = await peer.cStore(1, { sopClassUid: CR_IMAGE_STORAGE, sopInstanceUid: bad.sop, dataset: garbage });
    expect(failed.commandField).toBe(0x8001);
    expect(failed.status).toBeGreaterThanOrEqual(0xc000);
    expect(failed.status).toBeLessThanOrEqual(0xcfff);
    expect(failed.errorComment.length).toBeGreaterThan(0);

    const good = newCrUids();
    const stored = await peer.cStore(1, { sopClassUid: CR_IMAGE_STORAGE, sopInstanceUid: good.sop, dataset: crDataset(good) });
    expect(stored.status).toBe(0x0000);
    expect(stored.messageIdBeingRespondedTo).toBe(2);
    await peer.release();
    await within(peer.closed, 5000, 'close after release');

    const failures = logLines(n).filter((l) => l.msg === 'C-STORE failed');
    expect(failures).toEqual([expect.objectContaining({ SOPInstanceUID: bad.sop })]);
    expect(n.node.catalog.instanceVersions(good.sop)).toHaveLength(1);
    expect(n.node.catalog.instanceVersions(bad.sop)).toHaveLength(0);
    expect(partFiles(n)).toEqual([]);
  });

  it('drops a connection that sends something that is not a PDU, and keeps serving', async () => {
    const n = await start();
    const peer = await RawPeer.connect(n.port);
    peers.push(peer);
    // PDU type 0x55 does not exist (PS3.8 9.3.1): the node must abort or close (PS3.8 9.2, event 19).
    await peer.send(Buffer.from([0x55, 0x00, 0x00, 0x00, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef]));
    await within(peer.closed, 5000, 'connection closed by the node');
    expect(peer.isClosed).toBe(true);
    expect(await echo(n)).toBe(0);
  });

  it('leaves nothing behind when an association dies in the middle of a data set', async () => {
    const n = await start();
    const peer = await connect(n);
    const uids = newCrUids();
    const dataset = crDataset(uids);
    await peer.sendCommand(1, cStoreRq({ sopClassUid: CR_IMAGE_STORAGE, sopInstanceUid: uids.sop, messageId: 1 }));
    await peer.sendDataset(1, dataset.subarray(0, 100), { last: false });
    // Wait until the node has the object under way on disk (created in its day's folder), then vanish.
    const underWay = (): string[] => instanceFiles(n).filter((f) => f.includes(uids.sop));
    await waitFor(() => underWay().length > 0, 5000);
    expect(underWay()).toHaveLength(1);
    peer.destroy();
    await new Promise((r) => setTimeout(r, 500));

    expect(logLines(n).filter((l) => l.msg === 'partial object dropped (never acknowledged)')).toHaveLength(1);

    expect(n.node.catalog.instanceVersions(uids.sop)).toHaveLength(0);
    expect(partFiles(n)).toEqual([]);
    expect(instanceFiles(n).filter((f) => f.includes(uids.sop))).toEqual([]);
    expect(await echo(n)).toBe(0);
  });

  it('fails a data set whose first element declares a length of 0xFFFFFFF0, and keeps serving', async () => {
    const n = await start();
    const peer = await connect(n);
    const uids = newCrUids();
    // Image Type as UT with a 4-byte length far beyond the data (not the undefined length 0xFFFFFFFF).
    const huge = Buffer.concat([element(0x0008, 0x0008, 'UT', text('ORIGINAL'), 0xfffffff0), crDataset(uids)]);
    const r = await peer.cStore(1, { sopClassUid: CR_IMAGE_STORAGE, sopInstanceUid: uids.sop, dataset: huge });
    expect(r.status).toBeGreaterThanOrEqual(0xc000);
    expect(r.status).toBeLessThanOrEqual(0xcfff);
    expect(r.errorComment.length).toBeGreaterThan(0);
    expect(n.node.catalog.instanceVersions(uids.sop)).toHaveLength(0);
    expect(partFiles(n)).toEqual([]);
    expect(await echo(n)).toBe(0);
  });

  it('fails a data set whose first element is UN with a length of 0xFFFFFFF0, and keeps serving', async () => {
    const serve = await startServeChild();
    children.push(serve);
    const peer = await associatedPeer(serve);
    peers.push(peer);
    const uids = newCrUids();
    // Specific Character Set sent as UN (as converters do for an unknown VR): PS3.5 7.1.2 gives UN a
    // 4-byte length, here 0xFFFFFFF0 with ten bytes behind it.
    const huge = Buffer.concat([element(0x0008, 0x0005, 'UN', text('ISO_IR 100'), 0xfffffff0), crDataset(uids)]);
    const exited = new Promise((resolve) => serve.child.once('exit', resolve));
    // A generous wait: today the node spends seconds filling its heap before it dies.
    const reply = await peer
      .cStore(1, { sopClassUid: CR_IMAGE_STORAGE, sopInstanceUid: uids.sop, dataset: huge, timeoutMs: 60_000 })
      .catch((err: unknown) => err);
    if (reply instanceof Error) await within(exited, 5000, 'exit after the connection dropped').catch(() => undefined);
    // The node process must survive whatever a peer sends.
    const { exitCode, signalCode } = serve.child;
    expect({ exitCode, signalCode }, `precedent serve died:\n${outputTail(serve.output())}`).toEqual({ exitCode: null, signalCode: null });
    expect(reply).toMatchObject({ status: expect.any(Number) as number });
    const status = (reply as { status: number }).status;
    expect(status).toBeGreaterThanOrEqual(0xc000);
    expect(status).toBeLessThanOrEqual(0xcfff);
    expect(await echo(serve)).toBe(0);
  });

  it('answers 0xA900 when the data set SOP Instance UID differs from the command', async () => {
    const n = await start();
    const peer = await connect(n);
    const uids = newCrUids();
    const claimed = uid();
    const r = await peer.cStore(1, { sopClassUid: CR_IMAGE_STORAGE, sopInstanceUid: claimed, dataset: crDataset(uids) });
    expect(r.status).toBe(0xa900);
    expect(r.errorComment.length).toBeGreaterThan(0);
    expect(n.node.catalog.instanceVersions(claimed)).toHaveLength(0);
    expect(n.node.catalog.instanceVersions(uids.sop)).toHaveLength(0);
    expect(partFiles(n)).toEqual([]);
    await peer.release();
  });

  it('stores from four interleaved associations at once', async () => {
    const n = await start();
    const all: CrUids[][] = Array.from({ length: 4 }, () => Array.from({ length: 3 }, newCrUids));
    const connected = await Promise.all(all.map(() => connect(n)));
    const statuses = await Promise.all(
      connected.map(async (peer, a) => {
        const out: number[] = [];
        for (const uids of all[a] ?? []) {
          // Small fragments so the four associations' PDUs interleave on the node.
          const r = await peer.cStore(1, { sopClassUid: CR_IMAGE_STORAGE, sopInstanceUid: uids.sop, dataset: crDataset(uids), fragment: 64 });
          out.push(r.status);
        }
        await peer.release();
        return out;
      }),
    );
    expect(statuses).toEqual(Array.from({ length: 4 }, () => [0, 0, 0]));
    for (const uids of all.flat()) expect(n.node.catalog.instanceVersions(uids.sop)).toHaveLength(1);
    expect(n.node.catalog.instanceCount()).toBe(12);
    expect(partFiles(n)).toEqual([]);
  });
});
