// Data sets written byte by byte (Explicit VR Little Endian, PS3.5 7.1.2), so tests can send what
// no DICOM library would write: lying lengths, invalid or multi-valued UIDs, repeated elements.
import { randomUUID } from 'node:crypto';
import { EXPLICIT_VR_LE } from './raw-peer.js';

export const CR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.1';
export const CR_CONTEXT = { id: 1, abstractSyntax: CR_IMAGE_STORAGE, transferSyntaxes: [EXPLICIT_VR_LE] };

export const uid = (): string => `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;

/** One Explicit VR Little Endian element; `declaredLength` lies about the value's length. */
export function element(group: number, el: number, vr: string, value: Buffer, declaredLength?: number): Buffer {
  const long = ['OB', 'OD', 'OF', 'OL', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT'].includes(vr);
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(el, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(declaredLength ?? value.length, 8);
  else head.writeUInt16LE(declaredLength ?? value.length, 6);
  return Buffer.concat([head, value]);
}

export const text = (s: string, pad = 0x20): Buffer => Buffer.from(s.length % 2 === 0 ? s : s + String.fromCharCode(pad), 'latin1');
export const ui = (s: string): Buffer => text(s, 0);
export const us = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n, 0);
  return b;
};

export interface CrUids {
  sop: string;
  study: string;
  series: string;
}

export const newCrUids = (): CrUids => ({ sop: uid(), study: uid(), series: uid() });

/** A minimal, valid CR Image Storage data set: a frontal chest 2x2 image, 12 bits stored. */
export function crDataset(uids: CrUids, extra: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([
    element(0x0008, 0x0016, 'UI', ui(CR_IMAGE_STORAGE)),
    element(0x0008, 0x0018, 'UI', ui(uids.sop)),
    element(0x0008, 0x0060, 'CS', text('CR')),
    element(0x0010, 0x0010, 'PN', text('RAW^PEER')),
    element(0x0010, 0x0020, 'LO', text('RAW-0001')),
    element(0x0018, 0x0015, 'CS', text('CHEST')),
    element(0x0018, 0x5101, 'CS', text('PA')),
    element(0x0020, 0x000d, 'UI', ui(uids.study)),
    element(0x0020, 0x000e, 'UI', ui(uids.series)),
    extra,
    element(0x0028, 0x0002, 'US', us(1)),
    element(0x0028, 0x0004, 'CS', text('MONOCHROME2')),
    element(0x0028, 0x0010, 'US', us(2)),
    element(0x0028, 0x0011, 'US', us(2)),
    element(0x0028, 0x0100, 'US', us(16)),
    element(0x0028, 0x0101, 'US', us(12)),
    element(0x0028, 0x0102, 'US', us(11)),
    element(0x0028, 0x0103, 'US', us(0)),
    element(0x7fe0, 0x0010, 'OW', Buffer.from([0x00, 0x00, 0xff, 0x0f, 0x00, 0x08, 0x00, 0x04])),
  ]);
}

/** A Part 10 file around `dataset` (Explicit VR LE): what a STOW-RS client sends. */
export function part10(dataset: Buffer, sopInstanceUid: string, sopClassUid = CR_IMAGE_STORAGE): Buffer {
  const meta = Buffer.concat([
    element(0x0002, 0x0001, 'OB', Buffer.from([0, 1])),
    element(0x0002, 0x0002, 'UI', ui(sopClassUid)),
    element(0x0002, 0x0003, 'UI', ui(sopInstanceUid)),
    element(0x0002, 0x0010, 'UI', ui(EXPLICIT_VR_LE)),
  ]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(meta.length, 0);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), element(0x0002, 0x0000, 'UL', groupLength), meta, dataset]);
}
