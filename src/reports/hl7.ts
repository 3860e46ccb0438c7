// HL7 v2 messages (v2.3 to v2.8): segments, fields, repetitions, components and escape sequences as
// declared by the message's own MSH-1/MSH-2, and the acknowledgement (original mode ACK with MSA).
// Only what an ORU^R01 radiology report needs; docs/conformance.md gives the message profile.

export interface Hl7Separators {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
}

export interface Hl7Segment {
  name: string;
  /** fields[n] is SEG-n (for MSH, fields[1] is MSH-1, the field separator itself). Raw, still escaped. */
  fields: string[];
}

export interface Hl7Message {
  separators: Hl7Separators;
  segments: Hl7Segment[];
}

export class Hl7ParseError extends Error {}

export function parseHl7(text: string): Hl7Message {
  const lines = text.split(/\r\n|\r|\n/).filter((l) => l.trim() !== '');
  const msh = lines[0];
  if (!msh?.startsWith('MSH') || msh.length < 8) throw new Hl7ParseError('the message does not start with an MSH segment');
  const field = msh[3]!;
  const encoding = msh.slice(4, msh.indexOf(field, 4));
  if (encoding.length < 4) throw new Hl7ParseError('MSH-2 does not declare the four encoding characters');
  const separators: Hl7Separators = { field, component: encoding[0]!, repetition: encoding[1]!, escape: encoding[2]!, subcomponent: encoding[3]! };
  const segments = lines.map((line) => {
    const parts = line.split(field);
    const name = parts[0]!.trim();
    // MSH-1 is the separator itself, so MSH's values sit one place further than other segments'.
    const fields = name === 'MSH' ? ['MSH', field, ...parts.slice(1)] : parts;
    return { name, fields };
  });
  return { separators, segments };
}

/** Resolves HL7 escape sequences (\F\ \S\ \T\ \R\ \E\ \.br\ \Xhh\; highlighting is dropped). */
export function unescapeHl7(value: string, s: Hl7Separators): string {
  const e = s.escape;
  if (!value.includes(e)) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    const end = ch === e ? value.indexOf(e, i + 1) : -1;
    if (end < 0) {
      out += ch;
      continue;
    }
    const seq = value.slice(i + 1, end);
    i = end;
    if (seq === 'F') out += s.field;
    else if (seq === 'S') out += s.component;
    else if (seq === 'T') out += s.subcomponent;
    else if (seq === 'R') out += s.repetition;
    else if (seq === 'E') out += s.escape;
    else if (seq === '.br') out += '\n';
    else if (/^X([0-9A-Fa-f]{2})+$/.test(seq)) out += Buffer.from(seq.slice(1), 'hex').toString('latin1');
    // \H\, \N\ (highlighting), \.sp\ and unknown sequences carry no text.
  }
  return out;
}

/** A field's repetitions, each split into unescaped components. */
export function repetitions(raw: string | undefined, s: Hl7Separators): string[][] {
  if (raw === undefined || raw === '') return [];
  return raw.split(s.repetition).map((rep) => rep.split(s.component).map((c) => unescapeHl7(c.split(s.subcomponent)[0] ?? '', s)));
}

/** The first component of the first repetition, unescaped ('' when empty). */
export function first(raw: string | undefined, s: Hl7Separators): string {
  return repetitions(raw, s)[0]?.[0]?.trim() ?? '';
}

/** The whole first repetition, components joined by `^` (as MSH-9's `ORU^R01`). */
export function components(raw: string | undefined, s: Hl7Separators): string[] {
  return repetitions(raw, s)[0]?.map((c) => c.trim()) ?? [];
}

const hl7Now = (date: Date): string => date.toISOString().replace(/[-:T]/g, '').slice(0, 14);

export type AckCode = 'AA' | 'AE' | 'AR';

/** Original-mode acknowledgement of `msh` (the received MSH) with MSA-1 = code and, for errors, ERR. */
/** ERR-3 codes (HL7 table 0357) the listener answers with. */
export const HL7_ERRORS = {
  segmentSequence: ['100', 'Segment sequence error'],
  requiredMissing: ['101', 'Required field missing'],
  unsupportedType: ['200', 'Unsupported message type'],
  unsupportedVersion: ['203', 'Unsupported version id'],
  internal: ['207', 'Application internal error'],
} as const satisfies Record<string, readonly [string, string]>;

export function buildAck(
  received: Hl7Message | undefined,
  code: AckCode,
  text: string,
  options: { application: string; facility: string; now: Date; controlId: string; error?: readonly [string, string] },
): string {
  const s = received?.separators ?? { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' };
  const msh = received?.segments[0]?.fields ?? [];
  const esc = (v: string): string =>
    v.replace(/[\\|^~&\r\n]/g, (c) =>
      c === s.escape
        ? `${s.escape}E${s.escape}`
        : c === s.field
          ? `${s.escape}F${s.escape}`
          : c === s.component
            ? `${s.escape}S${s.escape}`
            : c === s.repetition
              ? `${s.escape}R${s.escape}`
              : c === s.subcomponent
                ? `${s.escape}T${s.escape}`
                : ' ',
    );
  const encoding = `${s.component}${s.repetition}${s.escape}${s.subcomponent}`;
  const trigger = components(msh[9], s)[1] ?? '';
  const segments = [
    [
      'MSH',
      encoding,
      options.application,
      options.facility,
      msh[3] ?? '',
      msh[4] ?? '',
      hl7Now(options.now),
      '',
      `ACK${s.component}${trigger}${s.component}ACK`,
      options.controlId,
      msh[11] ?? 'P',
      msh[12] ?? '2.5.1',
    ].join(s.field),
    ['MSA', code, msh[10] ?? '', esc(text)].join(s.field),
  ];
  // ERR-3 (v2.5+) carries the table 0357 code; ERR-4 the severity.
  if (code !== 'AA') segments.push(['ERR', '', '', (options.error ?? HL7_ERRORS.internal).join(s.component), 'E'].join(s.field));
  return `${segments.join('\r')}\r`;
}
