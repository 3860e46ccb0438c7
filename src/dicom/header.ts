// The one reader of a Part 10 header: the File Meta group and the data set up to, not including,
// top-level Pixel Data, as dcmjs reads them. Pixels are never parsed here, so a large image costs no
// more than its header. Callers that must guard the bytes first (ingest's bounds walk and deflate
// limit, its memory-budgeted reading of a temporary file) prepare them and then call readHeader.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import dcmjs, { type DicomDataset } from 'dcmjs';
import { silenceDcmjsConsole } from '../shared/dcmjs-log.js';

silenceDcmjsConsole();

/** Pixel Data (7FE0,0010), where every header read stops. */
export const PIXEL_DATA = '7FE00010';
// Most headers end well within this: a file read from disk is read whole only when they do not.
const PREFIX_BYTES = 1024 * 1024;

export interface Part10Header {
  /** File Meta Information (group 0002), dcmjs dict form. */
  meta: DicomDataset;
  /** The data set up to Pixel Data, dcmjs dict form (not naturalized). */
  dict: DicomDataset;
  /** From the File Meta Information, trimmed; '' when absent. */
  TransferSyntaxUID: string;
}

function text(ds: DicomDataset, tag: string): string {
  const v = ds[tag]?.Value?.[0];
  if (v === undefined || v === null) return '';
  return String(v).trim();
}

/** The header of a Part 10 buffer (whole, or any prefix that reaches Pixel Data). Throws what dcmjs throws. */
export function readHeader(bytes: Uint8Array): Part10Header {
  const arrayBuffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const parsed = dcmjs.data.DicomMessage.readFile(arrayBuffer, { untilTag: PIXEL_DATA, includeUntilTagValue: false });
  return { meta: parsed.meta, dict: parsed.dict, TransferSyntaxUID: text(parsed.meta, '00020010') };
}

/** The data set of readHeader naturalized (keyword -> value). */
export function readNaturalHeader(bytes: Uint8Array): Record<string, unknown> {
  return dcmjs.data.DicomMetaDictionary.naturalizeDataset(readHeader(bytes).dict);
}

/**
 * The header of a Part 10 file: the first megabyte when it reaches Pixel Data, else the whole file.
 * Throws when the file is not readable DICOM.
 */
export function readHeaderFile(path: string): Part10Header & { size: number } {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, PREFIX_BYTES);
    const head = Buffer.alloc(length);
    readSync(fd, head, 0, length, 0);
    if (length < size) {
      try {
        const prefix = readHeader(head);
        if (PIXEL_DATA in prefix.dict) return { ...prefix, size };
      } catch {
        // the prefix cut an element short: read it all below
      }
      const all = Buffer.alloc(size);
      readSync(fd, all, 0, size, 0);
      return { ...readHeader(all), size };
    }
    return { ...readHeader(head), size };
  } finally {
    closeSync(fd);
  }
}
