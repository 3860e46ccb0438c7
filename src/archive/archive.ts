// The historical archive, opened by the composition roots (app/: serve, and the import / query /
// cases / labels commands): the case store, the model's similar-case index, the retriever, and what
// happens after a study is embedded: a study received on dimse.archiveAeTitle becomes archive cases,
// a clinical study gets its similar cases (stored, so the report step can be replayed) and, with
// archive.indexIncoming, becomes unlabelled cases too.
import { closeSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from '../shared/log.js';
import type { Catalog, EmbeddedStudy } from '../shared/catalog.js';
import type { InstanceRecord } from '../shared/types.js';
import type { CaseStore, NewCase } from '../shared/case-store.js';
import type { RetrievalResult } from '../shared/cases.js';
import type { ProgressFactory } from '../shared/progress.js';
import { patientKeyOf } from '../shared/case-keys.js';
import { describeError } from '../shared/errors.js';
import { openCaseStore, catalogFile } from '../store/index.js';
import { caseAttributesOfHeader, readCaseAttributes, type CaseAttributes } from '../ingest/index.js';
import { createIndexManager, createRetriever, type IndexManager, type IndexModel, type Retriever } from '../index/index.js';
import { parseAge, parseSex } from './labels-csv.js';

export const SECRET_FILE = 'patient-key.secret';

/**
 * archive.patientKeySecret, or a random one generated once under dataDir (mode 0600) and shared by
 * every process using that dataDir. Losing it makes same-patient exclusion fail for older cases.
 */
export function patientKeySecret(config: Config, dataDir: string): string {
  if (config.archive.patientKeySecret) return config.archive.patientKeySecret;
  const file = join(dataDir, SECRET_FILE);
  try {
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readFileSync(file, 'utf8').trim();
}

export interface StudyOutcome {
  kind: 'archive' | 'clinical';
  cases: number;
  results: RetrievalResult[];
  /** The embedded study these are for: handed on to the results step. */
  study: EmbeddedStudy;
}

export interface Archive {
  readonly cases: CaseStore;
  readonly index: IndexManager;
  readonly retriever: Retriever;
  patientKey(PatientID: string, IssuerOfPatientID: string): string;
  /** Case attributes of a DICOM file (patient identity only as its keyed hash). */
  attributes(bytes: Buffer): CaseAttributes;
  /**
   * After embedding: an archive study's images become cases, a clinical study's get their similar
   * cases. `embedded` is what the embedding step handed on; without it (a remote worker's result) the
   * same is read from the catalog and the files.
   */
  onStudyEmbedded(StudyInstanceUID: string, log: Logger, embedded?: EmbeddedStudy): Promise<StudyOutcome>;
  /** The stored similar cases of a clinical study's images (computed now if missing); [] for an archive study. */
  retrieve(StudyInstanceUID: string, log: Logger): Promise<RetrievalResult[]>;
  close(): Promise<void>;
}

export interface ArchiveDeps {
  config: Config;
  log: Logger;
  dataDir: string;
  catalog: Catalog;
  model: IndexModel;
  /** Resolves a catalogued instance path (relative to dataDir). */
  resolvePath: (relativePath: string) => string;
  progress?: ProgressFactory;
  now?: () => number;
}

export function openArchive(deps: ArchiveDeps): Archive {
  const { config, catalog, model } = deps;
  const now = deps.now ?? Date.now;
  const secret = patientKeySecret(config, deps.dataDir);
  const cases = openCaseStore(catalogFile(deps.dataDir));
  let index: IndexManager;
  try {
    index = createIndexManager({
      dir: join(deps.dataDir, 'index'),
      model,
      config: config.index,
      cases,
      log: deps.log.child({ component: 'index' }),
      ...(deps.progress ? { progress: deps.progress } : {}),
    });
  } catch (err) {
    cases.close();
    throw err;
  }
  const retriever = createRetriever({ index, cases, k: config.index.k, vote: { weighting: config.index.weighting, temperature: config.index.temperature } });
  const patientKey = (id: string, issuer: string): string => patientKeyOf(secret, id, issuer);
  const attributes = (bytes: Buffer): CaseAttributes => readCaseAttributes(bytes, patientKey);
  /** The header of a stored file is in its first MiB unless it carries large LUTs: read that first. */
  const attributesOfFile = (path: string): CaseAttributes => {
    const head = Buffer.alloc(1 << 20);
    const fd = openSync(path, 'r');
    let n: number;
    try {
      n = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
    return (n < head.length ? undefined : readCaseAttributes(head, patientKey, false)) ?? attributes(n < head.length ? head.subarray(0, n) : readFileSync(path));
  };
  const archiveAe = config.dimse.archiveAeTitle;

  const isArchiveStudy = (instances: readonly InstanceRecord[]): boolean => archiveAe !== undefined && instances.some((i) => i.calledAETitle === archiveAe);

  /** The study's embedded images under this model, read back from the catalog (a replay). */
  function storedStudy(uid: string): EmbeddedStudy {
    const instances = catalog.analyzableInstances(uid);
    const embeddings = new Map(catalog.embeddings(uid, model.version).filter((e) => e.modelName === model.name).map((e) => [`${e.SOPInstanceUID}|${e.version}`, e]));
    const images = instances.flatMap((instance) => {
      const embedding = embeddings.get(`${instance.SOPInstanceUID}|${instance.version}`);
      return embedding ? [{ instance, embedding }] : [];
    });
    return { StudyInstanceUID: uid, instances, images };
  }

  /** Each embedded image with the attributes of its file (from the decoder's header when handed on). */
  function embeddedImages(study: EmbeddedStudy, log: Logger) {
    const out: { instanceVersion: number; vector: Float32Array; attrs: CaseAttributes; callingAETitle: string }[] = [];
    for (const { instance, embedding, header } of study.images) {
      if (!instance.path) continue;
      try {
        const attrs = header ? caseAttributesOfHeader(header, patientKey) : attributesOfFile(deps.resolvePath(instance.path));
        out.push({ instanceVersion: instance.version, vector: embedding.vector, attrs, callingAETitle: instance.callingAETitle });
      } catch (err) {
        log.warn({ SOPInstanceUID: instance.SOPInstanceUID, err: describeError(err) }, 'cannot read case attributes; image skipped');
      }
    }
    return out;
  }

  function asCases(images: ReturnType<typeof embeddedImages>, source: NewCase['source']): NewCase[] {
    // No facts: a new case starts from the labels loaded for its study (if any), an existing one keeps
    // its own; age and sex come from the header where those have none. The peer that sent the study
    // (normally the PACS that holds it) is where a viewer retrieves it.
    return images.map(({ instanceVersion, attrs, callingAETitle }) => ({
      SOPInstanceUID: attrs.SOPInstanceUID,
      instanceVersion,
      StudyInstanceUID: attrs.StudyInstanceUID,
      AccessionNumber: attrs.AccessionNumber,
      StudyDate: attrs.StudyDate,
      patientKey: attrs.patientKey,
      source,
      retrieveAETitle: callingAETitle,
      demographics: { age: parseAge(attrs.PatientAge), sex: parseSex(attrs.PatientSex) },
    }));
  }

  async function clinical(uid: string, images: ReturnType<typeof embeddedImages>, log: Logger): Promise<RetrievalResult[]> {
    const patient = images[0]?.attrs.patientKey ?? '';
    const results = await retriever.retrieve(
      images.map((i) => ({ SOPInstanceUID: i.attrs.SOPInstanceUID, StudyInstanceUID: uid, vector: i.vector })),
      patient,
    );
    cases.saveRetrievals(results, patient, now());
    log.info({ images: results.length, cases: results.map((r) => r.cases.length), top: results.map((r) => r.vote[0]?.label ?? null) }, 'similar cases found');
    return results;
  }

  return {
    cases,
    index,
    retriever,
    patientKey,
    attributes,
    async onStudyEmbedded(uid, log, embedded) {
      const study = embedded ?? storedStudy(uid);
      const images = embeddedImages(study, log);
      if (isArchiveStudy(study.instances)) {
        const put = cases.putCases(asCases(images, 'archive-ae'), now());
        log.info({ ...put, archiveAeTitle: archiveAe }, 'archive study added to the similar-case index');
        return { kind: 'archive', cases: images.length, results: [], study };
      }
      const results = await clinical(uid, images, log);
      if (config.archive.indexIncoming && images.length > 0) {
        const put = cases.putCases(asCases(images, 'incoming'), now());
        log.info({ ...put }, 'incoming study added to the archive (archive.indexIncoming), unlabelled until labels arrive');
      }
      return { kind: 'clinical', cases: 0, results, study };
    },
    async retrieve(uid, log) {
      const study = storedStudy(uid);
      if (isArchiveStudy(study.instances)) return [];
      const stored = cases.retrievals(uid, model);
      const images = embeddedImages(study, log);
      const bySop = new Map(stored.map((r) => [r.SOPInstanceUID, r]));
      const replay = images.map((i) => bySop.get(i.attrs.SOPInstanceUID));
      // Every image has stored results: the same answer as when the study was analysed (report replay).
      if (images.length > 0 && replay.every((r) => r !== undefined)) return replay as RetrievalResult[];
      return images.length === 0 ? [] : clinical(uid, images, log);
    },
    async close() {
      await index.close();
      cases.close();
    },
  };

}
