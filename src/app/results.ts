// Composition of the results step: similar cases (archive) -> SR + heatmap SC + similar-cases SC
// (report) -> durable files -> the exporter's outbox. Lives beside analysis.ts because it joins several
// capabilities; the step's logic (what to skip on replay) is in jobs/results-stage.ts.
import type { Catalog, StoredEmbedding } from '../shared/catalog.js';
import type { FileStore } from '../shared/files.js';
import type { DecodedImage, ModelCard } from '../shared/analysis.js';
import type { RetrievalResult } from '../shared/cases.js';
import type { CaseThumbnail } from '../shared/case-store.js';
import type { Logger } from '../shared/log.js';
import { hashUid } from '../shared/uid.js';
import type { ObjectIndex } from '../shared/dicom-objects.js';
import { indexedFromFile } from '../dicom/query-attributes.js';
import type { ResultRenderer } from '../render/index.js';
import type { Exporter } from '../export/index.js';
import { createResultStage, resultPath, type RenderedObject } from '../jobs/index.js';
import { IMPLEMENTATION_VERSION_NAME } from '../shared/implementation.js';

export interface ResultsDeps {
  catalog: Catalog;
  files: FileStore;
  /** Routes and queues delivered objects (its submit also starts a delivery pass). */
  exporter: Pick<Exporter, 'destinationsFor' | 'submit'>;
  /** The object index QIDO-RS searches: every result delivered is in it. */
  objects: Pick<ObjectIndex, 'has' | 'put'>;
  /** Draws the objects (on worker threads in the node). */
  renderer: Pick<ResultRenderer, 'render'>;
  /** Stored thumbnails of cases (CaseStore.thumbnails), and storing new ones (CaseStore.putThumbnails). */
  thumbnails: (caseKeys: readonly bigint[]) => Map<bigint, CaseThumbnail>;
  storeThumbnails: (thumbnails: ReadonlyMap<bigint, CaseThumbnail>) => void;
  /** The source image as this job's analysis decoded it, if still kept (handed over once). */
  sourceImage?: (path: string) => DecodedImage | undefined;
  card: ModelCard;
  retrieve: (StudyInstanceUID: string, log: Logger) => Promise<RetrievalResult[]>;
  /** dicomweb.enabled: where results can be fetched when no destination takes them. */
  dicomweb?: boolean;
  now: () => number;
}

const KINDS: RenderedObject['kind'][] = ['sr', 'heatmap', 'cases'];

/**
 * Result UIDs depend only on the source image, its version and the model: a replay rewrites the same
 * objects. One series per kind and study (each kind has its own Series Number and Description, which
 * are series-level attributes), holding that kind's result for every analysed image of the study.
 */
function uids(e: StoredEmbedding, card: ModelCard) {
  const seed = [e.SOPInstanceUID, String(e.version), card.name, card.version];
  const of = <T>(make: (kind: RenderedObject['kind']) => T) => Object.fromEntries(KINDS.map((k) => [k, make(k)])) as Record<RenderedObject['kind'], T>;
  return {
    series: of((k) =>
      k === 'sr'
        ? hashUid('precedent-sr-series', e.StudyInstanceUID, card.name, card.version)
        : hashUid('precedent-sc-series', k, e.StudyInstanceUID, card.name, card.version),
    ),
    sop: of((k) => hashUid('precedent-result', k, ...seed)),
  };
}

export function createResults(deps: ResultsDeps) {
  const { catalog, files, card } = deps;
  // The calibration travels with the identity: the SR and the page show its match score.
  const model = {
    name: card.name,
    version: card.version,
    deviceUID: card.deviceUID,
    ...(card.similarityCalibration ? { similarityCalibration: card.similarityCalibration } : {}),
  };
  const producer = { softwareVersion: IMPLEMENTATION_VERSION_NAME };

  const latestPath = (SOPInstanceUID: string): string | undefined => {
    const v = catalog
      .instanceVersions(SOPInstanceUID)
      .filter((i) => i.path)
      .at(-1);
    return v?.path ? files.absolute(v.path) : undefined;
  };

  async function render(e: StoredEmbedding, retrieval: RetrievalResult, source?: { path: string; header?: Uint8Array }): Promise<RenderedObject[]> {
    const sourcePath = source?.path ?? latestPath(e.SOPInstanceUID);
    if (!sourcePath) return [];
    // Each case's stored thumbnail, else its file (decoded once: the thumbnail made then is stored).
    const stored = deps.thumbnails(retrieval.cases.map((c) => BigInt(c.case.caseKey)));
    const casePaths: Record<string, string> = {};
    const caseThumbnails: Record<string, CaseThumbnail> = {};
    const keyOf = new Map<string, bigint>();
    for (const c of retrieval.cases) {
      const key = BigInt(c.case.caseKey);
      keyOf.set(c.case.SOPInstanceUID, key);
      const thumbnail = stored.get(key);
      const path = thumbnail ? undefined : latestPath(c.case.SOPInstanceUID);
      if (thumbnail) caseThumbnails[c.case.SOPInstanceUID] = thumbnail;
      else if (path) casePaths[c.case.SOPInstanceUID] = path;
    }
    const u = uids(e, card);
    const sourceImage = deps.sourceImage?.(sourcePath);
    const { objects, madeThumbnails } = await deps.renderer.render({
      sourcePath,
      ...(source?.header ? { sourceHeader: source.header } : {}),
      casePaths,
      caseThumbnails,
      retrieval,
      attention: e.attention,
      ...(sourceImage && e.attention ? { sourceImage } : {}),
      SeriesInstanceUID: u.series,
      SOPInstanceUID: u.sop,
      model,
      producer,
      now: deps.now(),
    });
    const made = new Map<bigint, CaseThumbnail>();
    for (const [uid, thumbnail] of Object.entries(madeThumbnails)) {
      const key = keyOf.get(uid);
      if (key !== undefined) made.set(key, thumbnail);
    }
    if (made.size > 0) deps.storeThumbnails(made);
    // The bytes came from the drawing thread in buffers of their own: wrapped, not copied.
    return objects.map((r) => ({ ...r, bytes: Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength) }));
  }

  return createResultStage({
    catalog,
    modelVersion: () => card.version,
    retrieve: deps.retrieve,
    plannedUids: (e) => {
      const u = uids(e, card);
      return KINDS.filter((k) => k !== 'heatmap' || e.attention).map((kind) => ({ kind, SOPInstanceUID: u.sop[kind] }));
    },
    render,
    dicomweb: deps.dicomweb ?? false,
    write: (rel, bytes) => files.writeDurable(rel, bytes),
    exists: (rel) => files.exists(rel),
    absolute: (rel) => files.absolute(rel),
    deliver: (objects, StudyInstanceUID, handedCallingAE) => {
      // Indexed here rather than at write time so a replay also indexes files an older run left.
      for (const o of objects) {
        if (!deps.objects.has(o.SOPInstanceUID)) deps.objects.put(indexedFromFile(o.path, resultPath(o.StudyInstanceUID, o.SOPInstanceUID), 'result', 0));
      }
      const callingAE = handedCallingAE ?? catalog.analyzableInstances(StudyInstanceUID)[0]?.callingAETitle ?? '';
      const destinations = deps.exporter.destinationsFor(callingAE);
      deps.exporter.submit(objects, destinations);
      return destinations;
    },
  });
}
