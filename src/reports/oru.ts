// ORU^R01 -> the reports it carries: one per OBR (an order), its OBX text, keys and result status.
// Accession Number: OBR-18 (IHE Radiology), else OBR-3 (filler order number). Study Instance UID: ZDS-1
// (IHE) or an OBX whose OBX-3 is 113014 "DICOM Study" (DICOM PS3.16 / IHE RAD-128 usage).
import type { ReportStatus } from '../shared/reports.js';
import { components, first, HL7_ERRORS, repetitions, type Hl7Message, type Hl7Segment } from './hl7.js';

export interface OruReport {
  AccessionNumber: string;
  StudyInstanceUID: string;
  status: ReportStatus;
  text: string;
}

export type OruReading =
  { ok: true; messageId: string; reports: OruReport[] } | { ok: false; ack: 'AE' | 'AR'; error: readonly [string, string]; reason: string };

const TEXT_TYPES = new Set(['TX', 'FT', 'ST', 'CF', 'CE', 'CWE']);
const UID = /^[0-9]+(\.[0-9]+)*$/;

/** OBR-25 result status (HL7 table 0123) reduced to what the store keeps. */
export function resultStatus(code: string): ReportStatus {
  switch (code.toUpperCase()) {
    case 'C':
    case 'A':
    case 'M':
      return 'corrected';
    case 'X':
    case 'D':
      return 'cancelled';
    case 'P':
    case 'R':
    case 'I':
    case 'S':
      return 'preliminary';
    default:
      return 'final';
  }
}

/** The report section an OBX-3 identifier names (IHE: `&GDT` findings, `&IMP` impression). */
function sectionOf(rawIdentifier: string): string | undefined {
  const id = rawIdentifier.toUpperCase();
  if (/IMP/.test(id)) return 'IMPRESSION';
  if (/GDT|FIND/.test(id)) return 'FINDINGS';
  if (/ADDEND/.test(id)) return 'ADDENDUM';
  return undefined;
}

const isStudyUidObx = (identifier: readonly string[]): boolean => identifier[0] === '113014' || /study instance uid/i.test(identifier.join(' '));

function reportOf(obr: Hl7Segment, rest: Hl7Segment[], message: Hl7Message): OruReport {
  const s = message.separators;
  let study = '';
  const sections: Array<[string | undefined, string]> = [];
  for (const seg of rest) {
    if (seg.name === 'ZDS' && !study) study = first(seg.fields[1], s);
    if (seg.name !== 'OBX') continue;
    const identifier = components(seg.fields[3], s);
    if (isStudyUidObx(identifier)) {
      study = first(seg.fields[5], s);
      continue;
    }
    if (!TEXT_TYPES.has(first(seg.fields[2], s).toUpperCase())) continue;
    // Each repetition of OBX-5 is a line; CE/CWE values are read as their text component.
    const lines = repetitions(seg.fields[5], s).map((c) => (c.length > 1 && /^(CE|CWE)$/i.test(first(seg.fields[2], s)) ? (c[1] ?? '') : c.join(' ')));
    const text = lines.join('\n').trim();
    if (text) sections.push([sectionOf(seg.fields[3] ?? ''), text]);
  }
  let current: string | undefined;
  const parts: string[] = [];
  for (const [section, text] of sections) {
    if (section && section !== current) parts.push(`${section}:`);
    current = section ?? current;
    parts.push(text);
  }
  return {
    AccessionNumber: first(obr.fields[18], s) || first(obr.fields[3], s),
    StudyInstanceUID: UID.test(study) && study.length <= 64 ? study : '',
    status: resultStatus(first(obr.fields[25], s)),
    text: parts.join('\n'),
  };
}

export function readOru(message: Hl7Message): OruReading {
  const s = message.separators;
  const msh = message.segments[0]!.fields;
  const type = components(msh[9], s);
  if (type[0] !== 'ORU' || (type[1] !== undefined && type[1] !== '' && type[1] !== 'R01')) {
    return { ok: false, ack: 'AR', error: HL7_ERRORS.unsupportedType, reason: `message type ${type.slice(0, 2).join('^') || '(none)'} is not ORU^R01` };
  }
  const version = first(msh[12], s);
  if (!/^2\.[3-9]/.test(version))
    return { ok: false, ack: 'AR', error: HL7_ERRORS.unsupportedVersion, reason: `HL7 version ${version || '(none)'} is not 2.3 to 2.9` };
  const messageId = first(msh[10], s);
  if (!messageId) return { ok: false, ack: 'AR', error: HL7_ERRORS.requiredMissing, reason: 'MSH-10 (message control ID) is empty' };
  const obrAt = message.segments.flatMap((seg, i) => (seg.name === 'OBR' ? [i] : []));
  if (obrAt.length === 0) return { ok: false, ack: 'AE', error: HL7_ERRORS.segmentSequence, reason: 'no OBR segment' };
  const reports = obrAt.map((at, n) => reportOf(message.segments[at]!, message.segments.slice(at + 1, obrAt[n + 1] ?? message.segments.length), message));
  for (const [n, r] of reports.entries()) {
    if (!r.AccessionNumber && !r.StudyInstanceUID)
      return {
        ok: false,
        ack: 'AE',
        error: HL7_ERRORS.requiredMissing,
        reason: `OBR #${n + 1}: no Accession Number (OBR-18, OBR-3) and no Study Instance UID`,
      };
    if (!r.text && r.status !== 'cancelled')
      return { ok: false, ack: 'AE', error: HL7_ERRORS.requiredMissing, reason: `OBR #${n + 1}: no report text in a TX/FT/ST OBX` };
  }
  return { ok: true, messageId, reports };
}
