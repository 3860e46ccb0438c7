// parseHeader reads the ingest attributes straight from the bytes (src/ingest/fast-header.ts) and
// falls back to dcmjs where it cannot be sure of reading them as dcmjs does. Its result must be
// deep-equal to the dcmjs reading for every object, and the fast reading must be the one taken for
// ordinary objects (else the speed-up silently disappears).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastHeaderCount, parseHeader, parseHeaderWithDcmjs } from '../src/ingest/header.js';
import { buildFixtures, checkCombination, PIXEL_VARIANTS, sharedDir, SYNTAX_NAMES, type Fixture, type FixtureSpec } from './fixtures/build.js';

const EXPLICIT = '1.2.840.10008.1.2.1';
const IMPLICIT = '1.2.840.10008.1.2';
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const UNDEFINED = 0xffffffff;

type Outcome = { result: unknown } | { error: string };
function outcome(f: () => unknown): Outcome {
  try {
    return { result: f() };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/** parseHeader and the dcmjs reading agree (result or error); returns which path parseHeader took. */
function compare(bytes: Buffer, complete: boolean, ts: string): 'fast' | 'dcmjs' {
  const before = fastHeaderCount.fast;
  const fast = outcome(() => parseHeader(bytes, complete, ts));
  const took = fastHeaderCount.fast > before ? 'fast' : 'dcmjs';
  expect(fast).toEqual(outcome(() => parseHeaderWithDcmjs(bytes, complete, ts)));
  return took;
}

// ---- Hand-built Part 10 objects: every byte chosen by the test ----

function tagBytes(tag: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16LE(tag >>> 16, 0);
  b.writeUInt16LE(tag & 0xffff, 2);
  return b;
}

/** One element; `length` overrides the written length (UNDEFINED for a sequence of undefined length). */
function el(explicit: boolean, tag: number, vr: string, value: Buffer | string, length?: number): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  const len = length ?? v.length;
  if (!explicit) {
    const h = Buffer.alloc(4);
    h.writeUInt32LE(len >>> 0, 0);
    return Buffer.concat([tagBytes(tag), h, v]);
  }
  if (LONG_VRS.has(vr)) {
    const h = Buffer.alloc(8);
    h.write(vr, 0, 'latin1');
    h.writeUInt32LE(len >>> 0, 4);
    return Buffer.concat([tagBytes(tag), h, v]);
  }
  const h = Buffer.alloc(4);
  h.write(vr, 0, 'latin1');
  h.writeUInt16LE(len, 2);
  return Buffer.concat([tagBytes(tag), h, v]);
}

function item(content: Buffer, undefinedLength: boolean): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(0xfffe, 0);
  h.writeUInt16LE(0xe000, 2);
  h.writeUInt32LE(undefinedLength ? UNDEFINED : content.length, 4);
  if (!undefinedLength) return Buffer.concat([h, content]);
  const end = Buffer.from([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0]);
  return Buffer.concat([h, content, end]);
}

function sequence(explicit: boolean, tag: number, items: Buffer[], undefinedLength: boolean): Buffer {
  const content = Buffer.concat(items);
  if (!undefinedLength) return el(explicit, tag, 'SQ', content);
  return Buffer.concat([el(explicit, tag, 'SQ', content, UNDEFINED), Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0])]);
}

function part10(ts: string, dataset: Buffer): Buffer {
  const uid = (s: string): string => (s.length % 2 ? `${s}\0` : s);
  const meta = Buffer.concat([
    el(true, 0x00020001, 'OB', Buffer.from([0, 1])),
    el(true, 0x00020002, 'UI', uid('1.2.840.10008.5.1.4.1.1.1.1')),
    el(true, 0x00020003, 'UI', uid('1.2.3.4.5')),
    el(true, 0x00020010, 'UI', uid(ts)),
  ]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(meta.length, 0);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), el(true, 0x00020000, 'UL', groupLength), meta, dataset]);
}

const us = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n, 0);
  return b;
};

type Value = Buffer | string | { vr: string; value: Buffer | string } | null;
/** The attributes of an ordinary DX image; a case overrides some (null removes one). */
const BASE: Record<string, [number, string, Value]> = {
  ImageType: [0x00080008, 'CS', 'ORIGINAL\\PRIMARY '],
  SOPClassUID: [0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.1.1\0'],
  SOPInstanceUID: [0x00080018, 'UI', '1.2.3.4.5\0'],
  StudyDate: [0x00080020, 'DA', '20240301'],
  StudyTime: [0x00080030, 'TM', '093000'],
  AccessionNumber: [0x00080050, 'SH', 'A123'],
  Modality: [0x00080060, 'CS', 'DX'],
  PresentationIntentType: [0x00080068, 'CS', 'FOR PRESENTATION'],
  ReferringPhysicianName: [0x00080090, 'PN', 'REF^DOC '],
  StudyDescription: [0x00081030, 'LO', 'CHEST PA'],
  SeriesDescription: [0x0008103e, 'LO', 'PA '],
  PatientName: [0x00100010, 'PN', 'DOE^JANE'],
  PatientID: [0x00100020, 'LO', 'PID-1 '],
  PatientBirthDate: [0x00100030, 'DA', '19700101'],
  PatientSex: [0x00100040, 'CS', 'F '],
  BodyPartExamined: [0x00180015, 'CS', 'chest '],
  ViewPosition: [0x00185101, 'CS', 'PA'],
  StudyInstanceUID: [0x0020000d, 'UI', '1.2.3.4\0'],
  SeriesInstanceUID: [0x0020000e, 'UI', '1.2.3.4.6\0'],
  StudyID: [0x00200010, 'SH', 'S1'],
  SeriesNumber: [0x00200011, 'IS', '1 '],
  InstanceNumber: [0x00200013, 'IS', '2 '],
  Rows: [0x00280010, 'US', us(4)],
  Columns: [0x00280011, 'US', us(4)],
  BitsAllocated: [0x00280100, 'US', us(8)],
};

interface Synth {
  explicit?: boolean;
  set?: Record<string, Value>;
  /** Extra raw elements, placed in tag order by their first 4 bytes. */
  extra?: (explicit: boolean) => Buffer[];
}

function synthesize({ explicit = true, set = {}, extra }: Synth): Buffer {
  const elements: Buffer[] = [];
  const attrs = { ...BASE };
  for (const [name, value] of Object.entries(set)) {
    const known = attrs[name];
    if (!known) throw new Error(`unknown attribute ${name}`);
    attrs[name] = [known[0], known[1], value];
  }
  for (const [tag, vr, value] of Object.values(attrs)) {
    if (value === null) continue;
    if (typeof value === 'object' && !Buffer.isBuffer(value)) elements.push(el(explicit, tag, value.vr, value.value));
    else elements.push(el(explicit, tag, vr, value));
  }
  elements.push(...(extra?.(explicit) ?? []));
  elements.push(el(explicit, 0x7fe00010, 'OW', Buffer.alloc(32)));
  const key = (b: Buffer): number => ((b.readUInt16LE(0) << 16) | b.readUInt16LE(2)) >>> 0;
  elements.sort((a, b) => key(a) - key(b));
  return part10(explicit ? EXPLICIT : IMPLICIT, Buffer.concat(elements));
}

const charset = (value: string) => (explicit: boolean) => [el(explicit, 0x00080005, 'CS', value)];
/** Padded to even lengths, as PS3.5 7.1 asks: dcmjs finds the end of an undefined-length item by 16-bit words. */
const even = (s: string): string => (s.length % 2 ? `${s} ` : s);
const code = (explicit: boolean, scheme: string, value: string): Buffer =>
  Buffer.concat([el(explicit, 0x00080100, 'SH', even(value)), el(explicit, 0x00080102, 'SH', even(scheme))]);
const regions = (undefinedItems: boolean, undefinedSequence: boolean) => (explicit: boolean) => [
  sequence(
    explicit,
    0x00082218,
    [item(code(explicit, 'SCT', '51185008'), undefinedItems), item(code(explicit, 'SRT ', 'T-D3000'), undefinedItems)],
    undefinedSequence,
  ),
];
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Read fast: the reading must match dcmjs's and must not have fallen back. */
const FAST: Record<string, Synth> = {
  'ordinary, explicit VR': {},
  'ordinary, implicit VR': { explicit: false },
  'NUL and space padding': {
    set: {
      Modality: 'DX\0',
      BodyPartExamined: ' CHEST\0',
      PatientID: 'P1\0 ',
      AccessionNumber: ' A1 ',
      StudyInstanceUID: '1.2.3.4 \0',
      PatientName: 'DOE^JOHN\0',
    },
  },
  'multi-valued strings': {
    set: {
      ImageType: 'derived\\ SECONDARY \\\\X',
      PatientID: 'A \\B',
      StudyDescription: ' \\B',
      SeriesInstanceUID: '1.2.3\\1.2.4',
      StudyDate: '20240301\\20240302',
      SeriesNumber: '3\\4',
    },
  },
  'PN component groups': { set: { PatientName: 'Yamada^Tarou=YAMADA=yamada', ReferringPhysicianName: 'DOE^JANE== ' } },
  'PN ideographic only, more than three groups, empty first value': { set: { PatientName: '=ONLY', ReferringPhysicianName: 'A=B=C=D' } },
  'PN whose last group is spaces (dcmjs drops one pad byte, keeps the rest)': { set: { PatientName: 'X=  ', ReferringPhysicianName: 'Y==  ' } },
  'PN whose first value is empty': { set: { PatientName: '\\SECOND^NAME' } },
  'PN that is only padding': { set: { PatientName: ' ', ReferringPhysicianName: '\\' } },
  'ISO_IR 192 names': {
    set: { PatientName: utf8('Müller^Jürgen=山田^太郎=やまだ^たろう '), StudyDescription: utf8('Thorax – p.a. '), PatientID: utf8('ß1') },
    extra: charset('ISO_IR 192'),
  },
  'ISO_IR 192, implicit VR': { explicit: false, set: { PatientName: utf8('Ærøskøbing^Åse') }, extra: charset('ISO_IR 192') },
  'ISO_IR 100 names, with windows-1252 bytes': {
    set: { PatientName: latin1('M\xfcller^J\xfcrgen\x80\x9f'), StudyDescription: latin1('Poumons \xe9 '), AccessionNumber: latin1('\xa0A1') },
    extra: charset('ISO_IR 100'),
  },
  'no Specific Character Set, high bytes': { set: { PatientName: latin1('G\xf6del^Kurt'), PatientID: latin1('\x85') } },
  'ISO_IR 6 and an empty Specific Character Set': { set: { PatientName: 'A^B' }, extra: charset('ISO_IR 6') },
  'empty Specific Character Set': { set: { PatientName: latin1('\xe9') }, extra: charset('  ') },
  'attributes missing': {
    set: Object.fromEntries(
      Object.keys(BASE)
        .filter((k) => !/UID$/.test(k))
        .map((k) => [k, null]),
    ),
  },
  'attributes empty': {
    set: Object.fromEntries(Object.keys(BASE).map((k) => [k, ''])),
  },
  'IS with spaces, sign, exponent and junk': {
    set: { SeriesNumber: ' +12 ', InstanceNumber: '  7', Rows: { vr: 'US', value: us(65535) } },
    extra: (explicit) => [el(explicit, 0x00280008, 'IS', '1e2 ')],
  },
  'IS not an integer': { set: { SeriesNumber: '1.5', InstanceNumber: 'abc' }, extra: (explicit) => [el(explicit, 0x00280008, 'IS', '-')] },
  'IS too large': { set: { SeriesNumber: '99999999999999999' } },
  'US with two values': { set: { Rows: { vr: 'US', value: Buffer.concat([us(7), us(9)]) } } },
  'US empty, implicit VR': { explicit: false, set: { Rows: Buffer.alloc(0) } },
  'Anatomic Region Sequence, defined lengths': { extra: regions(false, false) },
  'Anatomic Region Sequence, undefined lengths': { extra: regions(true, true) },
  'Anatomic Region Sequence, undefined lengths, implicit VR': { explicit: false, extra: regions(true, true) },
  'Anatomic Region Sequence, defined items in an undefined-length sequence': { extra: regions(false, true) },
  'Anatomic Region Sequence, implicit VR defined lengths': { explicit: false, extra: regions(false, false) },
  'Anatomic Region Sequence, empty, with an empty item and an item without a scheme': {
    extra: (explicit) => [
      sequence(explicit, 0x00082218, [item(Buffer.alloc(0), true), item(Buffer.alloc(0), false), item(el(explicit, 0x00080100, 'SH', 'X '), false)], true),
    ],
  },
  'Anatomic Region Sequence, undefined-length items in a defined-length sequence': { extra: regions(true, false) },
  'Anatomic Region Sequence of no items': { extra: (explicit) => [sequence(explicit, 0x00082218, [], false)] },
  'Anatomic Region Sequence, ISO_IR 192 at the top level (items read in the default charset)': {
    set: { PatientName: utf8('É^É') },
    extra: (explicit) => [...charset('ISO_IR 192')(explicit), sequence(explicit, 0x00082218, [item(code(explicit, 'S\xc3\xa9', 'V\xe9'), true)], true)],
  },
  'other sequences, nested, with pixel data in an item': {
    extra: (explicit) => [
      sequence(
        explicit,
        0x00081140,
        [
          item(
            Buffer.concat([el(explicit, 0x00081150, 'UI', '1.2\0'), sequence(explicit, 0x00081199, [item(el(explicit, 0x00100010, 'PN', 'X '), true)], true)]),
            true,
          ),
        ],
        true,
      ),
      sequence(
        explicit,
        0x00880200,
        [item(Buffer.concat([el(explicit, 0x00280010, 'US', us(2)), el(explicit, 0x7fe00010, 'OB', Buffer.alloc(4))]), false)],
        false,
      ),
    ],
  },
  'private elements': {
    extra: (explicit) => [
      el(explicit, 0x00090010, 'LO', 'ACME 1.0'),
      el(explicit, 0x00091001, 'UN', Buffer.from([1, 2, 3, 4])),
      el(explicit, 0x00091002, 'OB', Buffer.alloc(3)),
    ],
  },
};

/** Left to dcmjs: the fast reading must not be taken, and the result is still dcmjs's. */
const FALLBACK: Record<string, Synth> = {
  'ISO 2022 IR 87': { set: { PatientName: Buffer.from('\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B', 'latin1') }, extra: charset('ISO 2022 IR 87') },
  GB18030: { set: { PatientName: Buffer.from([0xd5, 0xc5, 0x5e, 0xc8, 0xfd]) }, extra: charset('GB18030') },
  'code extensions': { extra: charset('\\ISO 2022 IR 87') },
  'Specific Character Set in an item': {
    extra: (explicit) => [
      sequence(explicit, 0x00082218, [item(Buffer.concat([el(explicit, 0x00080005, 'CS', 'ISO_IR 192'), code(explicit, 'SCT', '1')]), false)], false),
    ],
  },
  'a needed tag twice': { extra: (explicit) => [el(explicit, 0x00080060, 'CS', 'CT')] },
  'a needed tag with another VR': { set: { Modality: { vr: 'LO', value: 'DX' } } },
  'a needed tag as UN': { set: { PatientName: { vr: 'UN', value: 'DOE' } } },
  'US of odd length': { set: { Rows: { vr: 'US', value: Buffer.from([1, 2, 3]) } } },
  'an unknown VR': { extra: (explicit) => [el(explicit, 0x00091001, 'ZZ', 'ab')] },
  'an odd-length value in an undefined-length item (dcmjs then misplaces the item delimiter)': {
    extra: (explicit) => [sequence(explicit, 0x00082218, [item(el(explicit, 0x00080102, 'SH', 'SCT'), true)], true)],
  },
};

describe('parseHeader reads as dcmjs does', () => {
  for (const [name, synth] of Object.entries(FAST)) {
    it(`${name}: fast, and deep-equal to dcmjs`, () => {
      const bytes = synthesize(synth);
      const ts = synth.explicit === false ? IMPLICIT : EXPLICIT;
      expect(compare(bytes, true, ts)).toBe('fast');
      expect(compare(bytes, false, ts)).toBe('fast');
    });
  }

  for (const [name, synth] of Object.entries(FALLBACK)) {
    it(`${name}: left to dcmjs`, () => {
      const bytes = synthesize(synth);
      expect(compare(bytes, true, synth.explicit === false ? IMPLICIT : EXPLICIT)).toBe('dcmjs');
    });
  }

  it('decodes what the cases above set (the comparison is not of two empty results)', () => {
    const read = (synth: Synth) => parseHeader(synthesize(synth), true, synth.explicit === false ? IMPLICIT : EXPLICIT);
    expect(read(FAST['ISO_IR 192 names'] as Synth)?.query.PatientName).toBe('Müller^Jürgen=山田^太郎=やまだ^たろう');
    // dcmjs's 'latin1' TextDecoder: windows-1252 per WHATWG, but Node 20 decodes 0x80-0x9F as C1 controls.
    const c1 = new TextDecoder('latin1').decode(Buffer.from([0x80, 0x9f]));
    expect(read(FAST['ISO_IR 100 names, with windows-1252 bytes'] as Synth)?.query.PatientName).toBe(`Müller^Jürgen${c1}`);
    expect(read(FAST['Anatomic Region Sequence, undefined lengths, implicit VR'] as Synth)?.header.AnatomicRegionCodes).toEqual([
      'SCT:51185008',
      'SRT:T-D3000',
    ]);
    expect(read(FAST['IS with spaces, sign, exponent and junk'] as Synth)?.query).toMatchObject({
      SeriesNumber: 12,
      InstanceNumber: 7,
      NumberOfFrames: 100,
      Rows: 65535,
    });
    expect(read(FAST['multi-valued strings'] as Synth)?.header.ImageType).toEqual(['DERIVED', 'SECONDARY', '', 'X']);
    expect(read(FAST['US empty, implicit VR'] as Synth)?.query.Rows).toBe(0);
  });

  it('a data set whose File Meta says another syntax than the association is left to dcmjs', () => {
    const bytes = synthesize({});
    expect(compare(bytes, true, IMPLICIT)).toBe('dcmjs');
  });

  it('a prefix that ends before Pixel Data is undefined either way', () => {
    const bytes = synthesize({});
    expect(parseHeader(bytes.subarray(0, 300), false, EXPLICIT)).toBeUndefined();
    expect(compare(bytes.subarray(0, 300), false, EXPLICIT)).toBe('dcmjs');
  });
});

describe('parseHeader on real objects', () => {
  let dir = '';
  let fixtures: Fixture[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(os.tmpdir(), 'precedent-fast-header-'));
    const specs: FixtureSpec[] = [];
    for (const variant of PIXEL_VARIANTS) {
      for (const syntax of SYNTAX_NAMES) {
        try {
          checkCombination(variant, syntax);
        } catch {
          continue; // a syntax that cannot carry the variant's bits
        }
        specs.push({ variant, syntax });
      }
    }
    fixtures = await buildFixtures(specs, dir);
  }, 300_000);
  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('every fixture variant and syntax: the fast reading, deep-equal to dcmjs, whole and as a 64 KB prefix', async () => {
    expect(fixtures.length).toBeGreaterThan(SYNTAX_NAMES.length);
    for (const fx of fixtures) {
      const bytes = await readFile(fx.path);
      const expected = fx.syntax === 'deflate' ? 'dcmjs' : 'fast';
      expect([fx.variant, fx.syntax, compare(bytes, true, fx.transferSyntaxUID)]).toEqual([fx.variant, fx.syntax, expected]);
      const head = bytes.subarray(0, 65536);
      const took = compare(head, head.length === bytes.length, fx.transferSyntaxUID);
      if (fx.syntax !== 'deflate') expect([fx.variant, fx.syntax, took]).toEqual([fx.variant, fx.syntax, 'fast']);
    }
  });

  it('the real CR file', () => {
    const real = readFileSync(join(sharedDir(), 'data', 'dicom', 'rsna-cr-chest-ap-jpeg-baseline.dcm'));
    const ts = '1.2.840.10008.1.2.4.50';
    expect(compare(real, true, ts)).toBe('fast');
    expect(compare(Buffer.from(real.subarray(0, 65536)), false, ts)).toBe('fast');
    expect(parseHeader(real, true, ts)?.query.Modality).toBe('CR');
  });
});
