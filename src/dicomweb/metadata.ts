// WADO-RS metadata (PS3.18 10.4.1.1.2): an object's header, read from its file up to Pixel Data, as
// DICOM JSON. Cached by path, modification time and size (a result may be rewritten in place).
import { statSync } from 'node:fs';
import type { DicomDataset } from 'dcmjs';
import { readHeaderFile } from '../dicom/header.js';
import type { DicomJson, DicomJsonElement } from './dicom-json.js';

const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
const MAX_INLINE_BINARY = 4096;
const MAX_CACHED = 2000;

const isEmpty = (v: unknown): boolean =>
  v === undefined ||
  v === null ||
  v === '' ||
  (typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v) && Object.values(v as object).every((x) => x === '' || x === undefined));

function toJson(ds: DicomDataset): DicomJson {
  const out: DicomJson = {};
  for (const [tag, element] of Object.entries(ds)) {
    const { vr } = element;
    // Pixel Data is never in metadata (and dcmjs leaves an empty element where it stopped reading).
    if (tag === '7FE00010' || !vr) continue;
    const values = element.Value ?? [];
    if (vr === 'SQ') {
      out[tag] = values.length > 0 ? { vr, Value: (values as DicomDataset[]).map(toJson) } : { vr };
      continue;
    }
    if (BINARY_VRS.has(vr)) {
      const first = values[0];
      const bytes =
        first instanceof ArrayBuffer
          ? Buffer.from(first)
          : ArrayBuffer.isView(first)
            ? Buffer.from(first.buffer, first.byteOffset, first.byteLength)
            : undefined;
      if (bytes && bytes.length > MAX_INLINE_BINARY) continue;
      out[tag] = bytes && bytes.length > 0 ? ({ vr, InlineBinary: bytes.toString('base64') } as DicomJsonElement) : { vr };
      continue;
    }
    // PS3.18 F.2.5: an empty attribute has no Value; an empty value among others is null.
    if (values.every(isEmpty)) {
      out[tag] = { vr };
      continue;
    }
    const mapped = values.map((v) => (isEmpty(v) ? null : vr === 'PN' && typeof v === 'string' ? { Alphabetic: v } : v));
    out[tag] = { vr, Value: mapped };
  }
  return out;
}

export interface Metadata {
  json: DicomJson;
  /** The file has Pixel Data (left out of `json`; the route adds its BulkDataURI). */
  pixelData: { vr: 'OB' | 'OW' } | undefined;
}

export interface MetadataReader {
  /** The header of the file at `absolutePath` as DICOM JSON; undefined when it cannot be read. */
  read(absolutePath: string): Metadata | undefined;
}

export function createMetadataReader(): MetadataReader {
  const cache = new Map<string, { mtimeMs: number; size: number; json: Metadata | undefined }>();
  return {
    read(path) {
      let st;
      try {
        st = statSync(path);
      } catch {
        return undefined;
      }
      const hit = cache.get(path);
      if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.json;
      let json: Metadata | undefined;
      try {
        const { dict } = readHeaderFile(path);
        // dcmjs leaves an element (without a VR) where it stopped, at Pixel Data.
        const bits = Number(dict['00280100']?.Value?.[0] ?? 0);
        json = { json: toJson(dict), pixelData: '7FE00010' in dict ? { vr: bits > 8 ? 'OW' : 'OB' } : undefined };
      } catch {
        json = undefined; // not (yet) a readable Part 10 file: not served
      }
      if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
      cache.set(path, { mtimeMs: st.mtimeMs, size: st.size, json });
      return json;
    },
  };
}
