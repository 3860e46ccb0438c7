// What we negotiate. We accept every standard transfer syntax on input (gateways that demand one
// syntax break when the PACS forwards what it holds); transcoding is export's job.
import { isStorageSopClass, SopClass, TRANSFER_SYNTAXES, TransferSyntax } from '../dicom/uids.js';

// Verification only ever needs an uncompressed syntax.
const VERIFICATION_SYNTAXES = new Set<string>([TransferSyntax.ImplicitVRLittleEndian, TransferSyntax.ExplicitVRLittleEndian]);

/**
 * The transfer syntax to accept for a proposed presentation context, or undefined. We honour the
 * requestor's order: it usually lists the syntax the object is already in first.
 */
export function chooseTransferSyntax(abstractSyntax: string, proposed: readonly string[]): string | undefined {
  if (abstractSyntax === SopClass.Verification) return proposed.find((ts) => VERIFICATION_SYNTAXES.has(ts));
  if (!isStorageSopClass(abstractSyntax)) return undefined;
  return proposed.find((ts) => ts in TRANSFER_SYNTAXES);
}
