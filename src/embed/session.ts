// Opening an ONNX Runtime session for a model folder, choosing the execution provider, and running one
// batch. Used inside the worker threads (session.run blocks the thread that calls it) and, through
// validateModel(), by tools that only want to check a model folder.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { PrecedentError, isPrecedentError } from '../shared/errors.js';
import { ATTENTION_MAX_SIDE, type DecodedImage, type EmbeddingResult, type ModelCard } from '../shared/analysis.js';
import { loadModelCard, MODEL_FILE } from './card.js';
import { checkGraph, checkOutputDims } from './graph.js';
import { attentionToImage, l2normalise, tensorLength, writeTensor, type Placement } from './preprocess.js';

export type RequestedDevice = 'cpu' | 'cuda' | 'auto';

export interface OpenedModel {
  card: ModelCard;
  session: InferenceSession;
  device: 'cpu' | 'cuda';
  /** Why CUDA was not used although it was asked for (the caller logs it once). */
  fallbackReason?: string;
}

function sessionOptions(provider: 'cpu' | 'cuda', threads: number, quiet: boolean): InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    // One batch at a time per worker: parallelism comes from intra-op threads and from more workers.
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // 4 (fatal only) while probing CUDA: its failure is expected on CPU hosts and we log it ourselves;
    // otherwise 3 (errors), so runtime warnings about graph details do not flood the node's stderr.
    logSeverityLevel: quiet ? 4 : 3,
    // No spin-waiting between runs: idle intra-op threads otherwise keep their cores busy for a while
    // after each run, taking them from decoding, ingest and other sessions on the same host (measured
    // with npm run bench: a worker's session.run at batch 1 took 1.6-1.8x a bare run with spinning
    // on, the same time with it off).
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Opens `<dir>/model.onnx` and checks it against `<dir>/model.json`. 'cuda' and 'auto' try the CUDA
 * provider alone first: asking for ['cuda', 'cpu'] still throws when the CUDA libraries are missing,
 * so the fallback to CPU has to be ours. 'cpu' never touches CUDA.
 */
export async function openModel(dir: string, device: RequestedDevice, threads: number): Promise<OpenedModel> {
  const card = loadModelCard(dir);
  const path = join(dir, MODEL_FILE);
  let session: InferenceSession | undefined;
  let used: 'cpu' | 'cuda' = 'cpu';
  let fallbackReason: string | undefined;
  if (device !== 'cpu') {
    try {
      session = await InferenceSession.create(path, sessionOptions('cuda', threads, true));
      used = 'cuda';
    } catch (err) {
      fallbackReason = message(err);
    }
  }
  if (!session) {
    try {
      session = await InferenceSession.create(path, sessionOptions('cpu', threads, false));
    } catch (err) {
      throw new PrecedentError('MODEL_INVALID', `ONNX Runtime cannot load ${path}: ${message(err)}`, { cause: err });
    }
  }
  try {
    checkGraph(card, session);
  } catch (err) {
    await session.release();
    throw err;
  }
  return fallbackReason === undefined ? { card, session, device: used } : { card, session, device: used, fallbackReason };
}

/** The batch size a run must have: the card's fixed N, or the number of images for a dynamic batch. */
export function runBatchSize(card: ModelCard, images: number): number {
  return card.input.shape[0] === -1 ? images : card.input.shape[0];
}

/** Time spent in each stage of embedBatch(), summed over batches (milliseconds). */
export interface StageTimes {
  batches: number;
  images: number;
  /** Resize and normalisation into the input tensor. */
  preprocessMs: number;
  /** session.run alone. */
  inferenceMs: number;
  /** L2 normalisation and the attention map on the image's geometry. */
  postprocessMs: number;
}

export function emptyStageTimes(): StageTimes {
  return { batches: 0, images: 0, preprocessMs: 0, inferenceMs: 0, postprocessMs: 0 };
}

export interface RawOutputs {
  embedding: Float32Array;
  attention?: { data: Float32Array; width: number; height: number };
}

/** Runs the graph on a ready [N, C, H, W] tensor; returns per-batch raw outputs, dims checked. */
export async function runTensor(model: OpenedModel, tensor: Float32Array, batch: number): Promise<RawOutputs> {
  const { card, session } = model;
  const [, c, h, w] = card.input.shape;
  const feeds = { [card.input.name]: new Tensor('float32', tensor, [batch, c, h, w]) };
  const fetches = card.outputs.attention === undefined ? [card.outputs.embedding] : [card.outputs.embedding, card.outputs.attention];
  const out = await session.run(feeds, fetches);
  const embedding = out[card.outputs.embedding];
  const attention = card.outputs.attention === undefined ? undefined : out[card.outputs.attention];
  checkOutputDims(card, batch, embedding?.dims ?? [], attention?.dims);
  if (!(embedding?.data instanceof Float32Array)) throw new PrecedentError('MODEL_INVALID', `output '${card.outputs.embedding}' is not float32`);
  if (!attention) return { embedding: embedding.data };
  if (!(attention.data instanceof Float32Array)) throw new PrecedentError('MODEL_INVALID', `output '${card.outputs.attention}' is not float32`);
  return { embedding: embedding.data, attention: { data: attention.data, height: attention.dims[2] ?? 0, width: attention.dims[3] ?? 0 } };
}

/** One run on zeros: pages in the weights and proves the outputs' shapes before the first real image. */
export async function warmUp(model: OpenedModel): Promise<void> {
  const batch = runBatchSize(model.card, 1);
  try {
    await runTensor(model, new Float32Array(batch * tensorLength(model.card)), batch);
  } catch (err) {
    if (isPrecedentError(err)) throw err;
    throw new PrecedentError('MODEL_INVALID', `the warm-up run on zeros failed: ${message(err)}`, { cause: err });
  }
}

/**
 * Embeds up to one batch of images: preprocess into one tensor (zero-padded to a fixed batch size),
 * one run, then per image an L2-normalised vector and, when the model has one, its attention map on
 * the image's own geometry, at most ATTENTION_MAX_SIDE pixels on the long side.
 */
export async function embedBatch(model: OpenedModel, images: readonly DecodedImage[], times?: StageTimes): Promise<EmbeddingResult[]> {
  const { card } = model;
  const t0 = performance.now();
  const batch = runBatchSize(card, images.length);
  const per = tensorLength(card);
  const tensor = new Float32Array(batch * per);
  const places: Placement[] = images.map((image, i) => writeTensor(image, card, tensor, i * per));
  const t1 = performance.now();
  const raw = await runTensor(model, tensor, batch);
  const t2 = performance.now();
  const dim = card.embeddingDimension;
  const results = images.map((image, i) => {
    const vector = raw.embedding.slice(i * dim, (i + 1) * dim);
    if (!vector.every(Number.isFinite)) throw new PrecedentError('INFERENCE_FAILED', 'the embedding has NaN or infinite values');
    const result: EmbeddingResult = { vector: l2normalise(vector) };
    const place = places[i];
    if (raw.attention && place) {
      const { width: w, height: h, data } = raw.attention;
      const grid = attentionGrid(image.width, image.height);
      result.attention = attentionToImage(data.subarray(i * w * h, (i + 1) * w * h), w, h, place, grid.width, grid.height);
    }
    return result;
  });
  if (times) {
    times.batches += 1;
    times.images += images.length;
    times.preprocessMs += t1 - t0;
    times.inferenceMs += t2 - t1;
    times.postprocessMs += performance.now() - t2;
  }
  return results;
}

/** The image's size scaled down (never up) to ATTENTION_MAX_SIDE on its long side. */
export function attentionGrid(width: number, height: number): { width: number; height: number } {
  const scale = Math.max(width, height) / ATTENTION_MAX_SIDE;
  if (scale <= 1) return { width, height };
  return { width: Math.max(1, Math.round(width / scale)), height: Math.max(1, Math.round(height / scale)) };
}

/** Checks a model folder end to end (card, graph, warm-up) on CPU, e.g. for a CLI; returns the card. */
export async function validateModel(dir: string): Promise<ModelCard> {
  const model = await openModel(dir, 'cpu', 1);
  try {
    await warmUp(model);
    return model.card;
  } finally {
    await model.session.release();
  }
}
