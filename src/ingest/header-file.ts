// The header of an object whose first megabyte did not hold it, read from its temporary file within
// a memory budget. Reading the whole file (and letting dcmjs copy every value) made a 200 MB private
// OB element, or a deflated data set that inflates 1000:1, cost the node several times their size in
// memory (issue 12). Here the file is walked element by element: long top-level values that ingest
// never reads are skipped, a deflated data set is inflated as a stream of which only the header part
// is kept, and past the budget the object is refused (INSTANCE_TOO_LARGE, DIMSE 0xA700).
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { createInflateRaw } from 'node:zlib';
import { TransferSyntax } from '../dicom/uids.js';
import { PrecedentError } from '../shared/errors.js';
import { IDENTITY_TAG_SET, parseHeader, type ParsedHeader } from './header.js';
import { fileMetaHeader, type FileMetaFields } from './part10.js';
import { elementEnd, LONG_VRS, Truncated } from './walk.js';

const IMPLICIT = TransferSyntax.ImplicitVRLittleEndian;
const EXPLICIT = TransferSyntax.ExplicitVRLittleEndian;
const DEFLATED = TransferSyntax.DeflatedExplicitVRLittleEndian;
const UNDEFINED = 0xffffffff;
// Nothing ingest reads (identity, triage and search attributes) is longer than this.
const SKIP_VALUE_BYTES = 64 * 1024;

export interface HeaderBudget {
  /** The most header bytes held in memory (data set less skipped values, or the inflated data set up to Pixel Data). */
  headerBytes: number;
  /** A deflated data set inflating beyond this (storage.maxInstanceBytes) is refused without inflating further. */
  maxInflatedBytes: number;
}

const tooLarge = (what: string, limit: number): PrecedentError => new PrecedentError('INSTANCE_TOO_LARGE', `${what} exceeds ${limit} bytes`);
const malformed = (message: string): PrecedentError => new PrecedentError('DATASET_MALFORMED', message);

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  return buf.subarray(0, readSync(fd, buf, 0, length, position));
}

/** Header of a native (not deflated) object from its file: the File Meta we wrote is the first `metaLength` bytes. */
export function headerFromFile(path: string, metaLength: number, transferSyntaxUID: string, budget: HeaderBudget): ParsedHeader {
  const explicit = transferSyntaxUID !== IMPLICIT;
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const parts: Buffer[] = [readAt(fd, 0, metaLength)];
    let kept = 0;
    let pixelData = false;
    for (let pos = metaLength; pos < size;) {
      const head = readAt(fd, pos, 12);
      if (head.length < 8) throw malformed(`element header runs past the end of the data set at byte ${pos - metaLength}`);
      const tag = ((head.readUInt16LE(0) << 16) | head.readUInt16LE(2)) >>> 0;
      if (tag === 0x7fe00010) {
        // The header ends here, as in a prefix: the walk and dcmjs stop at Pixel Data.
        parts.push(head);
        pixelData = true;
        break;
      }
      const long = !explicit || LONG_VRS.has(head.toString('latin1', 4, 6));
      const headerLength = explicit && long ? 12 : 8;
      if (head.length < headerLength) throw malformed(`element header runs past the end of the data set at byte ${pos - metaLength}`);
      const length = explicit && long ? head.readUInt32LE(8) : explicit ? head.readUInt16LE(6) : head.readUInt32LE(4);
      const sequence = explicit && head.toString('latin1', 4, 6) === 'SQ';
      if (length !== UNDEFINED && length > SKIP_VALUE_BYTES && !sequence && !IDENTITY_TAG_SET.has(tag)) {
        if (pos + headerLength + length > size) throw malformed(`element runs past the end of the data set at byte ${pos - metaLength}`);
        pos += headerLength + length;
        continue;
      }
      // Kept: its end is found by the walk (nested items checked), reading more while within budget.
      let window = length === UNDEFINED ? SKIP_VALUE_BYTES : headerLength + length;
      for (;;) {
        if (kept + Math.min(window, size - pos) > budget.headerBytes) throw tooLarge('header (data set without its long values)', budget.headerBytes);
        const bytes = readAt(fd, pos, Math.min(window, size - pos));
        try {
          const end = elementEnd(bytes, explicit, pos + bytes.length >= size);
          parts.push(bytes.subarray(0, end));
          kept += end;
          pos += end;
          break;
        } catch (err) {
          if (!(err instanceof Truncated)) throw err;
          window *= 2;
        }
      }
    }
    const parsed = parseHeader(Buffer.concat(parts), !pixelData, transferSyntaxUID);
    if (!parsed) throw malformed('data set cannot be parsed');
    return parsed;
  } finally {
    closeSync(fd);
  }
}

/**
 * Header of a deflated object: the data set is inflated as a stream (never more than
 * `maxInflatedBytes`, counted as it goes) and only its first `headerBytes` are kept and parsed, as
 * Explicit VR Little Endian behind a File Meta that says so.
 */
export async function headerFromDeflatedFile(path: string, metaLength: number, meta: FileMetaFields, budget: HeaderBudget): Promise<ParsedHeader> {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let total = 0;
  await new Promise<void>((resolve, reject) => {
    const source = createReadStream(path, { start: metaLength });
    const inflate = createInflateRaw();
    const fail = (err: Error): void => {
      source.destroy();
      inflate.destroy();
      reject(err);
    };
    source.on('error', fail);
    inflate.on('error', (cause) => fail(new PrecedentError('DATASET_MALFORMED', 'deflated data set cannot be inflated', { cause })));
    inflate.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > budget.maxInflatedBytes) return fail(tooLarge('inflated data set', budget.maxInflatedBytes));
      if (keptBytes < budget.headerBytes) {
        const take = chunk.subarray(0, budget.headerBytes - keptBytes);
        kept.push(take);
        keptBytes += take.length;
      }
    });
    inflate.on('end', resolve);
    source.pipe(inflate);
  });
  const complete = keptBytes === total;
  const bytes = Buffer.concat([fileMetaHeader({ ...meta, TransferSyntaxUID: EXPLICIT }), ...kept]);
  const parsed = parseHeader(bytes, complete, EXPLICIT);
  if (!parsed) throw tooLarge('header of the inflated data set', budget.headerBytes);
  return { ...parsed, TransferSyntaxUID: DEFLATED };
}
