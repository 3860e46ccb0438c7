// Coded errors become DIMSE statuses here, at the edge (PS3.4 B.2.3 and Annex C of PS3.7).
import { Status } from '../dicom/status.js';
import { describeError, isPrecedentError } from '../shared/errors.js';

/** The statuses this SCP answers with. */
export const STATUS = {
  Success: Status.Success,
  OutOfResources: Status.OutOfResources,
  DataSetDoesNotMatchSOPClass: Status.DataSetDoesNotMatchSOPClass,
  CannotUnderstand: Status.CannotUnderstand,
  ProcessingFailure: Status.ProcessingFailure,
} as const;

export function storeStatusFor(err: unknown): { status: number; comment: string } {
  // Error Comment is limited to 64 characters (LO) and goes to the sender: no patient data is ever
  // in our messages, but keep it short.
  const comment = describeError(err).message.slice(0, 64);
  if (!isPrecedentError(err)) return { status: STATUS.ProcessingFailure, comment };
  switch (err.code) {
    case 'OUT_OF_RESOURCES':
    case 'INSTANCE_TOO_LARGE':
      return { status: STATUS.OutOfResources, comment };
    case 'DATASET_MISMATCH':
      return { status: STATUS.DataSetDoesNotMatchSOPClass, comment };
    case 'DATASET_MALFORMED':
    case 'DATASET_INCOMPLETE':
    case 'UID_INVALID':
      return { status: STATUS.CannotUnderstand, comment };
    default:
      return { status: STATUS.ProcessingFailure, comment };
  }
}
