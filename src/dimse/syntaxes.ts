// What we negotiate. We accept every standard transfer syntax on input (gateways that demand one
// syntax break when the PACS forwards what it holds); transcoding is export's job.
import { TRANSFER_SYNTAXES, isStorageSopClass } from '../shared/syntaxes.js';

export { TRANSFER_SYNTAXES, isStorageSopClass };

export const VERIFICATION_SOP_CLASS = '1.2.840.10008.1.1';

// Verification only ever needs an uncompressed syntax.
const VERIFICATION_SYNTAXES = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1']);

/**
 * The transfer syntax to accept for a proposed presentation context, or undefined. We honour the
 * requestor's order: it usually lists the syntax the object is already in first.
 */
export function chooseTransferSyntax(abstractSyntax: string, proposed: readonly string[]): string | undefined {
  if (abstractSyntax === VERIFICATION_SOP_CLASS) return proposed.find((ts) => VERIFICATION_SYNTAXES.has(ts));
  if (!isStorageSopClass(abstractSyntax)) return undefined;
  return proposed.find((ts) => ts in TRANSFER_SYNTAXES);
}
