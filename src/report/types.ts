// The inputs and outputs of report/: plain data in, Part 10 bytes out. Nothing here reads files,
// talks to the network or keeps state, so every builder is a pure function of its input (plus
// fresh UIDs and the clock, both of which a caller can pin).
import type { AttentionMap, DecodedImage, ModelCard } from '../shared/analysis.js';
import type { RetrievalResult } from '../shared/cases.js';

/**
 * The analysed image as the results refer to it: its identity, and the Patient, General Study and
 * Patient Study attributes that every result copies so it files into the same patient and study.
 */
export interface SourceImage {
  SOPClassUID: string;
  SOPInstanceUID: string;
  SeriesInstanceUID: string;
  StudyInstanceUID: string;
  Modality: string;
  /** The source's Instance Number, or null: results take it, so that result N is about image N. */
  InstanceNumber: number | null;
  /** Copied to the heatmap (same geometry as the source); [] when the source has none. */
  PatientOrientation: string[];
  /** The source's matrix (the SR outlines the analysed region on it); null when unknown. */
  Rows: number | null;
  Columns: number | null;
  /**
   * Patient / General Study / Patient Study attributes in dcmjs naturalized form (keyword -> value),
   * copied verbatim. Values read by dcmjs are already decoded to JavaScript strings, and dcmjs writes
   * UTF-8, which is why an object we write declares Specific Character Set ISO_IR 192 whenever one of
   * its values is not ASCII (and none when all are).
   */
  patientStudy: Record<string, unknown>;
}

/** The algorithm that produced the result: IHE AIR identifies it by a Device UID per model version. */
export type ModelIdentity = Pick<ModelCard, 'name' | 'version' | 'deviceUID' | 'similarityCalibration'>;

/** The node that writes the objects (General / Enhanced General Equipment). */
export interface ProducerIdentity {
  /** Default "Precedent". */
  manufacturer?: string;
  /** Default "Precedent". */
  modelName?: string;
  /** Enhanced General Equipment requires one (Type 1); default "0". */
  deviceSerialNumber?: string;
  /** The node's software version; default the implementation version name. */
  softwareVersion?: string;
  institutionName?: string;
}

/** What every builder accepts besides its content. */
export interface ObjectOptions {
  source: SourceImage;
  model: ModelIdentity;
  producer?: ProducerIdentity;
  /** Pin the new UIDs (e.g. derived from study and analysis generation, so a re-run replaces). */
  SeriesInstanceUID?: string;
  SOPInstanceUID?: string;
  SeriesNumber?: number;
  InstanceNumber?: number;
  /** Content / instance creation date and time; default now. */
  now?: Date;
  /**
   * JPEG Baseline encoder of RGB rasters (4:2:2 YCbCr codestream, decode/'s createJpegBaselineEncoder):
   * Secondary Captures are then written compressed; without one, as uncompressed RGB.
   */
  encodeJpegBaseline?: (image: { width: number; height: number; data: Uint8Array }) => Uint8Array;
}

export interface SimilarCasesSRInput extends ObjectOptions {
  retrieval: RetrievalResult;
}

export interface HeatmapSCInput extends ObjectOptions {
  /** The radiograph as displayed ([0, 1] grey), as decode/ returned it. */
  image: DecodedImage;
  /** Any resolution (the catalog keeps a downsampled copy); resampled onto the image. */
  attention: AttentionMap;
  /** Long side of the written image in pixels (default 1024): viewers choke on huge RGB SCs. */
  maxSize?: number;
}

export interface SimilarCasesSCInput extends ObjectOptions {
  retrieval: RetrievalResult;
  /** Pixels of similar cases by the case's SOP Instance UID; a case without one gets a placeholder. */
  caseImages?: ReadonlyMap<string, DecodedImage>;
  /** Long side of the written page in pixels (default 1024). */
  maxSize?: number;
}

/** One written DICOM object: what export/ needs to file and send it. */
export interface DicomObject {
  /** Part 10 file: preamble, File Meta, Explicit VR Little Endian data set. */
  bytes: Buffer;
  SOPClassUID: string;
  SOPInstanceUID: string;
  SeriesInstanceUID: string;
  StudyInstanceUID: string;
  TransferSyntaxUID: string;
}
