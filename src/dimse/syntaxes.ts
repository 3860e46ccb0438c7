// What we negotiate. We accept every standard transfer syntax on input (gateways that demand one
// syntax break when the PACS forwards what it holds); transcoding is export's job.
export const VERIFICATION_SOP_CLASS = '1.2.840.10008.1.1';

export const TRANSFER_SYNTAXES: Readonly<Record<string, string>> = {
  '1.2.840.10008.1.2': 'Implicit VR Little Endian',
  '1.2.840.10008.1.2.1': 'Explicit VR Little Endian',
  '1.2.840.10008.1.2.1.99': 'Deflated Explicit VR Little Endian',
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline (Process 1)',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended (Process 2 & 4)',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless, Non-Hierarchical (Process 14)',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 SV1)',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Lossy (Near-Lossless)',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 Image Compression (Lossless Only)',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000 Image Compression',
  '1.2.840.10008.1.2.4.201': 'High-Throughput JPEG 2000 (Lossless Only)',
  '1.2.840.10008.1.2.4.202': 'High-Throughput JPEG 2000 with RPCL Options (Lossless Only)',
  '1.2.840.10008.1.2.4.203': 'High-Throughput JPEG 2000',
  '1.2.840.10008.1.2.5': 'RLE Lossless',
};

// Verification only ever needs an uncompressed syntax.
const VERIFICATION_SYNTAXES = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1']);

/** Storage SOP classes all live under 1.2.840.10008.5.1.4.1.1 (PS3.4 B.5). */
export function isStorageSopClass(uid: string): boolean {
  return uid.startsWith('1.2.840.10008.5.1.4.1.1.');
}

/**
 * The transfer syntax to accept for a proposed presentation context, or undefined. We honour the
 * requestor's order: it usually lists the syntax the object is already in first.
 */
export function chooseTransferSyntax(abstractSyntax: string, proposed: readonly string[]): string | undefined {
  if (abstractSyntax === VERIFICATION_SOP_CLASS) return proposed.find((ts) => VERIFICATION_SYNTAXES.has(ts));
  if (!isStorageSopClass(abstractSyntax)) return undefined;
  return proposed.find((ts) => ts in TRANSFER_SYNTAXES);
}
