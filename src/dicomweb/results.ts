// The node's own result objects (SR and Secondary Captures written under <dataDir>/results/
// <StudyInstanceUID>/*.dcm) as DICOMweb resources: QIDO-RS search attributes, WADO-RS metadata and
// the Part 10 files themselves. Headers are read with dcmjs up to Pixel Data and cached by mtime.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import dcmjs, { type DicomDataset } from 'dcmjs';
import { isSafeUidPath } from '../shared/uid.js';
import { el, type DicomJson, type DicomJsonElement } from './dicom-json.js';

export interface ResultObject {
  path: string;
  size: number;
  StudyInstanceUID: string;
  SeriesInstanceUID: string;
  SOPInstanceUID: string;
  SOPClassUID: string;
  TransferSyntaxUID: string;
  Modality: string;
  /** The whole header (Pixel Data excluded) as DICOM JSON. */
  metadata: DicomJson;
}

const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
const MAX_INLINE_BINARY = 4096;

function toJson(ds: DicomDataset): DicomJson {
  const out: DicomJson = {};
  for (const [tag, element] of Object.entries(ds)) {
    const { vr } = element;
    // Pixel Data is never in metadata (and dcmjs leaves an empty element where it stopped reading).
    if (tag === '7FE00010' || !vr) continue;
    const values = element.Value ?? [];
    let converted: DicomJsonElement;
    if (vr === 'SQ') {
      converted = { vr, Value: (values as DicomDataset[]).map(toJson) };
    } else if (BINARY_VRS.has(vr)) {
      const first = values[0];
      const bytes = first instanceof ArrayBuffer ? Buffer.from(first) : ArrayBuffer.isView(first) ? Buffer.from(first.buffer, first.byteOffset, first.byteLength) : undefined;
      if (!bytes || bytes.length > MAX_INLINE_BINARY) continue;
      out[tag] = { vr, InlineBinary: bytes.toString('base64') } as DicomJsonElement;
      continue;
    } else if (vr === 'PN') {
      converted = { vr, Value: values.map((v) => (typeof v === 'string' ? { Alphabetic: v } : v)) };
    } else {
      converted = { vr, Value: values };
    }
    if (!converted.Value || converted.Value.length === 0) delete converted.Value;
    out[tag] = converted;
  }
  return out;
}

const first = (ds: DicomDataset, tag: string): string => {
  const v = ds[tag]?.Value?.[0];
  return v === undefined || v === null ? '' : String(v).trim();
};

function readObject(path: string, size: number): ResultObject | undefined {
  const bytes = readFileSync(path);
  try {
    const dict = dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, {
      untilTag: '7FE00010',
      includeUntilTagValue: false,
    });
    const ds = dict.dict;
    return {
      path,
      size,
      StudyInstanceUID: first(ds, '0020000D'),
      SeriesInstanceUID: first(ds, '0020000E'),
      SOPInstanceUID: first(ds, '00080018'),
      SOPClassUID: first(ds, '00080016'),
      TransferSyntaxUID: first(dict.meta, '00020010'),
      Modality: first(ds, '00080060'),
      metadata: toJson(ds),
    };
  } catch {
    return undefined; // not (yet) a readable Part 10 file: not served
  }
}

export interface ResultsIndex {
  /** Result objects of a study, ordered by series then instance UID; [] when it has none. */
  study(StudyInstanceUID: string): ResultObject[];
  /** StudyInstanceUIDs that have result objects. */
  studies(): string[];
}

export function createResultsIndex(resultsDir: string): ResultsIndex {
  const cache = new Map<string, { mtimeMs: number; size: number; object: ResultObject | undefined }>();
  const list = (dir: string): string[] => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  return {
    study(uid) {
      if (!isSafeUidPath(uid)) return [];
      const dir = join(resultsDir, uid);
      const objects: ResultObject[] = [];
      for (const name of list(dir).filter((n) => n.endsWith('.dcm')).sort()) {
        const path = join(dir, name);
        let st;
        try {
          st = statSync(path);
        } catch {
          continue;
        }
        let hit = cache.get(path);
        if (!hit || hit.mtimeMs !== st.mtimeMs || hit.size !== st.size) {
          hit = { mtimeMs: st.mtimeMs, size: st.size, object: readObject(path, st.size) };
          cache.set(path, hit);
        }
        if (hit.object && hit.object.StudyInstanceUID === uid) objects.push(hit.object);
      }
      return objects.sort((a, b) => a.SeriesInstanceUID.localeCompare(b.SeriesInstanceUID) || a.SOPInstanceUID.localeCompare(b.SOPInstanceUID));
    },
    studies: () => list(resultsDir).filter(isSafeUidPath).sort(),
  };
}

const pick = (o: ResultObject, tag: string): DicomJsonElement | undefined => o.metadata[tag];

/** QIDO-RS study attributes (PS3.18 10.6.3.3.1) from a study's result objects. */
export function studyAttributes(objects: readonly ResultObject[], baseUrl: string): DicomJson {
  const o = objects[0] as ResultObject;
  const copy = ['00080020', '00080030', '00080050', '00080090', '00100010', '00100020', '00100030', '00100040', '00200010', '00081030'];
  const item: DicomJson = {};
  for (const tag of copy) item[tag] = pick(o, tag) ?? { vr: tagVr(tag) };
  item['0020000D'] = el('UI', o.StudyInstanceUID);
  item['00080061'] = el('CS', ...new Set(objects.map((x) => x.Modality).filter(Boolean)));
  item['00201206'] = el('IS', new Set(objects.map((x) => x.SeriesInstanceUID)).size);
  item['00201208'] = el('IS', objects.length);
  item['00081190'] = el('UR', `${baseUrl}/studies/${o.StudyInstanceUID}`);
  return item;
}

/** QIDO-RS series attributes (PS3.18 10.6.3.3.2). */
export function seriesAttributes(objects: readonly ResultObject[], baseUrl: string): DicomJson[] {
  const bySeries = new Map<string, ResultObject[]>();
  for (const o of objects) bySeries.set(o.SeriesInstanceUID, [...(bySeries.get(o.SeriesInstanceUID) ?? []), o]);
  return [...bySeries.values()].map((list) => {
    const o = list[0] as ResultObject;
    return {
      '00080060': el('CS', o.Modality),
      '0008103E': pick(o, '0008103E') ?? { vr: 'LO' },
      '00200011': pick(o, '00200011') ?? { vr: 'IS' },
      '0020000D': el('UI', o.StudyInstanceUID),
      '0020000E': el('UI', o.SeriesInstanceUID),
      '00201209': el('IS', list.length),
      '00081190': el('UR', `${baseUrl}/studies/${o.StudyInstanceUID}/series/${o.SeriesInstanceUID}`),
    };
  });
}

/** QIDO-RS instance attributes (PS3.18 10.6.3.3.3). */
export function instanceAttributes(o: ResultObject, baseUrl: string): DicomJson {
  return {
    '00080016': el('UI', o.SOPClassUID),
    '00080018': el('UI', o.SOPInstanceUID),
    '00080060': el('CS', o.Modality),
    '00200013': pick(o, '00200013') ?? { vr: 'IS' },
    '0020000D': el('UI', o.StudyInstanceUID),
    '0020000E': el('UI', o.SeriesInstanceUID),
    '00280010': pick(o, '00280010') ?? { vr: 'US' },
    '00280011': pick(o, '00280011') ?? { vr: 'US' },
    '00083002': el('UI', o.TransferSyntaxUID),
    '00081190': el('UR', `${baseUrl}/studies/${o.StudyInstanceUID}/series/${o.SeriesInstanceUID}/instances/${o.SOPInstanceUID}`),
  };
}

function tagVr(tag: string): string {
  const vrs: Record<string, string> = { '00080020': 'DA', '00080030': 'TM', '00080050': 'SH', '00080090': 'PN', '00100010': 'PN', '00100020': 'LO', '00100030': 'DA', '00100040': 'CS', '00200010': 'SH', '00081030': 'LO' };
  return vrs[tag] ?? 'UN';
}
