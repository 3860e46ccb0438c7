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
  /** Queries of this class with a relevant searchable image (those that P@5 and mAP@10 average). */
  retrievalQueries: number;
  'P@5': Estimate;
  'mAP@10': Estimate;
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

export interface Chance {
  /** Classes present among the queries (C). */
  classes: number;
  /** 1 / C: the balanced accuracy of any vote that ignores the image. */
  uniform: number | null;
  /** The most frequent class among the queries, and its share: the accuracy of always voting it. */
  majorityClass: string | null;
  majorityRate: number | null;
}

export interface MacroAucClasses {
  /** A class needs at least this many queries to enter macro AUC. */
  minQueries: number;
  included: string[];
  /** Class -> its queries, for the classes left out (too few queries, or no query of another class). */
  excluded: Record<string, number>;
}

export interface SubsetReport {
  id: string;
  kind: 'pooled' | 'adult' | 'collection';
  description: string;
  classes: string[];
  /** Evaluated queries (those with at least one searchable image outside their patient group): the vote's queries. */
  queries: number;
  queryPatientGroups: number;
  queriesWithoutGallery: number;
  /** Queries that P@k and mAP@10 average: those with a relevant searchable image. */
  retrievalQueries: number;
  /** Queries whose class no searchable image (of another patient group) has: left out of P@k and mAP@10. */
  queriesWithoutRelevant: number;
  /** The same, per class (classes with none are not listed). */
  queriesWithoutRelevantPerClass: Record<string, number>;
  /** What a vote that ignores the image would score on these queries. */
  chance: Chance;
  /** The classes that macro AUC averages. */
  macroAUCClasses: MacroAucClasses;
  galleryImages: number;
  galleryPatientGroups: number;
  queriesPerClass: Record<string, number>;
  /** Keyed by model id. */
  results: Record<string, ModelSubsetResult>;
  /** "<model>-vs-raw-pixel": paired differences (same bootstrap draws). */
  differences: Record<string, Record<'P@1' | 'P@5' | 'P@10' | 'mAP@10', Estimate>>;
}

export interface AdultsOnlyCounts {
  /** Rows with a readable age under 18. */
  underAge: number;
  /** Rows without a readable age, left out because their collection is pediatric. */
  pediatricWithoutAge: number;
  /** Rows without a readable age, kept because their collection is adult. */
  adultWithoutAge: number;
  /** Whether the labels CSV has an age column at all. */
  ageColumn: boolean;
}

export interface EvalReport {
  tool: string;
  protocol: {
    labels: string;
    images: string;
    labelMap: string | null;
    /** --adults-only: rows with an age under 18 (or, without an age, from a pediatric collection) are left out. */
    adultsOnly: boolean;
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
    /** --adults-only: what it left out, and the rows it kept without a readable age. */
    adultsOnly: AdultsOnlyCounts | null;
    missingFromSplit: number;
    decodeFailed: Array<{ imagePath: string; error: string }>;
  };
  models: ModelInfo[];
  subsets: SubsetReport[];
}
