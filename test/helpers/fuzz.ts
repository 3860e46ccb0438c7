// Seeded mutations for the fuzz suite (test/dimse-fuzz.test.ts): A-ASSOCIATE-RQ fields and item
// types, P-DATA-TF fragments and lengths, and C-STORE data sets (truncations, bad VRs, lying lengths,
// nested sequences, repeats, flips). Deterministic per seed, so a failing case can be replayed.
import { associateRq, cStoreRq, pdu, pDataTf, PDU, EXPLICIT_VR_LE } from './raw-peer.js';
import { CR_CONTEXT, element } from './raw-dataset.js';

/** mulberry32: small, fast, good enough to pick mutations. */
export function rng(seed: number): { int: (n: number) => number; pick: <T>(xs: readonly T[]) => T; bytes: (n: number) => Buffer } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return { int, pick: (xs) => xs[int(xs.length)] as (typeof xs)[number], bytes: (n) => Buffer.from(Array.from({ length: n }, () => int(256))) };
}
export type Rng = ReturnType<typeof rng>;

export const VERIFICATION_CONTEXT = { id: 3, abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: [EXPLICIT_VR_LE] };
const body = (p: Buffer): Buffer => p.subarray(6);
const withLength = (type: number, b: Buffer): Buffer => pdu(type, b);

/** Item offsets (type, length) in an A-ASSOCIATE-RQ body after the 68-byte fixed part. */
function items(b: Buffer): number[] {
  const out: number[] = [];
  for (let off = 68; off + 4 <= b.length; off += 4 + b.readUInt16BE(off + 2)) out.push(off);
  return out;
}

export const ASSOCIATE_CLASSES = [
  'flip',
  'protocol',
  'item-type',
  'item-length',
  'contexts',
  'truncate',
  'pdu-length',
  'pdu-type',
  'ae-titles',
  'max-length',
  'garbage',
] as const;

/** A mutated A-ASSOCIATE-RQ (or what stands in its place). */
export function mutateAssociate(r: Rng, kind: (typeof ASSOCIATE_CLASSES)[number]): Buffer {
  const valid = associateRq({ calledAE: 'PRECEDENT', callingAE: 'FUZZ', contexts: [CR_CONTEXT, VERIFICATION_CONTEXT] });
  const b = Buffer.from(body(valid));
  const its = items(b);
  switch (kind) {
    case 'flip':
      for (let i = 0, n = 1 + r.int(4); i < n; i++) b[r.int(b.length)] = r.int(256);
      return withLength(PDU.ASSOCIATE_RQ, b);
    case 'protocol':
      b.writeUInt16BE(r.int(0x10000), 0);
      return withLength(PDU.ASSOCIATE_RQ, b);
    case 'item-type':
      b[r.pick(its)] = r.pick([0x10, 0x20, 0x21, 0x30, 0x40, 0x50, 0x51, 0x52, 0x55, 0x00, 0xff, r.int(256)]);
      return withLength(PDU.ASSOCIATE_RQ, b);
    case 'item-length': {
      const at = r.pick(its);
      b.writeUInt16BE(r.pick([0, 1, 2, 3, 0xffff, b.readUInt16BE(at + 2) + 1 + r.int(8), Math.max(0, b.readUInt16BE(at + 2) - 1 - r.int(8))]) & 0xffff, at + 2);
      return withLength(PDU.ASSOCIATE_RQ, b);
    }
    case 'contexts': {
      const n = 1 + r.int(200);
      const contexts = Array.from({ length: n }, () => ({
        id: r.pick([1, 3, 255, 0, 2, r.int(256)]),
        abstractSyntax: r.pick([CR_CONTEXT.abstractSyntax, '1.2.840.10008.1.1', '', '9.9', 'x'.repeat(r.int(80))]),
        transferSyntaxes: r.pick([[EXPLICIT_VR_LE], [], ['1.2.3'], [EXPLICIT_VR_LE, '1.2.840.10008.1.2']]),
      }));
      return associateRq({ calledAE: 'PRECEDENT', callingAE: 'FUZZ', contexts });
    }
    case 'truncate':
      return withLength(PDU.ASSOCIATE_RQ, b.subarray(0, r.int(b.length)));
    case 'pdu-length': {
      const p = Buffer.from(valid);
      p.writeUInt32BE(r.pick([0, 1, 67, 0xffffffff, 0x7fffffff, b.length + 1 + r.int(1000), Math.max(0, b.length - 1 - r.int(60))]) >>> 0, 2);
      return p;
    }
    case 'pdu-type': {
      const p = Buffer.from(valid);
      p[0] = r.pick([0x00, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x55, 0xff, r.int(256)]);
      return p;
    }
    case 'ae-titles':
      r.bytes(16).copy(b, r.pick([4, 20]));
      return withLength(PDU.ASSOCIATE_RQ, b);
    case 'max-length': {
      const at = b.indexOf(Buffer.from([0x51, 0x00, 0x00, 0x04]));
      b.writeUInt32BE(r.pick([0, 1, 4, 6, 0xffffffff, r.int(0x100000000)]) >>> 0, at + 4);
      return withLength(PDU.ASSOCIATE_RQ, b);
    }
    case 'garbage':
      return r.bytes(r.int(300));
  }
}

/** True when `bytes` hold at least one complete PDU (the node can answer without waiting for more). */
export const completePdu = (bytes: Buffer): boolean => bytes.length >= 6 && bytes.length >= 6 + bytes.readUInt32BE(2);

export const PDATA_CLASSES = ['pdv-length', 'control', 'context', 'data-first', 'command-flip', 'split-command', 'unknown-pdu'] as const;

/** A C-STORE command (or a broken one) as raw P-DATA-TF bytes on an association with CR_CONTEXT (1) and Verification (3). */
export function mutatePData(r: Rng, kind: (typeof PDATA_CLASSES)[number], sopInstanceUid: string): Buffer {
  const command = cStoreRq({ sopClassUid: CR_CONTEXT.abstractSyntax, sopInstanceUid, messageId: 1 + r.int(1000) });
  const good = pDataTf([{ contextId: 1, command: true, last: true, data: command }]);
  switch (kind) {
    case 'pdv-length': {
      const p = Buffer.from(good);
      p.writeUInt32BE(r.pick([0, 1, 2, 0xffffffff, command.length + 3 + r.int(100), r.int(command.length)]) >>> 0, 6);
      return p;
    }
    case 'control':
      return pDataTf([{ contextId: 1, command: r.int(2) === 1, last: r.int(2) === 1, data: command }]).fill(r.int(256), 11, 12);
    case 'context':
      return pDataTf([{ contextId: r.pick([0, 2, 3, 5, 255, r.int(256)]), command: true, last: true, data: command }]);
    case 'data-first':
      return pDataTf([{ contextId: 1, command: false, last: r.int(2) === 1, data: r.bytes(r.int(200)) }]);
    case 'command-flip': {
      const c = Buffer.from(command);
      for (let i = 0, n = 1 + r.int(6); i < n; i++) c[r.int(c.length)] = r.int(256);
      return pDataTf([{ contextId: 1, command: true, last: true, data: c }]);
    }
    case 'split-command': {
      const cut = r.int(command.length);
      return Buffer.concat([
        pDataTf([{ contextId: 1, command: true, last: false, data: command.subarray(0, cut) }]),
        pDataTf([{ contextId: r.pick([1, 3]), command: r.int(4) > 0, last: true, data: command.subarray(cut) }]),
      ]);
    }
    case 'unknown-pdu':
      return pdu(r.pick([0x00, 0x01, 0x02, 0x03, 0x08, 0x44, 0xff]), r.bytes(r.int(100)));
  }
}

export const DATASET_CLASSES = ['truncate', 'bad-vr', 'length', 'nested', 'flip', 'repeat', 'insert'] as const;

/** Offsets of the top-level elements of an Explicit VR LE data set without sequences. */
function elementOffsets(ds: Buffer): number[] {
  const out: number[] = [];
  for (let off = 0; off + 8 <= ds.length;) {
    out.push(off);
    const vr = ds.toString('latin1', off + 4, off + 6);
    const long = ['OB', 'OW', 'SQ', 'UN', 'UT'].includes(vr);
    off += long ? 12 + ds.readUInt32LE(off + 8) : 8 + ds.readUInt16LE(off + 6);
  }
  return out;
}

/** A sequence nested `depth` deep, lengths defined, undefined, or wrong. */
function nestedSequence(r: Rng, depth: number): Buffer {
  let inner = element(0x0008, 0x0100, 'SH', Buffer.from('CODE01'));
  for (let d = 0; d < depth; d++) {
    const undefinedLength = r.int(2) === 1;
    const item = Buffer.alloc(8);
    item.writeUInt16LE(0xfffe, 0);
    item.writeUInt16LE(0xe000, 2);
    item.writeUInt32LE(undefinedLength ? 0xffffffff : inner.length + r.pick([0, 0, 0, 1, -1, 100]), 4);
    const itemEnd = undefinedLength && r.int(8) > 0 ? Buffer.from([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0]) : Buffer.alloc(0);
    const items = Buffer.concat([item, inner, itemEnd]);
    const seqEnd = undefinedLength && r.int(8) > 0 ? Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]) : Buffer.alloc(0);
    inner = Buffer.concat([
      element(0x0008, 0x2218, 'SQ', Buffer.alloc(0), undefinedLength ? 0xffffffff : items.length + r.pick([0, 0, 0, 2, -2])),
      items,
      seqEnd,
    ]);
    inner = Buffer.from(inner);
  }
  return inner;
}

export function mutateDataset(r: Rng, kind: (typeof DATASET_CLASSES)[number], ds: Buffer): Buffer {
  const offsets = elementOffsets(ds);
  const at = r.pick(offsets);
  const b = Buffer.from(ds);
  switch (kind) {
    case 'truncate':
      return b.subarray(0, r.int(b.length));
    case 'bad-vr':
      b.write(r.pick(['XX', 'ob', '\0\0', 'SQ', 'UN', 'OB', 'UT', '  ']), at + 4, 'latin1');
      return b;
    case 'length': {
      const long = ['OB', 'OW', 'SQ', 'UN', 'UT'].includes(b.toString('latin1', at + 4, at + 6));
      if (long) b.writeUInt32LE(r.pick([0, 1, 0xffffffff, 0xfffffff0, r.int(0x100000000)]) >>> 0, at + 8);
      else b.writeUInt16LE(r.pick([0, 1, 0xffff, r.int(0x10000)]), at + 6);
      return b;
    }
    case 'nested':
      return Buffer.concat([b.subarray(0, at), nestedSequence(r, 1 + r.int(40)), b.subarray(at)]);
    case 'flip':
      for (let i = 0, n = 1 + r.int(8); i < n; i++) b[r.int(b.length)] = r.int(256);
      return b;
    case 'repeat': {
      const next = offsets[offsets.indexOf(at) + 1] ?? b.length;
      return Buffer.concat([b.subarray(0, next), b.subarray(at, next), b.subarray(next)]);
    }
    case 'insert':
      return Buffer.concat([b.subarray(0, at), r.bytes(1 + r.int(40)), b.subarray(at)]);
  }
}
