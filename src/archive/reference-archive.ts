// The starter reference archive (archive/reference, built by scripts/build-reference-archive.mjs):
// public cases a fresh install compares with before the site imports its own archive. `serve` imports
// it in the background once its listeners are up, through the same code path as `precedent import`,
// embedded with the installed model; a marker under dataDir records the model (Device UID) and folder
// it was embedded with, so a restart with the same model does nothing and a new model embeds it again.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/schema.js';
import type { Logger } from '../shared/log.js';
import { describeError } from '../shared/errors.js';
import { logProgress } from '../shared/progress.js';
import { runImport, type ImportContext } from './import-run.js';

export const REFERENCE_MARKER = 'reference-archive.json';

/** The `dataset` column of archive/reference/labels.csv, as results name the collection. */
const COLLECTIONS: Readonly<Record<string, string>> = {
  'nih-cxr14': 'NIH ChestX-ray14',
  'kermany-pediatric-subset': 'Kermany 2018',
};

/** archive.referenceDir, else archive/reference of the installed package (src/ and dist/ sit beside it; this file is in src/archive/). */
export function referenceDir(config: Config): string {
  return resolve(config.archive.referenceDir ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'archive', 'reference'));
}

/** Whether start-up will fill the archive with reference cases (on, and the folder is there). */
export function referenceAvailable(config: Config): boolean {
  return config.archive.reference && existsSync(join(referenceDir(config), 'labels.csv'));
}

interface Marker {
  deviceUID: string;
  dir: string;
}

function readMarker(file: string): Marker | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Marker;
  } catch {
    return undefined;
  }
}

/**
 * Imports the reference archive unless it is off, missing, or already embedded with this model.
 * Never throws: a failed import is logged and tried again at the next start.
 */
export async function importReferenceArchive(config: Config, dataDir: string, ctx: ImportContext, log: Logger, signal?: AbortSignal): Promise<void> {
  if (!config.archive.reference) return;
  const dir = referenceDir(config);
  const labels = join(dir, 'labels.csv');
  if (!existsSync(labels)) {
    log.warn({ dir }, 'archive.reference is on but the reference archive is not there (labels.csv missing): not imported');
    return;
  }
  const { deviceUID, name, version } = ctx.embedder.card;
  const markerFile = join(dataDir, REFERENCE_MARKER);
  const marker = readMarker(markerFile);
  if (marker?.deviceUID === deviceUID && marker.dir === dir) {
    log.info({ dir, model: `${name}@${version}` }, 'reference archive already embedded with this model');
    return;
  }
  log.info({ dir, model: `${name}@${version}` }, 'reference archive import started in the background (studies analysed meanwhile are compared with fewer cases)');
  try {
    const summary = await runImport(ctx, {
      images: dir,
      labels,
      batch: config.inference.batchSize,
      publicCollection: (row) => {
        const dataset = row.facts.clinical.dataset ?? '';
        return COLLECTIONS[dataset] ?? (dataset || 'public reference');
      },
      progress: logProgress(log),
      ...(signal ? { signal } : {}),
    });
    if (summary.stopped) {
      log.info({ added: summary.added }, 'reference archive import stopped by shutdown; the rest is embedded at the next start');
      return;
    }
    const { added, updated, unchanged, failed, casesInArchive, seconds } = summary;
    // Failures (e.g. a damaged thumbnail) leave no marker: the next start retries just those.
    if (failed === 0) writeFileSync(markerFile, `${JSON.stringify({ deviceUID, dir } satisfies Marker)}\n`);
    log.info({ added, updated, unchanged, failed, casesInArchive, seconds }, 'reference archive import finished');
  } catch (err) {
    log.error({ err: describeError(err) }, 'reference archive import failed; tried again at the next start');
  }
}
