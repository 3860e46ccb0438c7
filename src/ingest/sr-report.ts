// A radiology report received as a DICOM SR (Basic Text, Enhanced or Comprehensive SR): its text, read
// from the content tree, and what it is filed under (Study Instance UID, Accession Number). SRs that
// are results rather than a radiologist's report are not read: ours (Precedent's own SoftwareVersions)
// and any other document whose observer is a device (TID 1002 Observer Type = Device, how AI results
// and our similar-cases SR name their author), and TID 1500 measurement reports.
import dcmjs from 'dcmjs';
import type { IncomingReport, ReportStatus } from '../shared/reports.js';
import { IMPLEMENTATION_VERSION_NAME } from '../shared/implementation.js';

type Item = Record<string, unknown>;

/** DCM codes read here: Observer Type (121005), Device (121007), Imaging Measurement Report (126000). */
const OBSERVER_TYPE = '121005';
const DEVICE = '121007';
const MEASUREMENT_REPORT = '126000';
// Context, not content: observer names and the like are no part of the report's text.
const CONTEXT_RELATIONSHIPS = new Set(['HAS OBS CONTEXT', 'HAS ACQ CONTEXT']);

const items = (v: unknown): Item[] => (Array.isArray(v) ? (v as Item[]) : v && typeof v === 'object' ? [v as Item] : []);
const str = (v: unknown): string => (Array.isArray(v) ? str(v[0]) : typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '');
const concept = (item: Item): { value: string; scheme: string; meaning: string } => {
  const c = items(item['ConceptNameCodeSequence'])[0] ?? {};
  return { value: str(c['CodeValue']), scheme: str(c['CodingSchemeDesignator']), meaning: str(c['CodeMeaning']) };
};
const code = (item: Item): string => str(items(item['ConceptCodeSequence'])[0]?.['CodeValue']);

/** A heading the labeller reads as a section (`FINDINGS:`): the concept meaning in capitals. */
const heading = (meaning: string): string =>
  meaning
    .toUpperCase()
    .replace(/[^A-Z /]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim() || 'TEXT';

/** The TEXT items in tree order, each under its section: the nearest container's concept name, else its own. */
function texts(list: Item[], section: string | undefined, out: Array<{ heading: string; text: string }>): void {
  for (const item of list) {
    if (CONTEXT_RELATIONSHIPS.has(str(item['RelationshipType']))) continue;
    const type = str(item['ValueType']);
    const name = concept(item).meaning;
    const text = type === 'TEXT' ? str(item['TextValue']) : '';
    if (text) out.push({ heading: heading(section ?? name), text });
    texts(items(item['ContentSequence']), type === 'CONTAINER' ? name || section : section, out);
  }
}

/** The report's text: `HEADING:` lines and the texts under them, a heading repeated only when it changes. */
export function srText(root: Item): string {
  const found: Array<{ heading: string; text: string }> = [];
  texts(items(root['ContentSequence']), undefined, found);
  const lines: string[] = [];
  let last = '';
  for (const t of found) {
    if (t.heading !== last) lines.push(`${t.heading}:`);
    last = t.heading;
    lines.push(t.text);
  }
  return lines.join('\n');
}

/** COMPLETE and VERIFIED: final (corrected when it names the document it replaces); otherwise preliminary. */
export function srStatus(root: Item): ReportStatus {
  const final = str(root['CompletionFlag']).toUpperCase() === 'COMPLETE' && str(root['VerificationFlag']).toUpperCase() === 'VERIFIED';
  if (!final) return 'preliminary';
  return items(root['PredecessorDocumentsSequence']).length > 0 ? 'corrected' : 'final';
}

/** Content Date and Time as ms since epoch (read as UTC: only compared with other reports' times). */
export function contentTime(date: string, time: string): number | undefined {
  const d = /^(\d{4})(\d{2})(\d{2})$/.exec(date);
  if (!d) return undefined;
  const t = /^(\d{2})(\d{2})?(\d{2})?(?:\.(\d{1,6}))?/.exec(time) ?? [];
  const ms = Number(`0.${t[4] ?? '0'}`) * 1000;
  return Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]), Number(t[1] ?? 0), Number(t[2] ?? 0), Number(t[3] ?? 0), Math.round(ms));
}

/** Why this SR is not a radiologist's report, or undefined when it is one. */
function notAReport(root: Item): string | undefined {
  if (str(root['SoftwareVersions']).split('\\').includes(IMPLEMENTATION_VERSION_NAME)) return "Precedent's own result";
  const context = items(root['ContentSequence']).filter((i) => str(i['RelationshipType']) === 'HAS OBS CONTEXT');
  if (context.some((i) => concept(i).value === OBSERVER_TYPE && code(i) === DEVICE)) return 'written by a device (Observer Type = Device), e.g. an AI result';
  const c = concept(root);
  if (c.scheme === 'DCM' && c.value === MEASUREMENT_REPORT) return 'a measurement report (TID 1500), not a narrative report';
  return undefined;
}

export type SrReading = { report: IncomingReport } | { skip: string };

/** Reads a Part 10 SR file (whole, with File Meta). Never returns or throws report text or patient data. */
export function readSrReport(bytes: Buffer): SrReading {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const root = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dcmjs.data.DicomMessage.readFile(buffer).dict) as Item;
  const why = notAReport(root);
  if (why) return { skip: `structured report not read as a radiology report: ${why}` };
  const text = srText(root);
  if (!text) return { skip: 'structured report without TEXT content items: no report text' };
  const reportedAt = contentTime(str(root['ContentDate']), str(root['ContentTime']));
  return {
    report: {
      AccessionNumber: str(root['AccessionNumber']),
      StudyInstanceUID: str(root['StudyInstanceUID']),
      status: srStatus(root),
      text,
      ...(reportedAt === undefined ? {} : { reportedAt }),
    },
  };
}
