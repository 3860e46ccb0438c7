// report/: the DICOM objects a viewer shows, as pure functions from plain inputs to Part 10 bytes:
// the similar-cases SR (Comprehensive 3D SR, TID 1500), the attention heatmap and the similar-cases
// thumbnail page (Secondary Captures). Callers write the bytes to disk and hand them to export/.
export { buildSimilarCasesSR, similarCasesContent, SR_SERIES_DESCRIPTION } from './sr.js';
export { buildHeatmapSC, renderHeatmap, HEATMAP_SERIES_DESCRIPTION } from './heatmap.js';
export { buildSimilarCasesSC, renderSimilarCases, caseLabelLines, THUMBNAILS_SERIES_DESCRIPTION } from './thumbnails.js';
export { similarCasesSummary, summarySentences, NO_REFERENCE_CASES } from './summary.js';
export { captionLines } from './caption.js';
export { readSourceImage, sourceFromDataset } from './source.js';
export { DISCLAIMER } from './common.js';
export type { RgbImage } from './raster.js';
export type {
  DicomObject,
  HeatmapSCInput,
  ModelIdentity,
  ObjectOptions,
  ProducerIdentity,
  SimilarCasesSCInput,
  SimilarCasesSRInput,
  SourceImage,
} from './types.js';
