// The attributes QIDO-RS knows (PS3.18 10.6.1.2 matching, 10.6.3 return attributes): keyword, tag,
// VR, the level they belong to, whether they can be matched on, and how a search row gives their
// value. Query keys and includefield values are accepted as keyword or as tag (PS3.18 8.3.4.1).
import dcmjs from 'dcmjs';
import type { MatchKey, QueryLevel, SearchRow } from '../shared/dicom-objects.js';

export interface KeyInfo {
  keyword: string;
  tag: string;
  vr: string;
  level: QueryLevel;
  /** Matching key (its kind of matching follows from the VR); absent: return only. */
  match?: MatchKey;
  /** Returned without includefield at this level (PS3.18 Tables 10.6.3-3 to -5). */
  byDefault: boolean;
  /** Study-level aggregates exist only in a study search. */
  studySearchOnly?: boolean;
  value: (row: SearchRow) => Array<string | number> | undefined;
}

const str = (v: string): string[] => (v === '' ? [] : [v]);
const num = (v: number | null | undefined): number[] => (v === null || v === undefined ? [] : [v]);

function key(
  keyword: string,
  tag: string,
  vr: string,
  level: QueryLevel,
  value: KeyInfo['value'],
  options: { match?: boolean; byDefault?: boolean; studySearchOnly?: boolean } = {},
): KeyInfo {
  return {
    keyword,
    tag,
    vr,
    level,
    byDefault: options.byDefault ?? true,
    ...(options.match === false ? {} : { match: keyword as MatchKey }),
    ...(options.studySearchOnly ? { studySearchOnly: true } : {}),
    value,
  };
}

export const KEYS: readonly KeyInfo[] = [
  key('StudyDate', '00080020', 'DA', 'study', (r) => str(r.StudyDate)),
  key('StudyTime', '00080030', 'TM', 'study', (r) => str(r.StudyTime)),
  key('AccessionNumber', '00080050', 'SH', 'study', (r) => str(r.AccessionNumber)),
  key('ModalitiesInStudy', '00080061', 'CS', 'study', (r) => r.ModalitiesInStudy, { studySearchOnly: true }),
  key('ReferringPhysicianName', '00080090', 'PN', 'study', (r) => str(r.ReferringPhysicianName)),
  key('StudyDescription', '00081030', 'LO', 'study', (r) => str(r.StudyDescription)),
  key('PatientName', '00100010', 'PN', 'study', (r) => str(r.PatientName)),
  key('PatientID', '00100020', 'LO', 'study', (r) => str(r.PatientID)),
  key('PatientBirthDate', '00100030', 'DA', 'study', (r) => str(r.PatientBirthDate)),
  key('PatientSex', '00100040', 'CS', 'study', (r) => str(r.PatientSex)),
  key('StudyInstanceUID', '0020000D', 'UI', 'study', (r) => str(r.StudyInstanceUID)),
  key('StudyID', '00200010', 'SH', 'study', (r) => str(r.StudyID)),
  key('NumberOfStudyRelatedSeries', '00201206', 'IS', 'study', (r) => num(r.NumberOfStudyRelatedSeries), { match: false, studySearchOnly: true }),
  key('NumberOfStudyRelatedInstances', '00201208', 'IS', 'study', (r) => num(r.NumberOfStudyRelatedInstances), { match: false, studySearchOnly: true }),
  key('Modality', '00080060', 'CS', 'series', (r) => str(r.Modality)),
  key('SeriesDescription', '0008103E', 'LO', 'series', (r) => str(r.SeriesDescription)),
  key('SeriesInstanceUID', '0020000E', 'UI', 'series', (r) => str(r.SeriesInstanceUID)),
  key('SeriesNumber', '00200011', 'IS', 'series', (r) => num(r.SeriesNumber)),
  key('NumberOfSeriesRelatedInstances', '00201209', 'IS', 'series', (r) => num(r.NumberOfSeriesRelatedInstances), { match: false }),
  key('SOPClassUID', '00080016', 'UI', 'instance', (r) => str(r.SOPClassUID)),
  key('SOPInstanceUID', '00080018', 'UI', 'instance', (r) => str(r.SOPInstanceUID)),
  key('AvailableTransferSyntaxUID', '00083002', 'UI', 'instance', (r) => str(r.TransferSyntaxUID), { match: false }),
  key('InstanceNumber', '00200013', 'IS', 'instance', (r) => num(r.InstanceNumber)),
  key('NumberOfFrames', '00280008', 'IS', 'instance', (r) => num(r.NumberOfFrames), { match: false }),
  key('Rows', '00280010', 'US', 'instance', (r) => num(r.Rows), { match: false }),
  key('Columns', '00280011', 'US', 'instance', (r) => num(r.Columns), { match: false }),
  key('BitsAllocated', '00280100', 'US', 'instance', (r) => num(r.BitsAllocated), { match: false }),
];

const byName = new Map<string, KeyInfo>(KEYS.flatMap((k) => [[k.keyword, k] as const, [k.tag, k] as const]));

export type Resolved = { known: KeyInfo } | { tag: string; keyword: string | undefined } | undefined;

/**
 * A query key or includefield value: one of ours (by keyword or tag, any case of hex), another valid
 * DICOM attribute (tag or dictionary keyword), or undefined when it names no attribute at all.
 */
export function resolveAttribute(name: string): Resolved {
  const tag = /^[0-9A-Fa-f]{8}$/.test(name) ? name.toUpperCase() : undefined;
  const known = byName.get(tag ?? name);
  if (known) return { known };
  if (tag) return { tag, keyword: dcmjs.data.DicomMetaDictionary.dictionary[`(${tag.slice(0, 4)},${tag.slice(4)})`]?.name };
  const entry = dcmjs.data.DicomMetaDictionary.nameMap[name];
  if (!entry) return undefined;
  return { tag: entry.tag.replace(/[(),]/g, '').toUpperCase(), keyword: name };
}

/** Levels whose attributes a resource returns: /studies study; /series study+series; ... */
export function levelsOf(level: QueryLevel, withParents: boolean): QueryLevel[] {
  const order: QueryLevel[] = ['study', 'series', 'instance'];
  const index = order.indexOf(level);
  return withParents ? order.slice(0, index + 1) : [level];
}
