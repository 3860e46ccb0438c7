// One object being received. Bytes go straight to a temp file (never held whole in memory); the first
// bytes are also kept for the header. complete() makes it durable and recorded, and only then does the
// edge answer Success.
import { closeSync, fsyncSync, openSync, write as fsWrite, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { IngestOutcome, InstanceReceiver, StoreRequest } from '../shared/types.js';
import type { Catalog } from '../shared/catalog.js';
import { PHI_FILE_MODE, type FileStore } from '../shared/files.js';
import type { Logger } from '../shared/log.js';
import { PrecedentError, storageError } from '../shared/errors.js';
import { isValidUid } from '../shared/uid.js';
import { fileMetaHeader } from './part10.js';
import { parseHeader, type ParsedHeader } from './header.js';
import { headerFromDeflatedFile, headerFromFile, type HeaderBudget } from './header-file.js';
import { triage } from './triage.js';

const DEFLATED = '1.2.840.10008.1.2.1.99';

export interface ReceiverDeps {
  catalog: Catalog;
  files: FileStore;
  log: Logger;
  minFreeBytes: number;
  maxInstanceBytes: number;
  keepIgnored: boolean;
  headerBytes: number;
  /** Memory bounds for headers that do not fit in the first `headerBytes`, and for deflated data sets. */
  headerBudget: HeaderBudget;
  now: () => number;
}

function writeAll(fd: number, chunk: Buffer, done: (err: Error | null) => void, offset = 0): void {
  fsWrite(fd, chunk, offset, chunk.length - offset, null, (err, written) => {
    if (err) return done(err);
    if (offset + written < chunk.length) return writeAll(fd, chunk, done, offset + written);
    done(null);
  });
}

export function createReceiver(deps: ReceiverDeps, request: StoreRequest): InstanceReceiver {
  const { files, log } = deps;
  const tempPath = files.tempPath();
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let headLength = 0;
  let metaLength = 0;
  let datasetBytes = 0;
  let fd: number | undefined;
  // Set when the object can no longer succeed; the rest of the stream is then read and dropped so the
  // association stays in step, and complete() reports the failure.
  let failure: PrecedentError | undefined;

  const closeFd = (): void => {
    if (fd !== undefined) {
      closeSync(fd);
      fd = undefined;
    }
  };
  const fail = (err: PrecedentError): void => {
    if (failure) return;
    failure = err;
    closeFd();
    files.remove(tempPath);
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
    try {
      fd = openSync(tempPath, 'wx', PHI_FILE_MODE);
      writeSync(fd, meta);
    } catch (cause) {
      fail(storageError('cannot create the temporary file', cause));
    }
    head.push(meta);
    headLength = meta.length;
    metaLength = meta.length;
  }

  const stream = new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _enc, callback) {
      if (failure || fd === undefined) return callback();
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
      writeAll(fd, chunk, (err) => {
        if (err) fail(storageError('cannot write the object to disk', err));
        callback();
      });
    },
    final(callback) {
      if (!failure && fd !== undefined) {
        try {
          fsyncSync(fd);
        } catch (cause) {
          fail(storageError('cannot fsync the object', cause));
        }
      }
      closeFd();
      callback();
    },
  });
  // The stream never errors on purpose; an unexpected error must not crash the process.
  stream.on('error', (err) => fail(storageError('receive stream failed', err)));

  const metaFields = { MediaStorageSOPClassUID: request.SOPClassUID, MediaStorageSOPInstanceUID: request.SOPInstanceUID, TransferSyntaxUID: request.TransferSyntaxUID };
  // From the first bytes when they hold the header, else from the file within deps.headerBudget;
  // a deflated data set is always inflated as a bounded stream from the file.
  const readHeader = async (): Promise<ParsedHeader> => {
    if (request.TransferSyntaxUID === DEFLATED) return headerFromDeflatedFile(tempPath, metaLength, metaFields, deps.headerBudget);
    const complete = headLength === metaLength + datasetBytes;
    return parseHeader(Buffer.concat(head), complete, request.TransferSyntaxUID) ?? headerFromFile(tempPath, metaLength, request.TransferSyntaxUID, deps.headerBudget);
  };

  async function complete(): Promise<IngestOutcome> {
    try {
      await finished(stream);
    } catch (cause) {
      fail(new PrecedentError('TRANSFER_ABORTED', 'object stream ended early', { cause }));
    }
    if (failure) throw failure;
    try {
      return record(await readHeader());
    } catch (err) {
      files.remove(tempPath);
      throw err;
    }
  }

  function record(parsed: ParsedHeader): IngestOutcome {
    const h = parsed.header;
    // Identity first, on the values as sent: a UID is refused, never repaired (PS3.5 9.1).
    for (const [name, value] of [['SOP Instance UID', h.SOPInstanceUID], ['Study Instance UID', h.StudyInstanceUID], ['Series Instance UID', h.SeriesInstanceUID], ['SOP Class UID', h.SOPClassUID]] as const) {
      if (value === '') throw new PrecedentError('DATASET_INCOMPLETE', `${name} is missing`);
      if (!isValidUid(value)) throw new PrecedentError('UID_INVALID', `${name} is not a valid UID (PS3.5 9.1)`);
    }
    if (h.SOPInstanceUID !== request.SOPInstanceUID) {
      throw new PrecedentError('DATASET_MISMATCH', `SOP Instance UID in the data set (${h.SOPInstanceUID || 'none'}) differs from the command (${request.SOPInstanceUID})`);
    }
    if (h.SOPClassUID !== request.SOPClassUID) {
      throw new PrecedentError('DATASET_MISMATCH', `SOP Class UID in the data set (${h.SOPClassUID || 'none'}) differs from the command (${request.SOPClassUID})`);
    }
    if (request.expectedStudyInstanceUID !== undefined && h.StudyInstanceUID !== request.expectedStudyInstanceUID) {
      throw new PrecedentError('STUDY_MISMATCH', `Study Instance UID in the data set (${h.StudyInstanceUID}) differs from the request (${request.expectedStudyInstanceUID})`);
    }
    const sha256 = hash.digest('hex');
    // From here to recordInstance nothing awaits, so two associations cannot interleave on one UID.
    const versions = deps.catalog.instanceVersions(h.SOPInstanceUID);
    const base = { SOPInstanceUID: h.SOPInstanceUID, StudyInstanceUID: h.StudyInstanceUID, SeriesInstanceUID: h.SeriesInstanceUID };
    const same = versions.find((v) => v.sha256 === sha256);
    if (same) {
      files.remove(tempPath);
      return { ...base, disposition: 'duplicate', version: same.version };
    }
    if (files.freeBytes() < deps.minFreeBytes) {
      throw new PrecedentError('OUT_OF_RESOURCES', 'free disk space is below storage.minFreeBytes');
    }
    const version = (versions.at(-1)?.version ?? 0) + 1;
    const verdict = triage(h);
    const place = { ...base, version };
    let path: string | null = null;
    if (verdict.analyzable || deps.keepIgnored) {
      try {
        path = files.commit(tempPath, place);
      } catch (cause) {
        throw storageError('cannot move the object into place', cause);
      }
    }
    const now = deps.now();
    try {
      deps.catalog.recordInstance(
        {
          ...place,
          SOPClassUID: h.SOPClassUID,
          TransferSyntaxUID: parsed.TransferSyntaxUID || request.TransferSyntaxUID,
          path,
          size: metaLength + datasetBytes,
          sha256,
          status: verdict.analyzable ? 'accepted' : 'ignored',
          reason: verdict.analyzable ? null : verdict.reason,
          callingAETitle: request.source.callingAETitle,
          calledAETitle: request.source.calledAETitle,
          receivedAt: now,
          analyzable: verdict.analyzable,
          query: parsed.query,
        },
        now,
      );
    } catch (cause) {
      if (path) files.remove(path);
      throw storageError('cannot record the object in the catalog', cause);
    }
    if (!path) files.remove(tempPath);
    if (!verdict.analyzable) return { ...base, disposition: 'ignored', version, reason: verdict.reason };
    if (version > 1) {
      log.warn({ SOPInstanceUID: h.SOPInstanceUID, version }, 'different object received under an existing SOP Instance UID: kept as a new version');
      return { ...base, disposition: 'new-version', version };
    }
    return { ...base, disposition: 'stored', version };
  }

  async function discard(): Promise<void> {
    if (!stream.destroyed) stream.destroy();
    fail(new PrecedentError('TRANSFER_ABORTED', 'association ended before the object was complete'));
  }

  return { stream, complete, discard };
}
