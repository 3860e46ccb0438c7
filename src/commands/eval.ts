// `precedent eval`: embeds labelled radiographs through the production path (DICOM via the node's
// decoder, PNG/JPEG via decodeRasterFile, then the embedder with the model card's preprocessing) and
// measures retrieval and the neighbour vote next to a raw-pixel baseline and any --baseline models.
// Composition code: decode/ and embed/ produce vectors, eval/ turns them into numbers and reports.
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { createImageDecoder, decodeRasterFile, isRasterFile } from '../decode/index.js';
import { createEmbedder, type WorkerEmbedder } from '../embed/index.js';
import {
  buildReport,
  consoleSummary,
  isEvalInputError,
  RAW_PIXEL_ID,
  RAW_PIXEL_SIZE,
  rawPixelFeature,
  readEvalSet,
  writeEmbeddings,
  writeReport,
  type EvalItem,
  type EvalSet,
  type ModelInfo,
  type SplitSelection,
} from '../eval/index.js';
import type { DecodedImage } from '../shared/analysis.js';
import { isPrecedentError } from '../shared/errors.js';
import { createLogger } from '../shared/log.js';

interface EvalOptions {
  labels: string;
  images: string;
  model: string;
  baseline: string[];
  out: string;
  split?: string;
  subset?: string;
  gallerySubset?: string;
  k: string;
  bootstrap: string;
  seed: string;
  labelMap?: string;
  adultsOnly?: boolean;
  saveEmbeddings?: string;
  device: string;
  workers: string;
  batchSize: string;
  threads?: string;
}

class UsageError extends Error {}

function integer(value: string, name: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be an integer >= ${min} (got ${value})`);
  return n;
}

const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

function splitSelection(opts: EvalOptions): SplitSelection | undefined {
  if (opts.split === undefined) {
    if (opts.subset !== undefined || opts.gallerySubset !== undefined) throw new UsageError('--subset and --gallery-subset need --split FILE');
    return undefined;
  }
  const subset = list(opts.subset ?? 'test');
  if (subset.length === 0) throw new UsageError('--subset names at least one split value');
  return opts.gallerySubset === undefined ? { file: opts.split, subset } : { file: opts.split, subset, gallerySubset: list(opts.gallerySubset) };
}

interface Embedded {
  /** Per model (index 0: raw pixels, then the ONNX models), per item. */
  vectors: Array<Array<Float32Array | undefined>>;
  failed: Array<{ index: number; error: string }>;
}

/** Decodes each image once and hands it to every model, a few images in flight at a time. */
async function embedAll(items: readonly EvalItem[], imagesDir: string, embedders: readonly WorkerEmbedder[], inFlight: number): Promise<Embedded> {
  const decoder = createImageDecoder();
  const decode = async (path: string): Promise<DecodedImage> => ((await isRasterFile(path)) ? decodeRasterFile(path) : decoder.decodeFile(path));
  const vectors: Embedded['vectors'] = [[], ...embedders.map(() => [])];
  const failed: Embedded['failed'] = [];
  const bar = new cliProgress.SingleBar(
    // On a non-TTY stderr (CI, a log file) a plain line every 5 s instead of a redrawn bar.
    {
      format: 'embedding |{bar}| {value}/{total} images | {duration_formatted} | ETA {eta_formatted}',
      stream: process.stderr,
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 5000,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(items.length, 0);
  let next = 0;
  const work = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      const item = items[i]!;
      let stage = 'decode';
      try {
        const image = await decode(resolve(imagesDir, item.imagePath));
        stage = 'embed';
        const results = await Promise.all(embedders.map((e) => e.embed([image])));
        const embedded = results.map((r) => r[0]?.vector);
        if (embedded.some((v) => v === undefined)) throw new Error('a model returned no embedding');
        vectors[0]![i] = rawPixelFeature(image);
        embedded.forEach((v, m) => (vectors[m + 1]![i] = v));
      } catch (err) {
        failed.push({ index: i, error: `${stage}: ${err instanceof Error ? err.message : String(err)}` });
      }
      bar.increment();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, inFlight) }, work));
  } finally {
    bar.stop();
  }
  failed.sort((a, b) => a.index - b.index);
  return { vectors, failed };
}

function modelInfo(id: string, dir: string, e: WorkerEmbedder): ModelInfo {
  const c = e.card;
  return {
    id,
    kind: 'onnx',
    name: `${c.name} ${c.version}`,
    version: c.version,
    dir,
    deviceUID: c.deviceUID,
    embeddingDimension: c.embeddingDimension,
    resize: c.resize,
    inputSize: [c.input.shape[3], c.input.shape[2]],
    device: e.device,
  };
}

const RAW_PIXEL_INFO: ModelInfo = {
  id: RAW_PIXEL_ID,
  kind: 'raw-pixel',
  name: `raw pixels ${RAW_PIXEL_SIZE}x${RAW_PIXEL_SIZE}`,
  version: null,
  dir: null,
  deviceUID: null,
  embeddingDimension: RAW_PIXEL_SIZE * RAW_PIXEL_SIZE,
  resize: 'area average',
  inputSize: null,
  device: null,
};

/** Two models with the same name and version get their id appended, so tables stay readable. */
function disambiguate(infos: ModelInfo[]): ModelInfo[] {
  const seen = new Map<string, number>();
  for (const m of infos) seen.set(m.name, (seen.get(m.name) ?? 0) + 1);
  return infos.map((m) => ((seen.get(m.name) ?? 0) > 1 ? { ...m, name: `${m.name} [${m.id}]` } : m));
}

/** --save-embeddings: the --model's vectors by CSV row (raw pixels and baselines are not written). */
async function saveEmbeddings(
  file: string,
  opts: EvalOptions,
  set: EvalSet,
  vectors: ReadonlyArray<Float32Array | undefined>,
  info: ModelInfo,
): Promise<string[]> {
  const byRow = new Map<number, Float32Array>();
  const notEmbedded: Array<{ row: number; reason: string }> = set.leftOut.map((l) => ({ ...l }));
  set.items.forEach((item, i) => {
    const v = vectors[i];
    if (v === undefined) notEmbedded.push({ row: item.row, reason: 'could not be decoded or embedded' });
    else byRow.set(item.row, v);
  });
  notEmbedded.sort((a, b) => a.row - b.row);
  const meta = {
    labels: opts.labels,
    model: { name: info.name, dir: info.dir },
    rows: set.rows,
    dimension: info.embeddingDimension,
    embedded: [...byRow.keys()],
    notEmbedded,
  };
  return writeEmbeddings(file, byRow, meta);
}

async function runEval(opts: EvalOptions): Promise<void> {
  const k = integer(opts.k, '-k', 1);
  const bootstrap = integer(opts.bootstrap, '--bootstrap', 0);
  const seed = integer(opts.seed, '--seed', 0);
  const workers = integer(opts.workers, '--workers', 1);
  const batchSize = integer(opts.batchSize, '--batch-size', 1);
  const threads = opts.threads === undefined ? undefined : integer(opts.threads, '--threads', 1);
  if (!['cpu', 'cuda', 'auto'].includes(opts.device)) throw new UsageError(`--device is cpu, cuda or auto (got ${opts.device})`);
  const split = splitSelection(opts);
  const set = readEvalSet({
    labelsFile: opts.labels,
    ...(opts.labelMap ? { labelMapFile: opts.labelMap } : {}),
    ...(split ? { split } : {}),
    adultsOnly: opts.adultsOnly === true,
  });
  if (set.adultsOnly !== null) {
    const a = set.adultsOnly;
    process.stderr.write(
      `--adults-only: left out ${a.underAge} rows under 18 and ${a.pediatricWithoutAge} pediatric rows without an age; kept ${a.adultWithoutAge} adult-collection rows without an age${a.ageColumn ? '' : ' (the CSV has no age column)'}\n`,
    );
  }
  const dirs = [opts.model, ...opts.baseline];
  process.stderr.write(
    `precedent eval: ${set.items.length} images (${set.items.filter((i) => i.query).length} queries), ${dirs.length} model(s) + raw-pixel baseline\n`,
  );

  const log = createLogger('warn', process.stderr);
  const embedders: WorkerEmbedder[] = [];
  let embedded: Embedded;
  const started = Date.now();
  try {
    for (const dir of dirs) {
      embedders.push(
        await createEmbedder({
          modelDir: dir,
          device: opts.device as 'cpu' | 'cuda' | 'auto',
          batchSize,
          workers,
          ...(threads ? { threads } : {}),
          log,
          fallbackLevel: 'debug',
        }),
      );
    }
    embedded = await embedAll(set.items, opts.images, embedders, batchSize * workers * 2);
  } finally {
    await Promise.all(embedders.map((e) => e.close()));
  }
  const failedAt = new Set(embedded.failed.map((f) => f.index));
  const keep = set.items.map((_, i) => i).filter((i) => !failedAt.has(i));
  process.stderr.write(
    `embedded ${keep.length} of ${set.items.length} images in ${((Date.now() - started) / 1000).toFixed(1)} s${failedAt.size > 0 ? ` (${failedAt.size} failed: listed in eval.json)` : ''}\n`,
  );
  for (const f of embedded.failed.slice(0, 5)) process.stderr.write(`  ${set.items[f.index]?.imagePath}: ${f.error}\n`);
  if (!keep.some((i) => set.items[i]?.query)) throw new Error('no query image could be decoded and embedded');

  const infos = disambiguate([
    modelInfo('model', opts.model, embedders[0]!),
    RAW_PIXEL_INFO,
    ...opts.baseline.map((dir, b) => modelInfo(`baseline-${b + 1}`, dir, embedders[b + 1]!)),
  ]);
  // embedded.vectors: [raw, model, baseline-1, ...]; infos: [model, raw, baseline-1, ...].
  const order = [1, 0, ...opts.baseline.map((_, b) => b + 2)];
  const { report, neighbours } = buildReport({
    labelsFile: opts.labels,
    imagesDir: opts.images,
    ...(opts.labelMap ? { labelMapFile: opts.labelMap } : {}),
    ...(split ? { split } : {}),
    adultsOnly: opts.adultsOnly === true,
    set,
    items: keep.map((i) => set.items[i]!),
    decodeFailed: embedded.failed.map((f) => ({ imagePath: set.items[f.index]?.imagePath ?? '', error: f.error })),
    models: infos.map((info, m) => ({ info, vectors: keep.map((i) => embedded.vectors[order[m]!]![i]!) })),
    k,
    bootstrap,
    seed,
  });
  const written = await writeReport(opts.out, report, neighbours);
  const saved = opts.saveEmbeddings === undefined ? [] : await saveEmbeddings(opts.saveEmbeddings, opts, set, embedded.vectors[1]!, infos[0]!);
  const extra = saved.length > 0 ? `; embeddings of ${infos[0]!.name}: ${saved.join(' and ')}` : '';
  process.stdout.write(
    `${consoleSummary(report)}\n\nwrote ${written.length} files to ${opts.out}: eval.json, eval.md, neighbours.json, ${written.length - 3} SVG figures${extra}\n`,
  );
}

export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description(
      'evaluate retrieval models on labelled radiographs: P@k, mAP@10, k-NN vote diagnosis, 95% patient-group bootstrap intervals, raw-pixel baseline',
    )
    .requiredOption(
      '--labels <csv>',
      'labels CSV: image_path (relative to --images, or absolute), patient_group (or patient_id), label; optional dataset, label_group, age',
    )
    .requiredOption('--images <dir>', 'folder the image_path column is relative to (DICOM, PNG or JPEG files)')
    .option('--model <dir>', 'model folder (model.onnx + model.json)', './models/default')
    .option('--baseline <dirs...>', 'other model folders to evaluate side by side', [])
    .option('--out <dir>', 'output folder for eval.json, eval.md, neighbours.json and the SVG figures', './var/eval')
    .option('--split <csv>', 'split file with image_path and split columns (e.g. models/default/split.csv)')
    .option('--subset <names>', 'split value(s) of the queries, comma-separated (default with --split: test)')
    .option('--gallery-subset <names>', 'split value(s) of the searchable gallery (default: the same as --subset)')
    .option('--label-map <json>', 'JSON object mapping "label" or "label/label_group" to a class (null: leave out)')
    .option('--adults-only', 'leave out rows whose age column reads under 18 (without an age: rows of the pediatric collection)')
    .option(
      '--save-embeddings <file>',
      "write the model's embeddings as N x D float32 little-endian in labels CSV row order (NaN rows: not embedded), and FILE.json",
    )
    .option('-k, --k <n>', 'neighbours in the k-NN vote', '10')
    .option('--bootstrap <n>', 'bootstrap resamples of patient groups (0: no intervals)', '1000')
    .option('--seed <n>', 'seed of the bootstrap', '1')
    .option('--device <device>', 'cpu, cuda or auto (CUDA with CPU fallback)', 'cpu')
    .option('--workers <n>', 'embedding worker threads per model', '1')
    .option('--batch-size <n>', 'images per inference batch', '16')
    .option('--threads <n>', 'intra-op threads per worker (default: cores / workers)')
    .action(async (opts: EvalOptions) => {
      try {
        await runEval(opts);
      } catch (err) {
        const usage = err instanceof UsageError || isEvalInputError(err) || (isPrecedentError(err) && err.code === 'MODEL_INVALID');
        process.stderr.write(`precedent eval: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(usage ? 2 : 1);
      }
    });
}
