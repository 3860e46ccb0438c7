// The File Meta Information of a STOW-RS part (PS3.10 7.1): 128-byte preamble, "DICM", then group
// 0002 in Explicit VR Little Endian. It names the SOP Class/Instance and the data set's transfer
// syntax; ingest writes its own File Meta, so only the data set after it is streamed on.

export interface FileMeta {
  SOPClassUID: string;
  SOPInstanceUID: string;
  TransferSyntaxUID: string;
  /** Offset of the first data set byte (after the meta group). */
  datasetOffset: number;
}

export class FileMetaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FileMetaError';
  }
}

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
export const MAX_META_BYTES = 64 * 1024;

function text(value: Buffer): string {
  return value
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .trim();
}

/**
 * Reads the File Meta at the start of `bytes`. Returns undefined when more bytes are needed (and
 * `complete` is false); throws FileMetaError when the bytes are not a Part 10 file.
 */
export function readFileMeta(bytes: Buffer, complete: boolean): FileMeta | undefined {
  const more = (): undefined => {
    if (complete) throw new FileMetaError('part ends inside the DICOM File Meta Information');
    return undefined;
  };
  if (bytes.length < 132) return more();
  if (bytes.toString('latin1', 128, 132) !== 'DICM') throw new FileMetaError('not a DICOM Part 10 file (no "DICM" after the 128-byte preamble)');
  const values = new Map<number, string>();
  let offset = 132;
  for (;;) {
    if (offset > MAX_META_BYTES) throw new FileMetaError(`File Meta Information longer than ${MAX_META_BYTES} bytes`);
    if (bytes.length < offset + 4) {
      if (complete && bytes.length === offset) break; // no data set at all: ingest will refuse it
      return more();
    }
    if (bytes.readUInt16LE(offset) !== 0x0002) break;
    if (bytes.length < offset + 8) return more();
    const element = bytes.readUInt16LE(offset + 2);
    const vr = bytes.toString('latin1', offset + 4, offset + 6);
    if (!/^[A-Z]{2}$/.test(vr)) throw new FileMetaError('File Meta Information is not in Explicit VR Little Endian');
    let header = 8;
    let length: number;
    if (LONG_VRS.has(vr)) {
      if (bytes.length < offset + 12) return more();
      length = bytes.readUInt32LE(offset + 8);
      header = 12;
    } else {
      length = bytes.readUInt16LE(offset + 6);
    }
    if (length > MAX_META_BYTES) throw new FileMetaError('File Meta element length out of range');
    if (bytes.length < offset + header + length) return more();
    if (vr !== 'SQ' && vr !== 'OB' && vr !== 'UN') values.set(element, text(bytes.subarray(offset + header, offset + header + length)));
    offset += header + length;
  }
  const SOPClassUID = values.get(0x0002) ?? '';
  const SOPInstanceUID = values.get(0x0003) ?? '';
  const TransferSyntaxUID = values.get(0x0010) ?? '';
  if (!SOPClassUID || !SOPInstanceUID || !TransferSyntaxUID) {
    throw new FileMetaError('File Meta Information lacks Media Storage SOP Class UID, Media Storage SOP Instance UID or Transfer Syntax UID');
  }
  return { SOPClassUID, SOPInstanceUID, TransferSyntaxUID, datasetOffset: offset };
}
