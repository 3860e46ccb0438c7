// Radiology reports as DICOM SR, written by dcmtk's dump2dcm from a dcmdump-style listing: a TID
// 2000-like tree (root "Diagnostic imaging report" with Findings / Impression containers of TEXT
// items) or a flat Basic Text SR (TEXT items straight under the root), as a RIS would send them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './tools.js';

export const SR_CLASS = {
  basicText: '1.2.840.10008.5.1.4.1.1.88.11',
  enhanced: '1.2.840.10008.5.1.4.1.1.88.22',
  comprehensive: '1.2.840.10008.5.1.4.1.1.88.33',
} as const;

export interface TextSrSpec {
  SOPClassUID?: string;
  SOPInstanceUID: string;
  StudyInstanceUID: string;
  AccessionNumber: string;
  PatientName?: string;
  ContentDate?: string;
  ContentTime?: string;
  CompletionFlag?: 'COMPLETE' | 'PARTIAL';
  VerificationFlag?: 'VERIFIED' | 'UNVERIFIED';
  SoftwareVersions?: string;
  /** Sections of TEXT items: in containers (TID 2000) or, with flat, TEXT items named by the section. */
  sections: Array<{ name: string; texts: string[] }>;
  flat?: boolean;
  /** An Observer Type = Device item (how AI results name their author). */
  deviceObserver?: boolean;
  /** The SOP Instance UID of the report this one amends (Predecessor Documents Sequence). */
  predecessor?: string;
}

const code = (value: string, scheme: string, meaning: string, tag = '(0040,a043)'): string[] => [
  `${tag} SQ (Sequence with undefined length #=1)`,
  '(fffe,e000) na (Item with undefined length #=3)',
  `(0008,0100) SH [${value}]`,
  `(0008,0102) SH [${scheme}]`,
  `(0008,0104) LO [${meaning}]`,
  '(fffe,e00d) na (ItemDelimitationItem)',
  '(fffe,e0dd) na (SequenceDelimitationItem)',
];

const item = (lines: string[]): string[] => ['(fffe,e000) na (Item with undefined length #=1)', ...lines, '(fffe,e00d) na (ItemDelimitationItem)'];
const text = (relationship: string, name: string, value: string): string[] =>
  item([`(0040,a010) CS [${relationship}]`, '(0040,a040) CS [TEXT]', ...code('121071', 'DCM', name), `(0040,a160) UT [${value}]`]);
const sequence = (items: string[][]): string[] => [
  '(0040,a730) SQ (Sequence with undefined length #=1)',
  ...items.flat(),
  '(fffe,e0dd) na (SequenceDelimitationItem)',
];

export function textSrDump(s: TextSrSpec): string {
  const content: string[][] = [];
  if (s.deviceObserver)
    content.push(
      item([
        '(0040,a010) CS [HAS OBS CONTEXT]',
        '(0040,a040) CS [CODE]',
        ...code('121005', 'DCM', 'Observer Type'),
        ...code('121007', 'DCM', 'Device', '(0040,a168)'),
      ]),
    );
  for (const section of s.sections) {
    if (s.flat) content.push(...section.texts.map((t) => text('CONTAINS', section.name, t)));
    else
      content.push(
        item([
          '(0040,a010) CS [CONTAINS]',
          '(0040,a040) CS [CONTAINER]',
          ...code('121070', 'DCM', section.name),
          '(0040,a050) CS [SEPARATE]',
          ...sequence(section.texts.map((t) => text('CONTAINS', 'Finding', t))),
        ]),
      );
  }
  return [
    `(0008,0016) UI [${s.SOPClassUID ?? SR_CLASS.basicText}]`,
    `(0008,0018) UI [${s.SOPInstanceUID}]`,
    '(0008,0020) DA [20240105]',
    `(0008,0023) DA [${s.ContentDate ?? '20240105'}]`,
    `(0008,0033) TM [${s.ContentTime ?? '120000'}]`,
    `(0008,0050) SH [${s.AccessionNumber}]`,
    '(0008,0060) CS [SR]',
    '(0008,0070) LO [RIS VENDOR]',
    `(0010,0010) PN [${s.PatientName ?? 'SRSECRET^PATIENT'}]`,
    '(0010,0020) LO [SR-PAT-9]',
    ...(s.SoftwareVersions ? [`(0018,1020) LO [${s.SoftwareVersions}]`] : []),
    `(0020,000d) UI [${s.StudyInstanceUID}]`,
    `(0020,000e) UI [${s.SOPInstanceUID}.7]`,
    '(0020,0011) IS [77]',
    '(0020,0013) IS [1]',
    ...(s.predecessor
      ? [
          '(0040,a360) SQ (Sequence with undefined length #=1)',
          ...item([
            `(0020,000d) UI [${s.StudyInstanceUID}]`,
            '(0008,1115) SQ (Sequence with undefined length #=1)',
            ...item([
              `(0020,000e) UI [${s.predecessor}.7]`,
              '(0008,1199) SQ (Sequence with undefined length #=1)',
              ...item([`(0008,1150) UI [${s.SOPClassUID ?? SR_CLASS.basicText}]`, `(0008,1155) UI [${s.predecessor}]`]),
              '(fffe,e0dd) na (SequenceDelimitationItem)',
            ]),
            '(fffe,e0dd) na (SequenceDelimitationItem)',
          ]),
          '(fffe,e0dd) na (SequenceDelimitationItem)',
        ]
      : []),
    '(0040,a040) CS [CONTAINER]',
    ...code('18748-4', 'LN', 'Diagnostic imaging report'),
    '(0040,a050) CS [SEPARATE]',
    `(0040,a491) CS [${s.CompletionFlag ?? 'COMPLETE'}]`,
    `(0040,a493) CS [${s.VerificationFlag ?? 'VERIFIED'}]`,
    ...sequence(content),
  ].join('\n');
}

/** Writes the SR with dump2dcm (Part 10, Explicit VR Little Endian) and returns its path. */
export async function writeTextSr(dir: string, spec: TextSrSpec): Promise<string> {
  const dump = join(dir, `${spec.SOPInstanceUID}.dump`);
  const out = join(dir, `${spec.SOPInstanceUID}.dcm`);
  writeFileSync(dump, `${textSrDump(spec)}\n`);
  const r = await run('dump2dcm', ['+te', dump, out]);
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return out;
}
