import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkElementLengths, Truncated } from '../src/ingest/walk.js';
import { sharedDir } from './fixtures/build.js';

function element(group: number, el: number, vr: string, value: Buffer, longForm = false): Buffer {
  const head = Buffer.alloc(longForm ? 12 : 8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(el, 2);
  head.write(vr, 4, 'latin1');
  if (longForm) head.writeUInt32LE(value.length, 8);
  else head.writeUInt16LE(value.length, 6);
  return Buffer.concat([head, value]);
}

const real = readFileSync(join(sharedDir(), 'data', 'dicom', 'rsna-cr-chest-ap-jpeg-baseline.dcm'));
const realDataset = real.subarray(144 + real.readUInt32LE(140));

describe('element length walk', () => {
  it('accepts a real CR file with encapsulated JPEG pixel data', () => {
    expect(() => checkElementLengths(realDataset, true, true)).not.toThrow();
  });

  it('asks for the whole file when a prefix ends before Pixel Data, and accepts a prefix that reaches it', () => {
    expect(() => checkElementLengths(realDataset.subarray(0, 40), true, false)).toThrow(Truncated);
    const pixel = realDataset.indexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
    expect(pixel).toBeGreaterThan(0);
    expect(() => checkElementLengths(realDataset.subarray(0, pixel + 20), true, false)).not.toThrow();
  });

  it('rejects a declared length beyond the data', () => {
    const huge = Buffer.concat([element(0x0008, 0x0005, 'UN', Buffer.alloc(10), true)]);
    huge.writeUInt32LE(0xfffffff0, 8);
    expect(() => checkElementLengths(huge, true, true)).toThrow(/runs past the end/);
  });

  it('rejects an item length that overruns its sequence, and endless nesting', () => {
    const item = Buffer.alloc(8);
    item.writeUInt16LE(0xfffe, 0);
    item.writeUInt16LE(0xe000, 2);
    item.writeUInt32LE(1000, 4);
    expect(() => checkElementLengths(element(0x0008, 0x1140, 'SQ', item, true), true, true)).toThrow(/runs past the end/);

    let nested = element(0x0008, 0x0100, 'SH', Buffer.from('AB'));
    for (let i = 0; i < 40; i++) {
      const it = Buffer.alloc(8);
      it.writeUInt16LE(0xfffe, 0);
      it.writeUInt16LE(0xe000, 2);
      it.writeUInt32LE(nested.length, 4);
      nested = element(0x0008, 0x1140, 'SQ', Buffer.concat([it, nested]), true);
    }
    expect(() => checkElementLengths(nested, true, true)).toThrow(/nested too deeply/);
  });

  it('returns the raw top-level values asked for, one entry per occurrence, never those inside sequences', () => {
    const study = 0x0020000d;
    const item = Buffer.alloc(8);
    item.writeUInt16LE(0xfffe, 0);
    item.writeUInt16LE(0xe000, 2);
    const nested = element(0x0020, 0x000d, 'UI', Buffer.from('9.9\0', 'latin1'));
    item.writeUInt32LE(nested.length, 4);
    const data = Buffer.concat([
      element(0x0008, 0x1140, 'SQ', Buffer.concat([item, nested]), true),
      element(0x0020, 0x000d, 'UI', Buffer.from('1.2.840.99\\77.1', 'latin1')),
      element(0x0020, 0x000d, 'UI', Buffer.from('1.2\0', 'latin1')),
    ]);
    const raw = checkElementLengths(data, true, true, new Set([study]));
    expect(raw.get(study)?.map((b) => b.toString('latin1'))).toEqual(['1.2.840.99\\77.1', '1.2\0']);
  });

  it('rejects garbage VRs in explicit VR data', () => {
    expect(() => checkElementLengths(Buffer.from('0800050061626364', 'hex'), true, true)).toThrow(/invalid VR/);
  });
});
