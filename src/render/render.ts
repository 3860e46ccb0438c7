// One analysed image's results from plain data: the similar-cases SR, the attention heatmap SC and the
// similar-cases page SC, as Part 10 bytes. Joins decode/ (pixels of the source and of the cases) and
// report/ (the objects); runs on a worker thread (pool.ts), because decoding full-size radiographs
// and drawing on them takes hundreds of milliseconds to seconds of CPU.
import { readFile } from 'node:fs/promises';
import type { AttentionMap, DecodedImage, ImageDecoder } from '../shared/analysis.js';
import type { RetrievalResult } from '../shared/cases.js';
import type { CaseThumbnail } from '../shared/case-store.js';
import { caseThumbnail, createJpegBaselineEncoder, thumbnailImage } from '../decode/index.js';
import { buildHeatmapSC, buildSimilarCasesSC, buildSimilarCasesSR, readSourceImage, type ModelIdentity, type ProducerIdentity } from '../report/index.js';

export type ResultKind = 'sr' | 'heatmap' | 'cases';

export interface RenderRequest {
  /** The analysed image's file. */
  sourcePath: string;
  /** Its Part 10 header up to Pixel Data, as the analysis's decoder kept it: the file is then not read for it. */
  sourceHeader?: Uint8Array;
  /** Files of the similar cases by SOP Instance UID, for cases without a stored thumbnail. */
  casePaths: Record<string, string>;
  /** Stored thumbnails by SOP Instance UID; a case with neither a thumbnail nor a file gets a placeholder. */
  caseThumbnails: Record<string, CaseThumbnail>;
  retrieval: RetrievalResult;
  /** The stored attention map; no heatmap without one. */
  attention: AttentionMap | null;
  /** The source as the analysis decoded it (shared memory), when still at hand: not decoded again. */
  sourceImage?: DecodedImage;
  SeriesInstanceUID: Record<ResultKind, string>;
  SOPInstanceUID: Record<ResultKind, string>;
  model: ModelIdentity;
  producer: ProducerIdentity;
  /** Content and instance creation time (epoch ms): the caller's clock, not the drawing thread's. */
  now: number;
}

export interface RenderedResult {
  kind: ResultKind;
  bytes: Uint8Array;
  SOPInstanceUID: string;
  StudyInstanceUID: string;
}

/**
 * The similar cases' pictures: a stored thumbnail where there is one; otherwise the case's file,
 * decoded and shrunk to a thumbnail (returned, so the caller can store it and later pages need not
 * decode a full-size radiograph again). Every page draws cases from thumbnails, so they look the same
 * whichever way the picture came.
 */
async function caseImages(request: RenderRequest, decoder: ImageDecoder): Promise<{ images: Map<string, DecodedImage>; made: Record<string, CaseThumbnail> }> {
  const images = new Map<string, DecodedImage>();
  const made: Record<string, CaseThumbnail> = {};
  for (const c of request.retrieval.cases) {
    const uid = c.case.SOPInstanceUID;
    let thumbnail = request.caseThumbnails[uid];
    const path = request.casePaths[uid];
    if (!thumbnail && path !== undefined) {
      try {
        thumbnail = caseThumbnail(await decoder.decodeFile(path));
        made[uid] = thumbnail;
      } catch {
        // an undecodable archive image only loses its picture
      }
    }
    if (thumbnail) images.set(uid, thumbnailImage(thumbnail));
  }
  return { images, made };
}

export interface RenderOutput {
  objects: RenderedResult[];
  /** Thumbnails made from case files for this page, by SOP Instance UID (for the caller to store). */
  madeThumbnails: Record<string, CaseThumbnail>;
}

export async function renderResults(request: RenderRequest, decoder: ImageDecoder): Promise<RenderOutput> {
  const { retrieval, attention, model, producer } = request;
  const source = readSourceImage(request.sourceHeader ?? (await readFile(request.sourcePath)));
  // Result N of a series is about image N of the study (1 when the source has no Instance Number).
  const common = { source, model, producer, InstanceNumber: source.InstanceNumber ?? 1, now: new Date(request.now) };
  const uids = (kind: ResultKind) => ({ SeriesInstanceUID: request.SeriesInstanceUID[kind], SOPInstanceUID: request.SOPInstanceUID[kind] });
  const out: RenderedResult[] = [];
  const sr = buildSimilarCasesSR({ ...common, retrieval, ...uids('sr') });
  out.push({ kind: 'sr', bytes: sr.bytes, SOPInstanceUID: sr.SOPInstanceUID, StudyInstanceUID: sr.StudyInstanceUID });
  if (attention) {
    const image = request.sourceImage ?? (await decoder.decodeFile(request.sourcePath));
    // The captures are stored JPEG Baseline; the encoder is fetched right before each build because a
    // codec error while decoding reloads the codecs.
    const sc = buildHeatmapSC({ ...common, image, attention, ...uids('heatmap'), encodeJpegBaseline: await createJpegBaselineEncoder() });
    out.push({ kind: 'heatmap', bytes: sc.bytes, SOPInstanceUID: sc.SOPInstanceUID, StudyInstanceUID: sc.StudyInstanceUID });
  }
  const cases = await caseImages(request, decoder);
  const page = buildSimilarCasesSC({ ...common, retrieval, caseImages: cases.images, ...uids('cases'), encodeJpegBaseline: await createJpegBaselineEncoder() });
  out.push({ kind: 'cases', bytes: page.bytes, SOPInstanceUID: page.SOPInstanceUID, StudyInstanceUID: page.StudyInstanceUID });
  return { objects: out, madeThumbnails: cases.made };
}
