// Reads the searchable attributes (shared/dicom-objects.ts) from a parsed header, or from a Part 10
// file on disk, stopping before Pixel Data so a large image is never read whole when its header fits
// in the first megabyte.
import { closeSync, openSync, readSync, fstatSync } from 'node:fs';
import dcmjs, { type DicomDataset } from 'dcmjs';
import type { IndexedObject, ObjectOrigin, QueryAttributes } from './dicom-objects.js';
import { silenceDcmjsConsole } from './dcmjs-log.js';

silenceDcmjsConsole();

const PIXEL_DATA = '7FE00010';
const PREFIX_BYTES = 1024 * 1024;

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

function parse(bytes: Buffer): { dict: DicomDataset; TransferSyntaxUID: string } {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const parsed = dcmjs.data.DicomMessage.readFile(ab, { untilTag: PIXEL_DATA, includeUntilTagValue: false });
  return { dict: parsed.dict, TransferSyntaxUID: text(parsed.meta, '00020010') };
}

/**
 * The header of a Part 10 file: the first megabyte when it reaches Pixel Data, else the whole file.
 * Throws when the file is not readable DICOM.
 */
export function readFileHeader(path: string): { dict: DicomDataset; TransferSyntaxUID: string; size: number } {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, PREFIX_BYTES);
    const head = Buffer.alloc(length);
    readSync(fd, head, 0, length, 0);
    if (length < size) {
      try {
        const prefix = parse(head);
        if (PIXEL_DATA in prefix.dict) return { ...prefix, size };
      } catch {
        // the prefix cut an element short: read it all below
      }
      const all = Buffer.alloc(size);
      readSync(fd, all, 0, size, 0);
      return { ...parse(all), size };
    }
    return { ...parse(head), size };
  } finally {
    closeSync(fd);
  }
}

/** An object index row for a file on disk (`path` relative to the data directory). Throws when unreadable. */
export function indexedFromFile(absolutePath: string, path: string, origin: ObjectOrigin, version: number): IndexedObject {
  const header = readFileHeader(absolutePath);
  return { ...queryAttributes(header.dict), origin, version, path, size: header.size, TransferSyntaxUID: header.TransferSyntaxUID };
}
