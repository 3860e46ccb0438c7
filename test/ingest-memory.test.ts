// Memory amplification (issue 12): objects small on the wire, or large but harmless, that made the
// node hold several times their size while reading their header. Each runs against `precedent serve`
// in a child process whose peak resident set (VmHWM) is read from /proc before and after: the growth
// must stay within a generous multiple of the header budget, never near the object's inflated size.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { constants, deflateRawSync } from 'node:zlib';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { echo } from './helpers/wait.js';
import { startTestNode } from './helpers/node.js';
import { RawPeer } from './helpers/raw-peer.js';
import { CR_IMAGE_STORAGE, crDataset, element, newCrUids, text } from './helpers/raw-dataset.js';
import { outputTail, startServeChild, type ServeChild } from './helpers/serve-child.js';

const MiB = 1024 * 1024;
const DEFLATED = '1.2.840.10008.1.2.1.99';
const EXPLICIT = '1.2.840.10008.1.2.1';
const children: ServeChild[] = [];

beforeAll(() => {
  if (!existsSync(fileURLToPath(new URL('../dist/cli.js', import.meta.url)))) throw new Error('dist/ is missing: run `npm run build` first');
});
afterEach(async () => {
  for (const c of children.splice(0)) await c.stop();
});

async function serve(maxInstanceBytes: number): Promise<ServeChild> {
  // keepIgnored: the object without Pixel Data is triaged out, and kept so its bytes can be compared.
  const c = await startServeChild({ storageYaml: `  maxInstanceBytes: ${maxInstanceBytes}\n  keepIgnored: true\n` });
  children.push(c);
  return c;
}

/** A private block (0021,00xx) with one OB element of `length` bytes, as a vendor's blob would come. */
function privateObHeader(length: number): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16LE(0x0021, 0);
  head.writeUInt16LE(0x1000, 2);
  head.write('OB', 4, 'latin1');
  head.writeUInt32LE(length, 8);
  return Buffer.concat([element(0x0021, 0x0010, 'LO', text('PRECEDENT TEST')), head]);
}

/**
 * A Deflated Explicit VR Little Endian data set (PS3.5 A.5) with a private OB of `zeros` zero bytes,
 * built without ever holding it inflated: raw deflate segments ending in a sync flush are complete
 * blocks on a byte boundary, so one segment of 1 MiB of zeros repeated is a valid stream of it.
 */
function deflateBomb(uids: ReturnType<typeof newCrUids>, zeros: number): Buffer {
  const sync = (b: Buffer): Buffer => deflateRawSync(b, { finishFlush: constants.Z_SYNC_FLUSH });
  const whole = crDataset(uids, privateObHeader(zeros));
  const cut = whole.indexOf(Buffer.from([0x21, 0x00, 0x00, 0x10, 0x4f, 0x42])) + 12; // after the OB header
  const mib = sync(Buffer.alloc(MiB));
  return Buffer.concat([
    sync(whole.subarray(0, cut)),
    ...Array.from({ length: zeros / MiB }, () => mib),
    sync(whole.subarray(cut)),
    deflateRawSync(Buffer.alloc(0)),
  ]);
}

async function associate(port: number, transferSyntax: string): Promise<{ peer: RawPeer; fragment: number }> {
  const peer = await RawPeer.connect(port);
  const result = await peer.associate({ contexts: [{ id: 1, abstractSyntax: CR_IMAGE_STORAGE, transferSyntaxes: [transferSyntax] }] });
  expect(result).toMatchObject({ accepted: true, contexts: [{ id: 1, result: 0, transferSyntax }] });
  return { peer, fragment: result.accepted ? result.maxPduLength - 12 : 16_384 };
}

/** Peak RSS growth while `action` runs, after a first small object has warmed the receive path. */
async function peakGrowth(c: ServeChild, transferSyntax: string, action: (peer: RawPeer, fragment: number) => Promise<void>): Promise<number> {
  const { peer, fragment } = await associate(c.port, transferSyntax);
  const warm = newCrUids();
  const dataset = crDataset(warm);
  const first = await peer.cStore(1, {
    sopClassUid: CR_IMAGE_STORAGE,
    sopInstanceUid: warm.sop,
    dataset: transferSyntax === DEFLATED ? deflateRawSync(dataset) : dataset,
    fragment,
  });
  expect(first.status).toBe(0x0000);
  const before = c.peakRss();
  await action(peer, fragment);
  await peer.release();
  return c.peakRss() - before;
}

describe('memory bounds while reading headers', () => {
  it('reads the header behind a 3 MB private OB (past the first megabyte) up to Pixel Data, and stores the image', async () => {
    const n = await startTestNode();
    try {
      const uids = newCrUids();
      const dataset = crDataset(uids, Buffer.concat([privateObHeader(3 * MiB), Buffer.alloc(3 * MiB, 0x33)]));
      const { peer, fragment } = await associate(n.port, EXPLICIT);
      const r = await peer.cStore(1, { sopClassUid: CR_IMAGE_STORAGE, sopInstanceUid: uids.sop, dataset, fragment });
      await peer.release();
      expect(r.status).toBe(0x0000);
      // Analyzable: the attributes behind the OB (Rows, Pixel Data present) were read.
      expect(n.node.catalog.instanceVersions(uids.sop)).toEqual([expect.objectContaining({ version: 1 })]);
      expect(n.logs.filter((l) => l.includes('"msg":"C-STORE stored"') && l.includes(uids.sop) && l.includes('"disposition":"stored"'))).toHaveLength(1);
    } finally {
      await n.stop();
    }
  });

  it('refuses a deflated data set that inflates ~1000:1 past storage.maxInstanceBytes with 0xA700, without inflating it whole', async () => {
    const budget = 32 * MiB;
    const c = await serve(budget);
    const uids = newCrUids();
    const bomb = deflateBomb(uids, 512 * MiB);
    console.log(`deflate bomb: ${bomb.length} bytes on the wire, ${512 * MiB} inflated`);
    expect(bomb.length).toBeLessThan(MiB); // ~1000:1
    let status = -1;
    let comment = '';
    const growth = await peakGrowth(c, DEFLATED, async (peer, fragment) => {
      const r = await peer.cStore(1, { sopClassUid: CR_IMAGE_STORAGE, sopInstanceUid: uids.sop, dataset: bomb, fragment, timeoutMs: 60_000 });
      ({ status, errorComment: comment } = r);
    });
    console.log(`peak RSS growth: ${(growth / MiB).toFixed(1)} MiB (budget ${budget / MiB} MiB)`);
    expect({ exitCode: c.child.exitCode, tail: c.child.exitCode === null ? '' : outputTail(c.output()) }).toEqual({ exitCode: null, tail: '' });
    expect(status).toBe(0xa700);
    expect(comment).toMatch(/inflated data set exceeds/);
    expect(c.output()).toContain('"code":"INSTANCE_TOO_LARGE"');
    // Before: inflated whole (up to 1 GiB) and again by dcmjs, hundreds of MiB.
    expect(growth).toBeLessThan(3 * budget);
    expect(await echo(c)).toBe(0);
  });

  it('stores an object with a 160 MB private OB and no Pixel Data without holding it in memory', async () => {
    const c = await serve(256 * MiB);
    const uids = newCrUids();
    const size = 160 * MiB;
    const full = crDataset(uids, privateObHeader(size));
    const cut = full.indexOf(Buffer.from([0x21, 0x00, 0x00, 0x10, 0x4f, 0x42])) + 12;
    // No Pixel Data at all: the header walk must go through the whole object.
    const withoutPixels = full.subarray(0, full.indexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00])));
    const dataset = Buffer.concat([withoutPixels.subarray(0, cut), Buffer.alloc(size, 0x5a), withoutPixels.subarray(cut)]);
    let status = -1;
    const growth = await peakGrowth(c, EXPLICIT, async (peer, fragment) => {
      status = (await peer.cStore(1, { sopClassUid: CR_IMAGE_STORAGE, sopInstanceUid: uids.sop, dataset, fragment, timeoutMs: 120_000 })).status;
    });
    console.log(`peak RSS growth: ${(growth / MiB).toFixed(1)} MiB for a ${size / MiB} MiB element`);
    expect({ exitCode: c.child.exitCode, tail: c.child.exitCode === null ? '' : outputTail(c.output()) }).toEqual({ exitCode: null, tail: '' });
    expect(status).toBe(0x0000);
    expect(
      c
        .output()
        .split('\n')
        .filter((l) => l.includes('"msg":"C-STORE stored"') && l.includes(uids.sop)),
    ).toHaveLength(1);
    // Before: the file read whole and parsed by dcmjs, two to three times the element.
    expect(growth).toBeLessThan(size / 2);
    expect(await echo(c)).toBe(0);
    // Stored byte for byte: the file is the data set behind the File Meta Precedent wrote.
    const stored = readdirSync(join(c.dataDir, 'instances'), { recursive: true, encoding: 'utf8' }).filter((f) => f.includes(uids.sop));
    expect(stored).toHaveLength(1);
    const file = join(c.dataDir, 'instances', stored[0] as string);
    expect(statSync(file).size).toBeGreaterThan(dataset.length);
    const tail = readFileSync(file).subarray(-dataset.length);
    expect(tail.equals(dataset)).toBe(true);
  });
});
