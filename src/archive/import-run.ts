// The bulk import behind `precedent import`: a labelled archive of PNG/JPEG files (CSV like
// ../shared/data/cxr/labels.csv) or of DICOM files (labels joined by SOP/Study Instance UID or
// AccessionNumber) becomes cases. Each batch is decoded, embedded, its embeddings stored and then its
// cases recorded, so a killed import loses at most the batch in flight and a re-run skips every case
// already stored with the same facts and an embedding of the current model (idempotent, resumable).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { CaseFacts, NewCase } from '../shared/case-store.js';
import type { DecodedImage, Embedder, ImageDecoder } from '../shared/analysis.js';
import type { Catalog } from '../shared/catalog.js';
import type { Archive } from './archive.js';
import { caseFingerprint, derivedUid } from '../shared/case-keys.js';
import { isValidUid } from '../shared/uid.js';
import { describeError, PrecedentError } from '../shared/errors.js';
import { barProgress, type ProgressFactory } from '../shared/progress.js';
import { caseThumbnail, decodeRasterFile, isRasterFile } from '../decode/index.js';
import { parseAge, parseSex, readLabelsCsv, type LabelsRow } from './labels-csv.js';

export interface ImportOptions {
  images?: string;
  dicom?: string;
  labels?: string;
  /** IssuerOfPatientID given to the CSV's patient IDs (--images), so they match the hospital's DICOM. */
  issuer?: string;
  /** AE title of the archive that holds these studies (--ae): where a viewer retrieves a similar case. */
  ae?: string;
  batch: number;
  /** The public collection of each CSV row (--images), for the starter reference archive; none: the site's own. */
  publicCollection?: (row: LabelsRow) => string;
  /** How progress is shown (default: a bar on stderr; the node logs instead). */
  progress?: ProgressFactory;
  /** Aborted: stop after the batch in flight (the node shutting down); the summary says `stopped`. */
  signal?: AbortSignal;
}

/** What an import uses: the CLI's model context, or the node's running analysis (reference archive). */
export interface ImportContext {
  archive: Archive;
  embedder: Embedder;
  catalog: Catalog;
  dicomDecoder: ImageDecoder;
}

export interface ImportSummary {
  source: 'images' | 'dicom';
  items: number;
  added: number;
  updated: number;
  unchanged: number;
  ignored: number;
  failed: number;
  failures: string[];
  casesInArchive: number;
  /** Stopped early by the signal: a re-run embeds the rest. */
  stopped: boolean;
  index: { size: number; mode: string; rebuilt: boolean; file: string };
  seconds: number;
}

/** One image to import, known before decoding. */
interface Item {
  file: string;
  /** For messages: the path as given in the CSV or relative to the folder. */
  name: string;
  kind: 'raster' | 'dicom';
  base: Omit<NewCase, 'facts' | 'reindex'>;
  /** undefined: keep stored facts / use labels loaded for the study (DICOM without a CSV row). */
  facts?: CaseFacts;
}

const IMPORTED_UID = 'precedent-import-image';

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(p));
    else if (entry.isFile()) out.push(p);
  }
  return out.sort();
}

const posix = (p: string): string => p.split(sep).join('/');

async function rasterItems(ctx: ImportContext, dir: string, csv: string | undefined, issuer: string, ae: string, collectionOf: ImportOptions['publicCollection']): Promise<{ items: Item[]; ignored: number }> {
  let rows: LabelsRow[];
  let root: string;
  let ignored = 0;
  if (csv) {
    rows = readLabelsCsv(csv).rows;
    root = dirname(resolve(csv));
    if (rows.some((r) => r.imagePath === '')) throw new PrecedentError('INPUT_INVALID', `${csv}: every row needs image_path for --images`);
  } else {
    root = resolve(dir);
    rows = [];
    for (const f of walk(root)) {
      if (!(await isRasterFile(f))) {
        ignored++;
        continue;
      }
      rows.push({ line: 0, imagePath: posix(relative(root, f)), patientId: '', SOPInstanceUID: '', StudyInstanceUID: '', AccessionNumber: '', facts: { labels: [], age: null, sex: null, outcomes: {}, clinical: {} } });
    }
  }
  const byPath = new Map<string, Item>();
  for (const r of rows) {
    const name = posix(r.imagePath);
    let file = resolve(root, r.imagePath);
    if (!existsSync(file)) file = resolve(dir, r.imagePath);
    // The UIDs come from the path as written in the CSV, so the same archive gets the same UIDs on
    // every run, wherever it is mounted.
    byPath.set(name, {
      file,
      name,
      kind: 'raster',
      base: {
        SOPInstanceUID: derivedUid(IMPORTED_UID, 'sop', name),
        instanceVersion: 0,
        StudyInstanceUID: derivedUid(IMPORTED_UID, 'study', name),
        AccessionNumber: '',
        StudyDate: '',
        patientKey: ctx.archive.patientKey(r.patientId, issuer),
        source: 'import',
        retrieveAETitle: ae,
        ...(collectionOf ? { publicCollection: collectionOf(r) } : {}),
      },
      facts: r.facts,
    });
  }
  return { items: [...byPath.values()], ignored };
}

function dicomItems(ctx: ImportContext, dir: string, csv: string | undefined, ae: string, failures: string[]): { items: Item[]; ignored: number } {
  const lookup = new Map<string, CaseFacts>();
  if (csv) {
    for (const r of readLabelsCsv(csv).rows) {
      const keys = [r.SOPInstanceUID && `sop:${r.SOPInstanceUID}`, r.StudyInstanceUID && `study:${r.StudyInstanceUID}`, r.AccessionNumber && `acc:${r.AccessionNumber}`];
      if (!keys.some(Boolean)) throw new PrecedentError('INPUT_INVALID', `${csv} line ${r.line}: --dicom labels need SOPInstanceUID, StudyInstanceUID or AccessionNumber`);
      for (const k of keys) if (k && !lookup.has(k)) lookup.set(k, r.facts);
    }
  }
  const items: Item[] = [];
  let ignored = 0;
  for (const file of walk(resolve(dir))) {
    const name = posix(relative(resolve(dir), file));
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      failures.push(`${name}: ${describeError(err).message}`);
      continue;
    }
    if (bytes.length < 132 || bytes.toString('latin1', 128, 132) !== 'DICM') {
      ignored++;
      continue;
    }
    try {
      const a = ctx.archive.attributes(bytes);
      // The UIDs as the file holds them: an invalid one is refused, as at the DIMSE and STOW-RS edges.
      for (const [what, v] of [['SOP Instance UID', a.SOPInstanceUID], ['Study Instance UID', a.StudyInstanceUID]] as const) {
        if (!isValidUid(v)) throw new PrecedentError('UID_INVALID', `${what} is missing or not a valid UID (PS3.5 9.1)`);
      }
      if (!a.triage.analyzable) {
        ignored++;
        continue;
      }
      const facts = lookup.get(`sop:${a.SOPInstanceUID}`) ?? lookup.get(`study:${a.StudyInstanceUID}`) ?? (a.AccessionNumber ? lookup.get(`acc:${a.AccessionNumber}`) : undefined);
      const demographics = { age: parseAge(a.PatientAge), sex: parseSex(a.PatientSex) };
      items.push({
        file,
        name,
        kind: 'dicom',
        base: { SOPInstanceUID: a.SOPInstanceUID, instanceVersion: 0, StudyInstanceUID: a.StudyInstanceUID, AccessionNumber: a.AccessionNumber, StudyDate: a.StudyDate, patientKey: a.patientKey, source: 'import', retrieveAETitle: ae, demographics },
        ...(facts ? { facts: { ...facts, age: facts.age ?? demographics.age, sex: facts.sex ?? demographics.sex } } : {}),
      });
    } catch (err) {
      failures.push(`${name}: ${describeError(err).message}`);
    }
  }
  return { items, ignored };
}

/** The case an item makes; without facts from the CSV, the stored facts stay. */
function newCase(item: Item): NewCase {
  return { ...item.base, ...(item.facts ? { facts: item.facts } : {}) };
}

export async function runImport(ctx: ImportContext, o: ImportOptions): Promise<ImportSummary> {
  const started = Date.now();
  const failures: string[] = [];
  const source = o.images ? 'images' : 'dicom';
  const ae = o.ae ?? '';
  const { items, ignored } = o.images ? await rasterItems(ctx, o.images, o.labels, o.issuer ?? '', ae, o.publicCollection) : dicomItems(ctx, o.dicom ?? '', o.labels, ae, failures);
  const { cases, index } = ctx.archive;
  const model = { name: ctx.embedder.card.name, version: ctx.embedder.card.version };
  const summary = { added: 0, updated: 0, unchanged: 0 };
  const account = (r: { added: number; updated: number; unchanged: number }): void => {
    summary.added += r.added;
    summary.updated += r.updated;
    summary.unchanged += r.unchanged;
  };

  // What is already there: unchanged cases are skipped, changed facts are updated without inference.
  const toEmbed: Item[] = [];
  const factsOnly: NewCase[] = [];
  // Embedded by an import that stored no thumbnail (an earlier version): decoded again, not embedded.
  const thumbnailOnly: Item[] = [];
  for (let at = 0; at < items.length; at += 500) {
    const chunk = items.slice(at, at + 500);
    const existing = cases.existing(chunk.map((i) => i.base.SOPInstanceUID), model);
    for (const item of chunk) {
      const had = existing.get(item.base.SOPInstanceUID);
      if (!had?.hasVector) toEmbed.push(item);
      else if (!had.hasThumbnail) thumbnailOnly.push(item);
      else if (item.facts ? had.factsHash === caseFingerprint({ ...item.base, facts: item.facts }) : had.retrieveAETitle === item.base.retrieveAETitle) summary.unchanged++;
      // Without facts from the CSV, only the retrieve AE title can have changed: the stored facts stay.
      else factsOnly.push({ ...newCase(item), reindex: false });
    }
  }
  if (factsOnly.length > 0) account(cases.putCases(factsOnly, Date.now()));

  const bar = (o.progress ?? barProgress())('import', toEmbed.length + thumbnailOnly.length);
  let done = 0;
  const decode = async (item: Item): Promise<DecodedImage | undefined> => {
    try {
      return item.kind === 'raster' ? await decodeRasterFile(item.file) : await ctx.dicomDecoder.decodeFile(item.file);
    } catch (err) {
      failures.push(`${item.name}: ${describeError(err).message}`);
      return undefined;
    }
  };
  // All of a batch at once: DICOM files spread over the decoding threads (pictures decode here).
  const decodeBatch = async (batch: Item[]): Promise<{ item: Item; image: DecodedImage }[]> => {
    const images = await Promise.all(batch.map(decode));
    return batch.flatMap((item, i) => {
      const image = images[i];
      return image ? [{ item, image }] : [];
    });
  };
  const batches: Item[][] = [];
  for (let at = 0; at < toEmbed.length; at += o.batch) batches.push(toEmbed.slice(at, at + o.batch));
  try {
    // Decoding (this thread) of the next batch overlaps inference (worker threads) of this one.
    let next = batches[0] ? decodeBatch(batches[0]) : undefined;
    for (let b = 0; b < batches.length && !o.signal?.aborted; b++) {
      const decoded = (await next) ?? [];
      const embedding = ctx.embedder.embed(decoded.map((d) => d.image));
      const following = batches[b + 1];
      next = following ? decodeBatch(following) : undefined;
      const results = await embedding;
      const now = Date.now();
      decoded.forEach(({ item, image }, i) => {
        const r = results[i];
        if (!r) return;
        ctx.catalog.saveEmbedding({
          SOPInstanceUID: item.base.SOPInstanceUID,
          version: 0,
          StudyInstanceUID: item.base.StudyInstanceUID,
          modelName: model.name,
          modelVersion: model.version,
          vector: r.vector,
          attention: null,
          notes: image.notes,
          createdAt: now,
        });
      });
      // The cases last: a case is recorded only once its embedding is durable.
      // With a small picture of each: the node keeps no imported file, and the similar-cases page shows it.
      account(cases.putCases(decoded.map(({ item, image }) => ({ ...newCase(item), thumbnail: caseThumbnail(image) })), now));
      done += batches[b]?.length ?? 0;
      bar.update(done);
    }
    for (let at = 0; at < thumbnailOnly.length && !o.signal?.aborted; at += o.batch) {
      const batch = thumbnailOnly.slice(at, at + o.batch);
      const decoded = await decodeBatch(batch);
      account(cases.putCases(decoded.map(({ item, image }) => ({ ...newCase(item), reindex: false, thumbnail: caseThumbnail(image) })), Date.now()));
      done += batch.length;
      bar.update(done);
    }
  } finally {
    bar.stop();
  }
  const opened = await index.open();
  await index.sync();
  const stats = await index.stats();
  return {
    source,
    items: items.length,
    ...summary,
    ignored,
    failed: failures.length,
    failures,
    casesInArchive: cases.count(model),
    stopped: o.signal?.aborted ?? false,
    index: { size: stats.size, mode: stats.mode, rebuilt: opened.rebuilt, file: index.file },
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
}

export function importTarget(o: ImportOptions): string {
  const dir = o.images ?? o.dicom ?? '';
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new PrecedentError('INPUT_INVALID', `${dir} is not a folder`);
  return dir;
}
