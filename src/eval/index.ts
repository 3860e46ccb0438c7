// eval/: offline evaluation of retrieval models on labelled radiographs (`precedent eval`): the
// evaluation set, exact retrieval with own-patient-group exclusion, P@k / mAP@10, the k-NN vote,
// cluster-bootstrap intervals, the raw-pixel baseline, and the JSON / Markdown / SVG report.
export {
  readEvalSet,
  loadLabelMap,
  parseLabelMap,
  mapLabel,
  type EvalItem,
  type EvalSet,
  type LabelMap,
  type LeftOutReason,
  type SplitSelection,
} from './dataset.js';
export { parseAge, ageDecision, ADULT_AGE } from './age.js';
export { encodeEmbeddings, writeEmbeddings, type EmbeddingsMeta } from './embeddings.js';
export { neighboursJson } from './neighbours.js';
export { searchModels, type SearchedModel } from './search.js';
export { parseCsv, readCsvTable } from './csv.js';
export { EvalInputError, isEvalInputError } from './errors.js';
export { searchNeighbours, precisionAt, averagePrecisionAt, relevance, l2normalised, type Neighbour, type QueryResult } from './retrieval.js';
export { voteProbabilities, predictedClass, accuracy, sensitivity, specificity, balancedAccuracy, confusionMatrix, type VoteOutcome } from './diagnosis.js';
export { auc, weightedAuc, rankScores } from './auc.js';
export { clusterBootstrap, seededRandom, quantileSorted, weightedMean, type Interval } from './bootstrap.js';
export { rawPixelFeature, areaResize, standardise, RAW_PIXEL_SIZE } from './raw-pixels.js';
export { defineSubsets, isAdultCollection, type Subset } from './subsets.js';
export { evaluateModels, evaluateSearched, RETRIEVAL_METRICS, CURVE_DEPTH, MACRO_AUC_MIN_QUERIES } from './evaluate.js';
export { buildReport, writeReport, fileSafe, RAW_PIXEL_ID, type BuiltReport, type ReportInput } from './report.js';
export { precisionCurveSvg, confusionMatrixSvg } from './svg.js';
export { renderMarkdown } from './markdown.js';
export { consoleSummary, formatEstimate, chanceText, macroAucText, withoutRelevantText } from './summary.js';
export type { EvalReport, ModelInfo, ModelVectors, Estimate, SubsetReport, Chance, MacroAucClasses } from './types.js';
