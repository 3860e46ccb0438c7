// A bounded, seeded fuzz run of the DIMSE edge (issue 12), part of every test run: mutated
// A-ASSOCIATE-RQs, P-DATA-TF fragments and C-STORE data sets over raw sockets to one node. Every case
// must get an answer (A-ASSOCIATE-AC/RJ, A-ABORT, a DIMSE status, or the connection closed once the
// peer stops sending an incomplete PDU); afterwards dcmtk's echoscu is served, and every object
// acknowledged with Success is in the catalog and on disk byte for byte, and nothing else is.
// The seeds are fixed and printed: a failure names its seed, class and case number to replay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestNode, type TestNode } from './helpers/node.js';
import { echo } from './helpers/wait.js';
import { PDU, RawPeer, pdu } from './helpers/raw-peer.js';
import { CR_CONTEXT, CR_IMAGE_STORAGE, crDataset, type CrUids } from './helpers/raw-dataset.js';
import {
  ASSOCIATE_CLASSES,
  DATASET_CLASSES,
  PDATA_CLASSES,
  VERIFICATION_CONTEXT,
  completePdu,
  mutateAssociate,
  mutateDataset,
  mutatePData,
  rng,
} from './helpers/fuzz.js';

const SEEDS = { associate: 0x12a55, pdata: 0x12da7a, dataset: 0x12d5e7 } as const;
const COUNTS = { associate: 1200, pdata: 400, dataset: 1000 } as const;
const PARALLEL = 8;

let node: TestNode;
beforeAll(async () => {
  console.log(`DIMSE fuzz seeds: ${JSON.stringify(SEEDS)}, cases: ${JSON.stringify(COUNTS)}`);
  // keepIgnored: every object acknowledged with Success has a file, so files and catalog rows compare 1:1.
  node = await startTestNode({ storage: { keepIgnored: true }, dimse: { artimSeconds: 5 } });
});
afterAll(async () => {
  await node.stop();
});

const NAMES: Record<number, string> = {
  [PDU.ASSOCIATE_AC]: 'A-ASSOCIATE-AC',
  [PDU.ASSOCIATE_RJ]: 'A-ASSOCIATE-RJ',
  [PDU.P_DATA_TF]: 'P-DATA-TF',
  [PDU.RELEASE_RP]: 'A-RELEASE-RP',
  [PDU.ABORT]: 'A-ABORT',
};

/** The node's first answer to `bytes`; for a PDU the node cannot answer yet, the close after our EOF. */
async function answerTo(peer: RawPeer, bytes: Buffer, thenRelease: boolean): Promise<string> {
  await peer.send(bytes).catch(() => undefined);
  const next = async (ms: number): Promise<string | undefined> => {
    try {
      const p = await peer.nextPdu(ms);
      return NAMES[p.type] ?? `PDU 0x${p.type.toString(16)}`;
    } catch (err) {
      return peer.isClosed ? 'closed' : /no PDU within/.test(String(err)) ? undefined : 'closed';
    }
  };
  if (completePdu(bytes)) {
    const first = await next(300);
    if (first) return first;
    // A message still incomplete (a command waiting for its data set): the node must answer a release.
    if (thenRelease) {
      await peer.send(pdu(PDU.RELEASE_RQ, Buffer.alloc(4))).catch(() => undefined);
      const released = await next(5000);
      if (released) return `${released} (after A-RELEASE-RQ)`;
    }
  }
  peer.socket.end();
  return (await next(5000)) === undefined ? 'no answer' : 'closed after EOF';
}

/** Runs cases 0..count-1, PARALLEL at a time. */
async function inParallel<T>(count: number, run: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      for (let i = next++; i < count; i = next++) out[i] = await run(i);
    }),
  );
  return out;
}

const tally = (xs: string[]): Record<string, number> => xs.reduce<Record<string, number>>((acc, x) => ({ ...acc, [x]: (acc[x] ?? 0) + 1 }), {});
const uidsFor = (seed: number, i: number): CrUids => ({
  sop: `2.25.${seed}${1000000 + i}1`,
  study: `2.25.${seed}${1000000 + i}2`,
  series: `2.25.${seed}${1000000 + i}3`,
});
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('DIMSE fuzz (seeded, bounded)', () => {
  it(`answers ${COUNTS.associate} mutated A-ASSOCIATE-RQs (seed ${SEEDS.associate})`, async () => {
    const outcomes = await inParallel(COUNTS.associate, async (i) => {
      const r = rng(SEEDS.associate + i);
      const kind = r.pick(ASSOCIATE_CLASSES);
      const peer = await RawPeer.connect(node.port);
      try {
        const answer = await answerTo(peer, mutateAssociate(r, kind), false);
        return `${kind}: ${answer}`;
      } finally {
        peer.destroy();
      }
    });
    console.log('A-ASSOCIATE-RQ outcomes', tally(outcomes.map((o) => o.replace(/^[^:]+: /, ''))));
    expect(outcomes.filter((o) => o.endsWith('no answer'))).toEqual([]);
    expect(await echo(node)).toBe(0);
  }, 120_000);

  it(`answers ${COUNTS.pdata} mutated P-DATA-TF PDUs on accepted associations (seed ${SEEDS.pdata})`, async () => {
    const outcomes = await inParallel(COUNTS.pdata, async (i) => {
      const r = rng(SEEDS.pdata + i);
      const kind = r.pick(PDATA_CLASSES);
      const peer = await RawPeer.connect(node.port);
      try {
        const associated = await peer.associate({ callingAE: 'FUZZ', contexts: [CR_CONTEXT, VERIFICATION_CONTEXT] });
        if (!associated.accepted) return `${kind}: association refused`;
        return `${kind}: ${await answerTo(peer, mutatePData(r, kind, uidsFor(SEEDS.pdata, i).sop), true)}`;
      } finally {
        peer.destroy();
      }
    });
    console.log('P-DATA-TF outcomes', tally(outcomes.map((o) => o.replace(/^[^:]+: /, ''))));
    expect(outcomes.filter((o) => o.endsWith('no answer') || o.endsWith('association refused'))).toEqual([]);
    expect(await echo(node)).toBe(0);
  }, 120_000);

  it(`answers ${COUNTS.dataset} mutated C-STORE data sets with a status, and loses or corrupts nothing it accepted (seed ${SEEDS.dataset})`, async () => {
    const accepted: Array<{ sop: string; sha256: string; length: number }> = [];
    const statuses: string[] = [];
    const workers = PARALLEL;
    await Promise.all(
      Array.from({ length: workers }, async (_, w) => {
        let peer: RawPeer | undefined;
        for (let i = w; i < COUNTS.dataset; i += workers) {
          const r = rng(SEEDS.dataset + i);
          const kind = r.pick(DATASET_CLASSES);
          const uids = uidsFor(SEEDS.dataset, i);
          const dataset = mutateDataset(r, kind, crDataset(uids));
          if (!peer) {
            peer = await RawPeer.connect(node.port);
            expect((await peer.associate({ callingAE: 'FUZZ', contexts: [CR_CONTEXT] })).accepted, `case ${i}: association`).toBe(true);
          }
          try {
            const response = await peer.cStore(1, { sopClassUid: CR_IMAGE_STORAGE, sopInstanceUid: uids.sop, dataset, timeoutMs: 15_000 });
            statuses.push(`0x${response.status.toString(16).padStart(4, '0')}`);
            if (response.status === 0) accepted.push({ sop: uids.sop, sha256: sha(dataset), length: dataset.length });
          } catch (err) {
            const message = String(err);
            // An A-ABORT (or a close) is an answer too; anything else (a timeout) is not.
            expect(message, `case ${i} (${kind}) got no answer`).toMatch(/A-ABORT received|connection closed/);
            statuses.push('A-ABORT');
            peer.destroy();
            peer = undefined;
          }
        }
        if (peer) await peer.release();
      }),
    );
    console.log(`C-STORE outcomes over ${COUNTS.dataset} cases`, tally(statuses));
    expect(statuses).toHaveLength(COUNTS.dataset);
    expect(accepted.length).toBeGreaterThan(0);

    // Catalog rows equal files: every Success is there once, byte for byte, and nothing else.
    const { catalog } = node.node;
    for (const a of accepted) {
      const versions = catalog.instanceVersions(a.sop);
      const path = join(node.dataDir, versions[0]?.path ?? 'missing');
      const file = existsSync(path) ? readFileSync(path) : Buffer.alloc(0);
      expect({ sop: a.sop, rows: versions.map((v) => v.sha256), file: sha(file.subarray(Math.max(0, file.length - a.length))) }).toEqual({
        sop: a.sop,
        rows: [a.sha256],
        file: a.sha256,
      });
    }
    expect(catalog.instanceCount()).toBe(accepted.length);
    const files = readdirSync(join(node.dataDir, 'instances'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(files).toHaveLength(accepted.length);
    expect(readdirSync(join(node.dataDir, 'tmp')).filter((f) => f.endsWith('.part'))).toEqual([]);
    expect(await echo(node)).toBe(0);
  }, 120_000);
});
