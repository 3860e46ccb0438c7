// After embedding: find similar cases, write the result objects (SR + Secondary Captures) once per
// analysed image and model version, and hand them to export. Result UIDs are derived from the source
// image and model version, so a replay (crash, retry, late images) never creates a second result for
// the same image: it finds the file already written and only re-submits it (the outbox dedupes).
import type { Catalog, EmbeddedStudy, StoredEmbedding } from '../shared/catalog.js';
import type { RetrievalResult } from '../shared/cases.js';
import type { Logger } from '../shared/log.js';
import type { AnalyzeStudyJob } from '../shared/types.js';

export interface RenderedObject {
  kind: 'sr' | 'heatmap' | 'cases';
  bytes: Buffer;
  SOPInstanceUID: string;
  StudyInstanceUID: string;
}

export interface ResultStageDeps {
  catalog: Catalog;
  modelVersion: () => string;
  /** Similar cases for every embedded image of the study (clinical studies); [] for archive studies. */
  retrieve: (StudyInstanceUID: string, log: Logger) => Promise<RetrievalResult[]>;
  /** The SOP Instance UIDs the results of one image will have (deterministic). */
  plannedUids: (embedding: StoredEmbedding) => Array<{ kind: RenderedObject['kind']; SOPInstanceUID: string }>;
  /** `source`: the analysed file and its header (EmbeddedStudy) when handed on; else found by UID. */
  render: (embedding: StoredEmbedding, retrieval: RetrievalResult, source?: { path: string; header?: Uint8Array }) => Promise<RenderedObject[]>;
  /** Durable write; returns the absolute path. */
  write: (relativePath: string, bytes: Buffer) => string;
  exists: (relativePath: string) => boolean;
  absolute: (relativePath: string) => string;
  /** DICOMweb serves the results (dicomweb.enabled); otherwise they are only files under dataDir. */
  dicomweb?: boolean;
  /**
   * Queues the objects for export; returns the destinations they were queued for (possibly none).
   * `callingAETitle`: the peer that sent the study, when handed on.
   */
  deliver: (objects: Array<{ SOPInstanceUID: string; StudyInstanceUID: string; path: string }>, StudyInstanceUID: string, callingAETitle?: string) => string[];
}

export function resultPath(StudyInstanceUID: string, SOPInstanceUID: string): string {
  return `results/${StudyInstanceUID}/${SOPInstanceUID}.dcm`;
}

/** What the steps before hand on: the similar cases just found and the embedded study they are for. */
export interface HandedOn {
  retrievals: RetrievalResult[];
  study: EmbeddedStudy;
}

/**
 * The step itself. `handed` is what the archive step just retrieved for this job and the embedding
 * step's study; without it (a replay) both are read back, so the same answer is written either way.
 */
export function createResultStage(deps: ResultStageDeps): (job: AnalyzeStudyJob, log: Logger, handed?: HandedOn) => Promise<void> {
  return async (job, log, handed) => {
    const retrievals = handed?.retrievals ?? (await deps.retrieve(job.StudyInstanceUID, log));
    if (retrievals.length === 0) {
      log.info('no similar-case results for this study (archive study or empty index)');
      return;
    }
    const embeddings = new Map(
      handed
        ? handed.study.images.map((i) => [i.embedding.SOPInstanceUID, i.embedding])
        : deps.catalog.embeddings(job.StudyInstanceUID, deps.modelVersion()).map((e) => [e.SOPInstanceUID, e]),
    );
    const sources = new Map((handed?.study.images ?? []).map((i) => [i.instance.SOPInstanceUID, i]));
    const ready: Array<{ SOPInstanceUID: string; StudyInstanceUID: string; path: string }> = [];
    let written = 0;
    for (const retrieval of retrievals) {
      const embedding = embeddings.get(retrieval.SOPInstanceUID);
      if (!embedding) continue;
      const planned = deps.plannedUids(embedding);
      if (planned.length > 0 && planned.every((p) => deps.exists(resultPath(job.StudyInstanceUID, p.SOPInstanceUID)))) {
        for (const p of planned)
          ready.push({
            SOPInstanceUID: p.SOPInstanceUID,
            StudyInstanceUID: job.StudyInstanceUID,
            path: deps.absolute(resultPath(job.StudyInstanceUID, p.SOPInstanceUID)),
          });
        continue;
      }
      const source = sources.get(retrieval.SOPInstanceUID);
      const handedSource = source?.instance.path
        ? { path: deps.absolute(source.instance.path), ...(source.header ? { header: source.header } : {}) }
        : undefined;
      for (const object of await deps.render(embedding, retrieval, handedSource)) {
        const path = deps.write(resultPath(job.StudyInstanceUID, object.SOPInstanceUID), object.bytes);
        ready.push({ SOPInstanceUID: object.SOPInstanceUID, StudyInstanceUID: job.StudyInstanceUID, path });
        written++;
      }
    }
    const destinations = deps.deliver(ready, job.StudyInstanceUID, handed?.study.instances[0]?.callingAETitle);
    if (destinations.length === 0) {
      // Not an error (the defaults have no destination), but also the symptom of a routing rule that
      // matches no export destination (export.destinations[].forCallingAETitles): say where they are.
      const folder = deps.absolute(`results/${job.StudyInstanceUID}`);
      const where = deps.dicomweb ? `over DICOMweb and as files in ${folder}` : `only as files in ${folder} (DICOMweb is off)`;
      log.warn({ written, objects: ready.length, folder }, `results written but no export destination serves this study: they are ${where}`);
      return;
    }
    log.info({ written, submitted: ready.length, destinations }, 'results written and queued for export');
  };
}
