// Errors carry a stable code and a cause. They become DIMSE or HTTP statuses only at the edges
// (dimse/dimse-status.ts), so the inner layers never know which protocol brought the object in.
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'OUT_OF_RESOURCES' // free disk below storage.minFreeBytes
  | 'INSTANCE_TOO_LARGE' // beyond storage.maxInstanceBytes
  | 'DATASET_MALFORMED' // cannot be parsed as a DICOM data set
  | 'DATASET_INCOMPLETE' // parses, but lacks an attribute needed to file it (UIDs)
  | 'UID_INVALID' // a Study/Series/SOP Instance or SOP Class UID that is not a single conformant UID (PS3.5 9.1)
  | 'DATASET_MISMATCH' // data set disagrees with the command (SOP Class/Instance UID)
  | 'STUDY_MISMATCH' // data set belongs to another study than the request names (STOW-RS to /studies/{uid})
  | 'STORAGE_FAILED' // I/O error while making the object durable
  | 'TRANSFER_ABORTED' // association ended before the object was complete
  | 'DECODE_FAILED' // pixels cannot be decoded (never succeeds on retry)
  | 'ENCODE_FAILED' // a result image could not be compressed (codecs not loaded; may succeed on retry)
  | 'MODEL_INVALID' // model folder, card or ONNX graph do not match the contract
  | 'INFERENCE_FAILED' // the runtime failed on valid input (may succeed on retry)
  | 'QUEUE_UNAVAILABLE' // Redis unreachable or misconfigured
  | 'NODE_UNREACHABLE' // a remote analysis worker cannot reach the node's worker API (retried, then the study fails)
  | 'MODEL_MISMATCH' // a remote analysis worker runs another model name@version than the node (never retried)
  | 'INDEX_UNAVAILABLE' // the configured vector index backend cannot be loaded (faiss-node not installed)
  | 'INDEX_FAILED' // the vector index (worker thread, file) failed
  | 'INPUT_INVALID'; // an operator's input (labels CSV, import folder) cannot be used

export class PrecedentError extends Error {
  readonly code: ErrorCode;
  readonly details: readonly string[];

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: readonly string[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PrecedentError';
    this.code = code;
    this.details = options.details ?? [];
  }
}

export function isPrecedentError(err: unknown): err is PrecedentError {
  return err instanceof PrecedentError;
}

/** A message safe for logs: the code and message of our errors, the class and message of others. */
export function describeError(err: unknown): { code: string; message: string; cause?: string } {
  if (isPrecedentError(err)) {
    const cause = err.cause instanceof Error ? err.cause.message : undefined;
    return cause ? { code: err.code, message: err.message, cause } : { code: err.code, message: err.message };
  }
  if (err instanceof Error) return { code: err.name, message: err.message };
  return { code: 'UNKNOWN', message: String(err) };
}

// A full file system or quota (errno), or a full SQLite database: a state that passes when space is
// freed, so senders must see "out of resources" (retry later) and work must wait, not fail for good.
const NO_SPACE_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/** True when `err` or any of its causes says the disk (or the catalog) is full. */
export function isOutOfSpace(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (isPrecedentError(e) && e.code === 'OUT_OF_RESOURCES') return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NO_SPACE_CODES.has(code)) return true;
  }
  return false;
}

/** An I/O failure while making something durable: OUT_OF_RESOURCES when the disk is full, else STORAGE_FAILED. */
export function storageError(message: string, cause: unknown): PrecedentError {
  return isOutOfSpace(cause)
    ? new PrecedentError('OUT_OF_RESOURCES', `${message}: no space left on the device`, { cause })
    : new PrecedentError('STORAGE_FAILED', message, { cause });
}

/** Failures that no retry can fix: the queue must not try again. */
const PERMANENT: ReadonlySet<ErrorCode> = new Set([
  'DECODE_FAILED',
  'DATASET_MALFORMED',
  'DATASET_INCOMPLETE',
  'UID_INVALID',
  'DATASET_MISMATCH',
  'STUDY_MISMATCH',
  'MODEL_INVALID',
  'MODEL_MISMATCH',
]);

export function isPermanent(err: unknown): boolean {
  return isPrecedentError(err) && PERMANENT.has(err.code);
}
