// Reads the searchable attributes (shared/dicom-objects.ts) from a parsed header, or from a Part 10
// file on disk through the one header reader (./header.ts), which stops before Pixel Data.
import type { DicomDataset } from 'dcmjs';
import type { IndexedObject, ObjectOrigin, QueryAttributes } from '../shared/dicom-objects.js';
import { readHeaderFile } from './header.js';

function text(ds: DicomDataset, tag: string): string {
  const v = ds[tag]?.Value?.[0];
  if (v === undefined || v === null) return '';
  return String(v).trim();
}

/** PN as encoded: component groups joined by '=' (dcmjs gives { Alphabetic, Ideographic, Phonetic }). */
export function personName(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'object') {
    const pn = value as { Alphabetic?: string; Ideographic?: string; Phonetic?: string };
    const groups = [pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''];
    while (groups.length > 1 && groups.at(-1) === '') groups.pop();
    return groups.join('=').trim();
  }
  return '';
}

function integer(ds: DicomDataset, tag: string): number | null {
  const v = ds[tag]?.Value?.[0];
  if (v === undefined || v === null || v === '') return null;
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  return Number.isSafeInteger(n) ? n : null;
}

/** The searchable attributes of a data set (dcmjs dict, not naturalized). */
export function queryAttributes(ds: DicomDataset): QueryAttributes {
  return {
    StudyInstanceUID: text(ds, '0020000D'),
    SeriesInstanceUID: text(ds, '0020000E'),
    SOPInstanceUID: text(ds, '00080018'),
    SOPClassUID: text(ds, '00080016'),
    Modality: text(ds, '00080060'),
    PatientID: text(ds, '00100020'),
    PatientName: personName(ds['00100010']?.Value?.[0]),
    PatientBirthDate: text(ds, '00100030'),
    PatientSex: text(ds, '00100040'),
    StudyDate: text(ds, '00080020'),
    StudyTime: text(ds, '00080030'),
    AccessionNumber: text(ds, '00080050'),
    ReferringPhysicianName: personName(ds['00080090']?.Value?.[0]),
    StudyID: text(ds, '00200010'),
    StudyDescription: text(ds, '00081030'),
    SeriesDescription: text(ds, '0008103E'),
    SeriesNumber: integer(ds, '00200011'),
    InstanceNumber: integer(ds, '00200013'),
    Rows: integer(ds, '00280010'),
    Columns: integer(ds, '00280011'),
    BitsAllocated: integer(ds, '00280100'),
    NumberOfFrames: integer(ds, '00280008'),
  };
}

/** An object index row for a file on disk (`path` relative to the data directory). Throws when unreadable. */
export function indexedFromFile(absolutePath: string, path: string, origin: ObjectOrigin, version: number): IndexedObject {
  const header = readHeaderFile(absolutePath);
  return { ...queryAttributes(header.dict), origin, version, path, size: header.size, TransferSyntaxUID: header.TransferSyntaxUID };
}
