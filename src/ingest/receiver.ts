// One object being received. Bytes go straight to a temp file (never held whole in memory); the first
// bytes are also kept for the header. complete() makes it durable and recorded, and only then does the
// edge answer Success.
import { closeSync, fdatasync, writev as fsWritev } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { TransferSyntax } from '../dicom/uids.js';
import type { IngestOutcome, InstanceReceiver, StoreRequest } from '../shared/types.js';
import type { FileStore, ReceivingFile } from '../shared/files.js';
import type { Logger } from '../shared/log.js';
import { describeError, PrecedentError, storageError } from '../shared/errors.js';
import { isValidUid } from '../shared/uid.js';
import { fileMetaHeader } from './part10.js';
import { parseHeader, type ParsedHeader } from './header.js';
import { headerFromDeflatedFile, headerFromFile, type HeaderBudget } from './header-file.js';
import { triage } from './triage.js';
import { readSrReport } from './sr-report.js';
import type { GroupCommitter, PendingObject } from './group-commit.js';

const DEFLATED = TransferSyntax.DeflatedExplicitVRLittleEndian;

export interface ReceiverDeps {
  files: FileStore;
  /** Makes checked objects durable in place and catalogued, in batches across associations. */
  committer: GroupCommitter;
  log: Logger;
  minFreeBytes: number;
  maxInstanceBytes: number;
  headerBytes: number;
  /** Memory bounds for headers that do not fit in the first `headerBytes`, and for deflated data sets. */
  headerBudget: HeaderBudget;
}

/**
 * Writes the chunks in order with one writev (no merged copy: on this kind of host a fresh 256 KB
 * buffer costs more in page faults than the write itself), then whatever a short write left.
 */
function writeAll(fd: number, chunks: Buffer[], done: (err: Error | null) => void): void {
  fsWritev(fd, chunks, (err, written) => {
    if (err) return done(err);
    let left = written;
    const rest: Buffer[] = [];
    for (const chunk of chunks) {
      if (left >= chunk.length) left -= chunk.length;
      else {
        rest.push(left > 0 ? chunk.subarray(left) : chunk);
        left = 0;
      }
    }
    if (rest.length > 0) return writeAll(fd, rest, done);
    done(null);
  });
}

const WRITE_BYTES = 256 * 1024;
/** What readHeader tries first, before the whole kept head (deps.headerBytes). */
const FIRST_HEADER_BYTES = 64 * 1024;
/** Tiny PDUs (a peer may send 16-byte fragments) still make one writev of at most this many buffers. */
const WRITE_CHUNKS = 256;

export function createReceiver(deps: ReceiverDeps, request: StoreRequest): InstanceReceiver {
  const { files, log } = deps;
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let headLength = 0;
  let metaLength = 0;
  let datasetBytes = 0;
  /** The file being written; set once its asynchronous open completes. */
  let file: ReceivingFile | undefined;
  let opening: Promise<void> | undefined;
  let closed = false;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  // Set when the object can no longer succeed; the rest of the stream is then read and dropped so the
  // association stays in step, and complete() reports the failure.
  let failure: PrecedentError | undefined;
  /** Started by the stream's final(); complete() awaits it. */
  let headerRead: Promise<ParsedHeader> | undefined;

  const closeFile = (): void => {
    if (file && !closed) {
      closed = true;
      closeSync(file.fd);
    }
  };
  const fail = (err: PrecedentError): void => {
    if (failure) return;
    failure = err;
    pending = [];
    pendingBytes = 0;
    if (file) {
      closeFile();
      files.remove(file.path);
    }
  };

  if (files.freeBytes() < deps.minFreeBytes) {
    failure = new PrecedentError('OUT_OF_RESOURCES', 'free disk space is below storage.minFreeBytes');
  } else {
    const meta = fileMetaHeader({
      MediaStorageSOPClassUID: request.SOPClassUID,
      MediaStorageSOPInstanceUID: request.SOPInstanceUID,
      TransferSyntaxUID: request.TransferSyntaxUID,
      SourceApplicationEntityTitle: request.source.callingAETitle,
    });
    // Opened on the thread pool: the first PDUs gather in `pending` meanwhile (the create was ~0.25 ms
    // of the event loop per object). The File Meta is the first chunk written.
    opening = files.openReceivingFile(request.SOPInstanceUID).then(
      (opened) => {
        file = opened;
        // A failure decided while the file was opening (size limit, aborted transfer) removes it now.
        if (failure) {
          closeFile();
          files.remove(opened.path);
        }
      },
      (cause: unknown) => fail(storageError('cannot create the file to receive into', cause)),
    );
    pending.push(meta);
    pendingBytes = meta.length;
    head.push(meta);
    headLength = meta.length;
    metaLength = meta.length;
  }

  const writeChunk = (chunk: Buffer, callback: () => void): void => {
    if (failure) return callback();
    datasetBytes += chunk.length;
    if (datasetBytes > deps.maxInstanceBytes) {
      fail(new PrecedentError('INSTANCE_TOO_LARGE', `object exceeds storage.maxInstanceBytes (${deps.maxInstanceBytes})`));
      return callback();
    }
    hash.update(chunk);
    if (headLength < deps.headerBytes) {
      head.push(chunk);
      headLength += chunk.length;
    }
    // PDUs are gathered up to WRITE_BYTES and written with one pwrite (strace: ~40 writes, each a
    // thread-pool round trip, per 270 KB object at 16 KB PDUs); at most that much is held in memory.
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes < WRITE_BYTES && pending.length < WRITE_CHUNKS) return callback();
    flush(callback);
  };

  const flush = (callback: () => void): void => {
    if (failure || pendingBytes === 0) return callback();
    if (!file) {
      void opening?.then(() => flush(callback));
      return;
    }
    const data = pending;
    pending = [];
    pendingBytes = 0;
    writeAll(file.fd, data, (err) => {
      if (err) fail(storageError('cannot write the object to disk', err));
      callback();
    });
  };

  const stream = new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _enc, callback) {
      writeChunk(chunk, callback);
    },
    final(callback) {
      flush(() => {
        if (failure || !file) {
          closeFile();
          return callback();
        }
        // fdatasync on the thread pool: the data and the file size are durable (what a reader
        // needs), and the event loop keeps serving other associations meanwhile.
        fdatasync(file.fd, (cause) => {
          if (cause) fail(storageError('cannot fsync the object', cause));
          closeFile();
          callback();
        });
        // Every byte is written (not yet durable): the header is parsed while the fdatasync runs
        // instead of after it, one parse less on each object's path to its C-STORE response.
        headerRead = readHeader();
        headerRead.catch(() => undefined);
      });
    },
  });
  // The stream never errors on purpose; an unexpected error must not crash the process.
  stream.on('error', (err) => fail(storageError('receive stream failed', err)));

  const metaFields = {
    MediaStorageSOPClassUID: request.SOPClassUID,
    MediaStorageSOPInstanceUID: request.SOPInstanceUID,
    TransferSyntaxUID: request.TransferSyntaxUID,
  };
  // From the first bytes when they hold the header, else from the file within deps.headerBudget;
  // a deflated data set is always inflated as a bounded stream from the file.
  const readHeader = async (): Promise<ParsedHeader> => {
    const path = files.absolute((file as ReceivingFile).path);
    if (request.TransferSyntaxUID === DEFLATED) return headerFromDeflatedFile(path, metaLength, metaFields, deps.headerBudget);
    const complete = headLength === metaLength + datasetBytes;
    // A radiograph's header nearly always ends within its first 64 KB: only those are joined (copied)
    // first; the kept megabyte only when Pixel Data starts beyond them (large LUTs, overlays). Joining
    // the whole megabyte for every object cost about 0.4 ms of the event loop per object.
    const first = headLength > FIRST_HEADER_BYTES ? parseHeader(Buffer.concat(head, FIRST_HEADER_BYTES), false, request.TransferSyntaxUID) : undefined;
    return (
      first ??
      parseHeader(Buffer.concat(head), complete, request.TransferSyntaxUID) ??
      headerFromFile(path, metaLength, request.TransferSyntaxUID, deps.headerBudget)
    );
  };

  async function complete(): Promise<IngestOutcome> {
    try {
      await finished(stream);
    } catch (cause) {
      fail(new PrecedentError('TRANSFER_ABORTED', 'object stream ended early', { cause }));
    }
    if (failure || !file) throw failure ?? storageError('no file was opened for the object', undefined);
    let pending: PendingObject;
    try {
      pending = check(await (headerRead ?? readHeader()), file);
      // Its folder's fsync ran while the object arrived; an object is committed only once its name is durable.
      await file.entryDurable.catch((cause: unknown) => {
        throw storageError('cannot make the directory entry durable', cause);
      });
    } catch (err) {
      files.remove(file.path);
      throw err;
    }
    if (!pending.verdict.analyzable && pending.verdict.report) pending = await withReport(pending);
    return deps.committer.submit(pending);
  }

  /**
   * A structured report is read whole (reports are small; one beyond the header budget is not read):
   * its report text goes on with the outcome, or the verdict says why it is not a radiology report. A
   * report that cannot be read is still acknowledged and kept as received: the sender did nothing wrong
   * that a retry would fix.
   */
  async function withReport(pending: PendingObject): Promise<PendingObject> {
    const ignored = (reason: string): PendingObject => ({ ...pending, verdict: { analyzable: false, reason } });
    if (metaLength + datasetBytes > deps.headerBudget.headerBytes)
      return ignored(`structured report larger than ${deps.headerBudget.headerBytes} bytes: not read as a report`);
    try {
      const reading = readSrReport(await readFile(files.absolute(pending.file)));
      if ('skip' in reading) return ignored(reading.skip);
      return { ...pending, report: reading.report };
    } catch (err) {
      log.warn({ SOPInstanceUID: pending.base.SOPInstanceUID, err: describeError(err) }, 'structured report cannot be read: kept as received, no report filed');
      return ignored('structured report cannot be parsed: no report filed');
    }
  }

  /** The header's identity checked against the request; what the committer needs to file it. */
  function check(parsed: ParsedHeader, received: ReceivingFile): PendingObject {
    const h = parsed.header;
    // Identity first, on the values as sent: a UID is refused, never repaired (PS3.5 9.1).
    for (const [name, value] of [
      ['SOP Instance UID', h.SOPInstanceUID],
      ['Study Instance UID', h.StudyInstanceUID],
      ['Series Instance UID', h.SeriesInstanceUID],
      ['SOP Class UID', h.SOPClassUID],
    ] as const) {
      if (value === '') throw new PrecedentError('DATASET_INCOMPLETE', `${name} is missing`);
      if (!isValidUid(value)) throw new PrecedentError('UID_INVALID', `${name} is not a valid UID (PS3.5 9.1)`);
    }
    if (h.SOPInstanceUID !== request.SOPInstanceUID) {
      throw new PrecedentError(
        'DATASET_MISMATCH',
        `SOP Instance UID in the data set (${h.SOPInstanceUID || 'none'}) differs from the command (${request.SOPInstanceUID})`,
      );
    }
    if (h.SOPClassUID !== request.SOPClassUID) {
      throw new PrecedentError(
        'DATASET_MISMATCH',
        `SOP Class UID in the data set (${h.SOPClassUID || 'none'}) differs from the command (${request.SOPClassUID})`,
      );
    }
    if (request.expectedStudyInstanceUID !== undefined && h.StudyInstanceUID !== request.expectedStudyInstanceUID) {
      throw new PrecedentError(
        'STUDY_MISMATCH',
        `Study Instance UID in the data set (${h.StudyInstanceUID}) differs from the request (${request.expectedStudyInstanceUID})`,
      );
    }
    const verdict = triage(h);
    return {
      file: received.path,
      placed: received.placed,
      sha256: hash.digest('hex'),
      base: { SOPInstanceUID: h.SOPInstanceUID, StudyInstanceUID: h.StudyInstanceUID, SeriesInstanceUID: h.SeriesInstanceUID },
      verdict,
      row: {
        SOPClassUID: h.SOPClassUID,
        TransferSyntaxUID: parsed.TransferSyntaxUID || request.TransferSyntaxUID,
        size: metaLength + datasetBytes,
        callingAETitle: request.source.callingAETitle,
        calledAETitle: request.source.calledAETitle,
        query: parsed.query,
      },
      log,
    };
  }

  async function discard(): Promise<void> {
    if (!stream.destroyed) stream.destroy();
    fail(new PrecedentError('TRANSFER_ABORTED', 'association ended before the object was complete'));
  }

  return { stream, complete, discard };
}
