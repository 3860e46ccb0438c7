// The shape of eval.json (everything `precedent eval` measured), shared by the Markdown and SVG writers.

/** A point estimate with its 95 % cluster-bootstrap interval; null where it is not defined. */
export interface Estimate {
  value: number | null;
  ci95: [number, number] | null;
}

/** One embedding of every evaluated image, aligned with the items. */
export interface ModelVectors {
  /** Stable key in eval.json: 'model', 'raw-pixel', 'baseline-1', ... */
  id: string;
  kind: 'onnx' | 'raw-pixel';
  /** Display name, e.g. "precedent-cxr-msl 1.0.0". */
  name: string;
  vectors: Float32Array[];
}

export interface ModelInfo {
  id: string;
  kind: 'onnx' | 'raw-pixel';
  name: string;
  version: string | null;
  dir: string | null;
  deviceUID: string | null;
  embeddingDimension: number;
  resize: string | null;
  inputSize: [number, number] | null;
  device: string | null;
}

export interface PerClassResult {
  /** Queries of this class. */
  queries: number;
  sensitivity: Estimate;
  specificity: Estimate;
  auc: Estimate;
}

export interface ModelSubsetResult {
  retrieval: {
    'P@1': Estimate;
    'P@5': Estimate;
    'P@10': Estimate;
    'mAP@10': Estimate;
    /** P@k for k = 1..10 (point estimates). */
    curve: number[];
  };
  diagnosis: {
    accuracy: Estimate;
    balancedAccuracy: Estimate;
    macroAUC: Estimate;
    perClass: Record<string, PerClassResult>;
    /** Rows: true class, columns: voted class, in `classes` order. */
    confusion: { classes: string[]; matrix: number[][] };
  };
}

export interface SubsetReport {
  id: string;
  kind: 'pooled' | 'adult' | 'collection';
  description: string;
  classes: string[];
  /** Evaluated queries (those with at least one searchable image outside their patient group). */
  queries: number;
  queryPatientGroups: number;
  queriesWithoutGallery: number;
  /** Queries whose class no searchable image has (their P@k and AP@10 are 0). */
  queriesWithoutRelevant: number;
  galleryImages: number;
  galleryPatientGroups: number;
  queriesPerClass: Record<string, number>;
  /** Keyed by model id. */
  results: Record<string, ModelSubsetResult>;
  /** "<model>-vs-raw-pixel": paired differences (same bootstrap draws). */
  differences: Record<string, Record<'P@1' | 'P@5' | 'P@10' | 'mAP@10', Estimate>>;
}

export interface EvalReport {
  tool: string;
  protocol: {
    labels: string;
    images: string;
    labelMap: string | null;
    split: { file: string; querySubset: string[]; gallerySubset: string[] } | null;
    /** Plain-language statement of what the queries and the searchable gallery are. */
    queries: string;
    gallery: string;
    k: number;
    bootstrap: number;
    seed: number;
    definitions: Record<string, string>;
  };
  data: {
    csvRows: number;
    images: number;
    evaluated: number;
    queries: number;
    galleryImages: number;
    patientGroups: number;
    classes: string[];
    collections: Record<string, { images: number; patientGroups: number; perClass: Record<string, number> }>;
    excludedByLabelMap: Record<string, number>;
    excludedBySplit: number;
    missingFromSplit: number;
    decodeFailed: Array<{ imagePath: string; error: string }>;
  };
  models: ModelInfo[];
  subsets: SubsetReport[];
}
