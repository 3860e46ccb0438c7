// DIMSE status codes (PS3.7 Annex C, and the Storage Service Class's in PS3.4 B.2.3), under their
// standard names. STOW-RS reports the same codes as Failure Reasons (PS3.18 I.2.2), so both edges'
// tables take them from here; which coded error becomes which status stays at each edge.
export const Status = {
  Success: 0x0000,
  /** Warning (PS3.7 C.4): optional attributes were asked for that the performer does not support. */
  RequestedOptionalAttributesNotSupported: 0x0001,
  /** Warning (PS3.7 C.4): attribute list error. */
  AttributeListError: 0x0107,
  /** Warning (PS3.7 C.4): attribute value out of range. */
  AttributeValueOutOfRange: 0x0116,
  /** Failure (PS3.7 C.5): processing failure (I/O error, transfer aborted). */
  ProcessingFailure: 0x0110,
  /** Failure (PS3.7 C.5): SOP class not supported. */
  SOPClassNotSupported: 0x0122,
  /** Refused (PS3.4 B.2.3, A7xx): out of resources. */
  OutOfResources: 0xa700,
  /** Error (PS3.4 B.2.3, A9xx): data set does not match SOP class. */
  DataSetDoesNotMatchSOPClass: 0xa900,
  /** Error (PS3.4 B.2.3, Cxxx): cannot understand. */
  CannotUnderstand: 0xc000,
  /** Failure Reason (PS3.18 I.2.2): referenced transfer syntax not supported. */
  TransferSyntaxNotSupported: 0xc122,
} as const;

/** Storage warnings (PS3.4 B.2.3, Bxxx): coercion of data elements, elements discarded and the like. */
export function isStorageWarning(status: number): boolean {
  return status >= 0xb000 && status <= 0xbfff;
}
