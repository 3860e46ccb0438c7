// The DICOM UIDs this node uses, under their PS3.6 Annex A keywords, and what it knows about each
// transfer syntax. Every folder takes its UIDs from here, so a UID is spelt once.

/** Transfer Syntax UIDs (PS3.6 Table A-1), keyed by their keyword. */
export const TransferSyntax = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  /** Retired; never accepted, named so that readers can recognise and refuse it. */
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
  JPEGBaseline8Bit: '1.2.840.10008.1.2.4.50',
  JPEGExtended12Bit: '1.2.840.10008.1.2.4.51',
  JPEGLossless: '1.2.840.10008.1.2.4.57',
  JPEGLosslessSV1: '1.2.840.10008.1.2.4.70',
  JPEGLSLossless: '1.2.840.10008.1.2.4.80',
  JPEGLSNearLossless: '1.2.840.10008.1.2.4.81',
  JPEG2000Lossless: '1.2.840.10008.1.2.4.90',
  JPEG2000: '1.2.840.10008.1.2.4.91',
  JPEG2000MCLossless: '1.2.840.10008.1.2.4.92',
  JPEG2000MC: '1.2.840.10008.1.2.4.93',
  HTJ2KLossless: '1.2.840.10008.1.2.4.201',
  HTJ2KLosslessRPCL: '1.2.840.10008.1.2.4.202',
  HTJ2K: '1.2.840.10008.1.2.4.203',
  RLELossless: '1.2.840.10008.1.2.5',
} as const;

/** SOP Class UIDs (PS3.6 Table A-1, PS3.4 B.5), keyed by their keyword. */
export const SopClass = {
  Verification: '1.2.840.10008.1.1',
  ComputedRadiographyImageStorage: '1.2.840.10008.5.1.4.1.1.1',
  DigitalXRayImageStorageForPresentation: '1.2.840.10008.5.1.4.1.1.1.1',
  DigitalXRayImageStorageForProcessing: '1.2.840.10008.5.1.4.1.1.1.1.1',
  SecondaryCaptureImageStorage: '1.2.840.10008.5.1.4.1.1.7',
  BasicTextSRStorage: '1.2.840.10008.5.1.4.1.1.88.11',
  EnhancedSRStorage: '1.2.840.10008.5.1.4.1.1.88.22',
  ComprehensiveSRStorage: '1.2.840.10008.5.1.4.1.1.88.33',
  Comprehensive3DSRStorage: '1.2.840.10008.5.1.4.1.1.88.34',
} as const;

/** DICOM Application Context Name (PS3.7 A.2.1), the only one an association may propose. */
export const DICOMApplicationContext = '1.2.840.10008.3.1.1.1';

/** Storage SOP classes all live under this root (PS3.4 B.5). */
const STORAGE_SOP_CLASS_ROOT = '1.2.840.10008.5.1.4.1.1.';

export function isStorageSopClass(uid: string): boolean {
  return uid.startsWith(STORAGE_SOP_CLASS_ROOT);
}

const TS = TransferSyntax;

/**
 * Transfer syntaxes every edge accepts (DIMSE negotiation, STOW-RS parts), with their PS3.6 names:
 * every standard image syntax on input; transcoding is export's job.
 */
export const TRANSFER_SYNTAXES: Readonly<Record<string, string>> = {
  [TS.ImplicitVRLittleEndian]: 'Implicit VR Little Endian',
  [TS.ExplicitVRLittleEndian]: 'Explicit VR Little Endian',
  [TS.DeflatedExplicitVRLittleEndian]: 'Deflated Explicit VR Little Endian',
  [TS.JPEGBaseline8Bit]: 'JPEG Baseline (Process 1)',
  [TS.JPEGExtended12Bit]: 'JPEG Extended (Process 2 & 4)',
  [TS.JPEGLossless]: 'JPEG Lossless, Non-Hierarchical (Process 14)',
  [TS.JPEGLosslessSV1]: 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 SV1)',
  [TS.JPEGLSLossless]: 'JPEG-LS Lossless',
  [TS.JPEGLSNearLossless]: 'JPEG-LS Lossy (Near-Lossless)',
  [TS.JPEG2000Lossless]: 'JPEG 2000 Image Compression (Lossless Only)',
  [TS.JPEG2000]: 'JPEG 2000 Image Compression',
  [TS.HTJ2KLossless]: 'High-Throughput JPEG 2000 (Lossless Only)',
  [TS.HTJ2KLosslessRPCL]: 'High-Throughput JPEG 2000 with RPCL Options (Lossless Only)',
  [TS.HTJ2K]: 'High-Throughput JPEG 2000',
  [TS.RLELossless]: 'RLE Lossless',
};

/**
 * Native (uncompressed) syntaxes: Pixel Data is plain samples (dcmjs inflates the deflated one on
 * reading). Every other syntax encapsulates Pixel Data (PS3.5 A.4).
 */
export const NATIVE_SYNTAXES: ReadonlySet<string> = new Set([TS.ImplicitVRLittleEndian, TS.ExplicitVRLittleEndian, TS.DeflatedExplicitVRLittleEndian]);

/** Syntaxes whose compression may lose information (PS3.5 A.4: the lossy processes). */
export const LOSSY_SYNTAXES: ReadonlySet<string> = new Set([
  TS.JPEGBaseline8Bit,
  TS.JPEGExtended12Bit,
  TS.JPEGLSNearLossless,
  TS.JPEG2000,
  TS.JPEG2000MC,
  TS.HTJ2K,
]);

/**
 * Transfer syntaxes the node can write any stored object in: the native ones (dcmjs) and, for
 * objects with pixels, the lossless compressed ones the WebAssembly encoders make (dcmjs-codecs).
 * Lossy syntaxes are never made here: a viewer asking for one gets it only when stored so.
 */
export const WRITABLE_SYNTAXES: ReadonlySet<string> = new Set([
  TS.ImplicitVRLittleEndian,
  TS.ExplicitVRLittleEndian,
  TS.RLELossless,
  TS.JPEGLosslessSV1,
  TS.JPEGLSLossless,
  TS.JPEG2000Lossless,
  TS.HTJ2KLossless,
]);
