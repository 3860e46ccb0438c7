// Coded errors become STOW-RS Failure Reasons (PS3.18 I.2.2, Table I.2-2) and HTTP statuses here,
// at the edge, the way dimse/dimse-status.ts makes them DIMSE statuses.
import { Status } from '../dicom/status.js';
import { describeError, isPrecedentError } from '../shared/errors.js';

export const FAILURE_REASON = {
  /** A7xx Refused: out of resources (free disk below the watermark, object too large). */
  OutOfResources: Status.OutOfResources,
  /** A9xx Error: Data Set does not match SOP Class (data set and File Meta disagree). */
  DataSetDoesNotMatchSOPClass: Status.DataSetDoesNotMatchSOPClass,
  /**
   * Implementation-specific, in the A9xx "does not match" range: the instance belongs to another
   * study than the one in the request URL (the value Microsoft's DICOM service uses for this case).
   */
  StudyInstanceUIDMismatch: 0xa901,
  /** Cxxx Error: Cannot understand (not a Part 10 file, unparseable data set, UIDs missing). */
  CannotUnderstand: Status.CannotUnderstand,
  /** C122 Referenced Transfer Syntax not supported. */
  TransferSyntaxNotSupported: Status.TransferSyntaxNotSupported,
  /** 0122 Referenced SOP Class not supported. */
  SOPClassNotSupported: Status.SOPClassNotSupported,
  /** 0110 Processing failure (I/O error, transfer aborted). */
  ProcessingFailure: Status.ProcessingFailure,
} as const;

export function failureReasonFor(err: unknown): { reason: number; message: string } {
  const message = describeError(err).message.slice(0, 200);
  if (!isPrecedentError(err)) return { reason: FAILURE_REASON.ProcessingFailure, message };
  switch (err.code) {
    case 'OUT_OF_RESOURCES':
    case 'INSTANCE_TOO_LARGE':
      return { reason: FAILURE_REASON.OutOfResources, message };
    case 'DATASET_MISMATCH':
      return { reason: FAILURE_REASON.DataSetDoesNotMatchSOPClass, message };
    case 'STUDY_MISMATCH':
      return { reason: FAILURE_REASON.StudyInstanceUIDMismatch, message };
    case 'DATASET_MALFORMED':
    case 'DATASET_INCOMPLETE':
    case 'UID_INVALID':
      return { reason: FAILURE_REASON.CannotUnderstand, message };
    default:
      return { reason: FAILURE_REASON.ProcessingFailure, message };
  }
}

/**
 * PS3.18 10.5.3.1: 200 all stored, 202 some failed, 409 none stored. This node also answers 507 when
 * every failure was the free-disk watermark (the sender should retry later, not fix its data).
 */
export function stowHttpStatus(stored: number, failures: ReadonlyArray<{ reason: number; outOfDisk: boolean }>): 200 | 202 | 409 | 507 {
  if (failures.length === 0) return 200;
  if (stored > 0) return 202;
  if (failures.every((f) => f.outOfDisk)) return 507;
  return 409;
}
