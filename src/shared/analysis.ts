// Plain types of the analysis pipeline (decode -> embed), exchanged between capabilities.
import type { SimilarityCalibration } from './similarity.js';

/** A decoded radiograph in display space, ready for any model's preprocessing. */
export interface DecodedImage {
  width: number;
  height: number;
  /**
   * Row-major intensities in [0, 1] after the Modality LUT (rescale or LUT sequence), the VOI LUT
   * (sequence, or window with its VOI LUT Function) and MONOCHROME1 inversion: 0 is black, 1 white,
   * as a radiologist sees it. Pixel Padding Value pixels are 0. Decoders allocate it in shared
   * memory (sharedFloats) so that handing it to an embedding worker copies nothing.
   */
  pixels: Float32Array;
  /** Facts worth keeping with the result, e.g. "multi-frame: frame 1 of 3 used". No patient data. */
  notes: string[];
  /**
   * The Part 10 file up to Pixel Data (preamble, File Meta, the data set's other elements), kept by
   * the DICOM decoder so that the later steps of the same job (case attributes, the results' Patient
   * and Study modules) read it instead of the file. Absent for PNG/JPEG and deflated data sets.
   */
  header?: Uint8Array;
}

/**
 * A Float32Array over a SharedArrayBuffer: posting it to a worker thread shares it instead of
 * copying (about 1 MB per 512-px image, 36 MB per 3000-px radiograph).
 */
export function sharedFloats(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * Float32Array.BYTES_PER_ELEMENT));
}

export interface ImageDecoder {
  /** Throws PrecedentError DECODE_FAILED (never retried) when the pixels cannot be decoded. */
  decodeFile(path: string): Promise<DecodedImage>;
}

/** models/<name>/model.json: the contract between a trained model and the node. */
export interface ModelCard {
  name: string;
  version: string;
  /** IHE AIR Device UID: changes whenever the model (weights) change. */
  deviceUID: string;
  input: {
    name: string;
    /** [N, C, H, W]; N is -1 (dynamic batch) or a fixed size. */
    shape: [number, number, number, number];
    channels: 1 | 3;
  };
  /** stretch: resize to H x W ignoring aspect; letterbox: keep aspect, pad with 0. */
  resize: 'stretch' | 'letterbox';
  /** Applied per channel after scaling to [0, 1]: (x - mean) / std. */
  normalisation: { mean: number[]; std: number[] };
  outputs: { embedding: string; attention?: string };
  embeddingDimension: number;
  intendedUse: string;
  trainingData: string;
  metrics: Record<string, unknown>;
  /** Maps a raw cosine to the displayed match score (similarity.ts); absent: only cosines are shown. */
  similarityCalibration?: SimilarityCalibration;
}

/**
 * Attention maps leave the embedder on the decoded image's own geometry (letterbox padding cropped,
 * same extent and aspect) but at most this many pixels on the long side. That is what is stored and
 * all a heatmap needs (the renderer enlarges it bilinearly): resizing a 14 x 14 map to a full
 * 3000 x 2500 radiograph in the worker cost more than the model run itself, only to be thrown away.
 */
export const ATTENTION_MAX_SIDE = 128;

export interface AttentionMap {
  width: number;
  height: number;
  /**
   * Row-major, min-max scaled to [0, 1], covering the whole decoded image: width x height is the
   * image's size scaled down (never up) to ATTENTION_MAX_SIDE on the long side.
   */
  data: Float32Array;
}

export interface EmbeddingResult {
  /** L2-normalised. */
  vector: Float32Array;
  attention?: AttentionMap;
}

export interface Embedder {
  readonly card: ModelCard;
  readonly device: 'cpu' | 'cuda';
  /** Batches internally; runs inference off the caller's event loop (worker threads). */
  embed(images: DecodedImage[]): Promise<EmbeddingResult[]>;
  close(): Promise<void>;
}
