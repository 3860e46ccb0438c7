// STOW-RS (PS3.18 10.5): each part of a multipart/related request goes through exactly the same
// ingest path as a C-STORE (stream to disk, fsync, catalog, triage), one part at a time, and the
// answer lists what was stored and what failed, with Failure Reasons.
import type { Writable } from 'node:stream';
import type { IngestOutcome, IngestService, IngestSource, InstanceReceiver } from '../shared/types.js';
import type { Logger } from '../shared/log.js';
import { describeError, isPrecedentError } from '../shared/errors.js';
import { TRANSFER_SYNTAXES, isStorageSopClass } from '../dicom/uids.js';
import { MultipartError, parseMediaType, type MultipartPart } from './multipart.js';
import { FileMetaError, readFileMeta, type FileMeta } from './part10.js';
import { FAILURE_REASON, failureReasonFor, stowHttpStatus } from './http-status.js';
import { el, type DicomJson } from './dicom-json.js';

export interface StowContext {
  ingest: IngestService;
  log: Logger;
  source: IngestSource;
  /** From /studies/{StudyInstanceUID}: parts of other studies are refused. */
  expectedStudyInstanceUID?: string | undefined;
  /** Base of RetrieveURL values, e.g. http://host:8080/dicomweb */
  baseUrl: string;
}

interface Stored {
  SOPClassUID: string;
  outcome: IngestOutcome;
}

interface Failed {
  SOPClassUID: string;
  SOPInstanceUID: string;
  reason: number;
  message: string;
  outOfDisk: boolean;
}

export interface StowResult {
  status: 200 | 202 | 400 | 409 | 413 | 507;
  body: DicomJson;
  stored: Stored[];
  failed: Failed[];
}

type PartResult = { ok: true; stored: Stored } | { ok: false; failed: Failed };

function failedEntry(meta: Partial<FileMeta> | undefined, reason: number, message: string, outOfDisk = false): Failed {
  return { SOPClassUID: meta?.SOPClassUID ?? '', SOPInstanceUID: meta?.SOPInstanceUID ?? '', reason, message, outOfDisk };
}

function failure(meta: Partial<FileMeta> | undefined, reason: number, message: string, outOfDisk = false): PartResult {
  return { ok: false, failed: failedEntry(meta, reason, message, outOfDisk) };
}

function write(stream: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (stream.write(chunk)) resolve();
    else stream.once('drain', resolve);
  });
}

/** Reads chunks until the File Meta is complete. */
async function readMeta(iterator: AsyncIterator<Buffer>): Promise<{ meta: FileMeta; rest: Buffer }> {
  let head = Buffer.alloc(0);
  for (;;) {
    const next = await iterator.next();
    head = next.done ? head : Buffer.concat([head, next.value]);
    const meta = readFileMeta(head, next.done === true);
    if (meta) return { meta, rest: head.subarray(meta.datasetOffset) };
  }
}

async function drain(iterator: AsyncIterator<Buffer>): Promise<void> {
  while (!(await iterator.next()).done) {
    // discard
  }
}

async function storePart(part: MultipartPart, ctx: StowContext, log: Logger): Promise<PartResult> {
  const iterator = part.body[Symbol.asyncIterator]();
  const media = parseMediaType(part.headers['content-type']);
  if (media && media.type !== 'application/dicom') {
    await drain(iterator);
    return failure(undefined, FAILURE_REASON.CannotUnderstand, `part media type ${media.type} is not application/dicom`);
  }
  let meta: FileMeta;
  let rest: Buffer;
  try {
    ({ meta, rest } = await readMeta(iterator));
  } catch (err) {
    if (!(err instanceof FileMetaError)) throw err;
    await drain(iterator);
    return failure(undefined, FAILURE_REASON.CannotUnderstand, err.message);
  }
  if (!isStorageSopClass(meta.SOPClassUID)) {
    await drain(iterator);
    return failure(meta, FAILURE_REASON.SOPClassNotSupported, `SOP Class ${meta.SOPClassUID} is not a storage SOP class`);
  }
  if (!(meta.TransferSyntaxUID in TRANSFER_SYNTAXES)) {
    await drain(iterator);
    return failure(meta, FAILURE_REASON.TransferSyntaxNotSupported, `Transfer Syntax ${meta.TransferSyntaxUID} is not supported`);
  }
  let receiver: InstanceReceiver;
  try {
    receiver = ctx.ingest.begin(
      {
        SOPClassUID: meta.SOPClassUID,
        SOPInstanceUID: meta.SOPInstanceUID,
        TransferSyntaxUID: meta.TransferSyntaxUID,
        source: ctx.source,
        ...(ctx.expectedStudyInstanceUID ? { expectedStudyInstanceUID: ctx.expectedStudyInstanceUID } : {}),
      },
      log,
    );
  } catch (err) {
    await drain(iterator);
    const { reason, message } = failureReasonFor(err);
    return failure(meta, reason, message, isPrecedentError(err) && err.code === 'OUT_OF_RESOURCES');
  }
  try {
    if (rest.length > 0) await write(receiver.stream, rest);
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      await write(receiver.stream, next.value);
    }
  } catch (err) {
    // The request broke off (or the multipart body is malformed) inside this part: nothing is kept.
    await receiver.discard();
    throw Object.assign(err instanceof Error ? err : new Error(String(err)), { partMeta: meta });
  }
  receiver.stream.end();
  try {
    const outcome = await receiver.complete();
    return { ok: true, stored: { SOPClassUID: meta.SOPClassUID, outcome } };
  } catch (err) {
    const { reason, message } = failureReasonFor(err);
    return failure(meta, reason, message, isPrecedentError(err) && err.code === 'OUT_OF_RESOURCES');
  }
}

function instanceUrl(base: string, o: IngestOutcome): string {
  return o.SeriesInstanceUID
    ? `${base}/studies/${o.StudyInstanceUID}/series/${o.SeriesInstanceUID}/instances/${o.SOPInstanceUID}`
    : `${base}/studies/${o.StudyInstanceUID}`;
}

/** The Store Instances Response Module (PS3.18 Annex I) as DICOM JSON. */
export function stowResponse(ctx: Pick<StowContext, 'baseUrl' | 'expectedStudyInstanceUID'>, stored: readonly Stored[], failed: readonly Failed[]): DicomJson {
  const studies = new Set(stored.map((s) => s.outcome.StudyInstanceUID));
  const study = ctx.expectedStudyInstanceUID ?? (studies.size === 1 ? [...studies][0] : undefined);
  const body: DicomJson = { '00081190': el('UR', study ? `${ctx.baseUrl}/studies/${study}` : undefined) };
  if (failed.length > 0) {
    body['00081198'] = {
      vr: 'SQ',
      Value: failed.map((f) => ({
        '00081150': el('UI', f.SOPClassUID),
        '00081155': el('UI', f.SOPInstanceUID),
        '00081197': el('US', f.reason),
      })),
    };
  }
  if (stored.length > 0) {
    body['00081199'] = {
      vr: 'SQ',
      Value: stored.map((s) => ({
        '00081150': el('UI', s.SOPClassUID),
        '00081155': el('UI', s.outcome.SOPInstanceUID),
        '00081190': el('UR', instanceUrl(ctx.baseUrl, s.outcome)),
      })),
    };
  }
  return body;
}

/** Stores every part; never throws for what a client sent (a broken body becomes a status). */
export async function storeInstances(parts: AsyncIterable<MultipartPart>, ctx: StowContext): Promise<StowResult> {
  const stored: Stored[] = [];
  const failed: Failed[] = [];
  let status: StowResult['status'] | undefined;
  let index = 0;
  try {
    for await (const part of parts) {
      const log = ctx.log.child({ part: index++ });
      const result = await storePart(part, ctx, log);
      if (result.ok) {
        stored.push(result.stored);
        const { SOPInstanceUID, disposition, version, reason } = result.stored.outcome;
        log.debug({ SOPInstanceUID, disposition, version, ...(reason ? { reason } : {}) }, 'STOW-RS part stored');
      } else {
        failed.push(result.failed);
        log.warn(
          {
            SOPInstanceUID: result.failed.SOPInstanceUID || undefined,
            failureReason: `0x${result.failed.reason.toString(16).padStart(4, '0')}`,
            why: result.failed.message,
          },
          'STOW-RS part failed',
        );
      }
    }
  } catch (err) {
    const meta = (err as { partMeta?: FileMeta }).partMeta;
    if (err instanceof MultipartError) {
      ctx.log.warn({ err: err.message }, err.kind === 'too-large' ? 'STOW-RS request exceeds dicomweb.maxRequestBytes' : 'malformed multipart body');
      if (meta) failed.push(failedEntry(meta, err.kind === 'too-large' ? FAILURE_REASON.OutOfResources : FAILURE_REASON.CannotUnderstand, err.message));
      status = err.kind === 'too-large' ? 413 : stored.length === 0 && failed.length === 0 ? 400 : undefined;
      if (!meta && status === undefined) failed.push(failedEntry(undefined, FAILURE_REASON.CannotUnderstand, err.message));
    } else {
      // The client went away (aborted request): nobody will read the answer.
      ctx.log.warn({ err: describeError(err) }, 'STOW-RS request broke off');
      if (meta) failed.push(failedEntry(meta, FAILURE_REASON.ProcessingFailure, 'request broke off'));
      status = stored.length === 0 ? 400 : 202;
    }
  }
  if (status === undefined) status = stored.length === 0 && failed.length === 0 ? 400 : stowHttpStatus(stored.length, failed);
  return { status, body: stowResponse(ctx, stored, failed), stored, failed };
}
