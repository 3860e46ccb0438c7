// Search rows -> DICOM JSON (PS3.18 F.2) for a QIDO-RS response. Attributes with no value keep their
// VR and omit "Value" (F.2.5); what includefield asks for but this search cannot give is reported once
// in a Warning header rather than dropped silently.
import type { QueryLevel, SearchRow } from '../shared/dicom-objects.js';
import type { DicomJson, DicomJsonElement } from './dicom-json.js';
import { KEYS, type KeyInfo } from './qido-keys.js';

const LEVELS: QueryLevel[] = ['study', 'series', 'instance'];

function element(vr: string, values: Array<string | number> | undefined): DicomJsonElement {
  if (!values || values.length === 0) return { vr };
  if (vr !== 'PN') return { vr, Value: values };
  return {
    vr,
    Value: values.map((v) => {
      const [Alphabetic = '', Ideographic, Phonetic] = String(v).split('=');
      return { Alphabetic, ...(Ideographic ? { Ideographic } : {}), ...(Phonetic ? { Phonetic } : {}) };
    }),
  };
}

export interface Shape {
  keys: KeyInfo[];
  /** Tags asked for with includefield that this search does not return. */
  unavailable: string[];
}

/**
 * Which attributes a search at `level` returns: the defaults of the `returned` levels, the UIDs of
 * the levels above (a client needs them for the next request), and what includefield asks for.
 */
export function shapeOf(level: QueryLevel, returned: QueryLevel[], include: Set<string> | 'all'): Shape {
  const uids = new Set(LEVELS.slice(0, LEVELS.indexOf(level)).map((l) => ({ study: '0020000D', series: '0020000E', instance: '00080018' })[l]));
  const keys = KEYS.filter((k) => {
    if (k.studySearchOnly && level !== 'study') return false;
    if (LEVELS.indexOf(k.level) > LEVELS.indexOf(level)) return false;
    if (uids.has(k.tag)) return true;
    if (returned.includes(k.level) && k.byDefault) return true;
    // Asked for: any attribute of this level or above (single-valued for the row).
    return include === 'all' || include.has(k.tag);
  });
  const given = new Set(keys.map((k) => k.tag));
  const unavailable = include === 'all' ? [] : [...include].filter((t) => !given.has(t));
  return { keys, unavailable };
}

export function rowToJson(row: SearchRow, level: QueryLevel, shape: Shape, baseUrl: string): DicomJson {
  const item: DicomJson = {};
  for (const k of shape.keys) item[k.tag] = element(k.vr, k.value(row));
  if (level !== 'series') item['00080056'] = { vr: 'CS', Value: ['ONLINE'] };
  let url = `${baseUrl}/studies/${row.StudyInstanceUID}`;
  if (level !== 'study') url += `/series/${row.SeriesInstanceUID}`;
  if (level === 'instance') url += `/instances/${row.SOPInstanceUID}`;
  item['00081190'] = { vr: 'UR', Value: [url] };
  return Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)));
}
