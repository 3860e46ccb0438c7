// Checks an ONNX graph's signature against its model card. A card that disagrees with its graph would
// otherwise surface as an obscure runtime error on the first study (or, worse, as silently wrong
// preprocessing), so every disagreement is reported up front, naming the card field and both values.
import type { InferenceSession } from 'onnxruntime-node';
import { PrecedentError } from '../shared/errors.js';
import type { ModelCard } from '../shared/analysis.js';

/** The part of an InferenceSession that describes its graph (a plain object in unit tests). */
export interface GraphSignature {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly InferenceSession.ValueMetadata[];
}

type Dim = number | string;

/** Symbolic ("N", "batch") or -1: the graph accepts any size there. */
function isDynamic(dim: Dim | undefined): boolean {
  return typeof dim === 'string' || dim === -1;
}

function fmt(shape: readonly Dim[]): string {
  return `[${shape.map((d) => (typeof d === 'string' ? `'${d}'` : String(d))).join(', ')}]`;
}

function metadata(list: readonly InferenceSession.ValueMetadata[], name: string): InferenceSession.TensorValueMetadata | undefined {
  const found = list.find((m) => m.name === name);
  return found?.isTensor ? found : undefined;
}

function checkInput(card: ModelCard, graph: GraphSignature, problems: string[]): void {
  const { name, shape, channels } = card.input;
  if (!graph.inputNames.includes(name)) {
    problems.push(`input.name: card says '${name}', graph inputs are [${graph.inputNames.join(', ')}]`);
    return;
  }
  const meta = metadata(graph.inputMetadata, name);
  if (!meta) {
    problems.push(`input.name: graph input '${name}' is not a tensor`);
    return;
  }
  if (meta.type !== 'float32') problems.push(`input.name: graph input '${name}' is ${meta.type}, the node feeds float32`);
  // An empty shape means the graph does not declare one; the warm-up run on zeros still checks it.
  if (meta.shape.length === 0) return;
  if (meta.shape.length !== 4) {
    problems.push(`input.shape: card says ${fmt(shape)}, graph input '${name}' is ${fmt(meta.shape)} (rank ${meta.shape.length}, not 4)`);
    return;
  }
  const [n, c, h, w] = meta.shape;
  if (shape[0] === -1 && !isDynamic(n)) {
    problems.push(`input.shape[0]: card says -1 (dynamic batch), graph input '${name}' has a fixed batch of ${String(n)}`);
  } else if (shape[0] !== -1 && !isDynamic(n) && n !== shape[0]) {
    problems.push(`input.shape[0]: card says ${shape[0]}, graph input '${name}' has a batch of ${String(n)}`);
  }
  if (!isDynamic(c) && c !== channels) problems.push(`input.channels: card says ${channels}, graph input '${name}' has ${String(c)} channels`);
  if (!isDynamic(h) && h !== shape[2]) problems.push(`input.shape[2] (height): card says ${shape[2]}, graph says ${String(h)}`);
  if (!isDynamic(w) && w !== shape[3]) problems.push(`input.shape[3] (width): card says ${shape[3]}, graph says ${String(w)}`);
}

function checkOutputs(card: ModelCard, graph: GraphSignature, problems: string[]): void {
  const { embedding, attention } = card.outputs;
  const outputs = `graph outputs are [${graph.outputNames.join(', ')}]`;
  if (!graph.outputNames.includes(embedding)) {
    problems.push(`outputs.embedding: card says '${embedding}', ${outputs}`);
  } else {
    const shape = metadata(graph.outputMetadata, embedding)?.shape ?? [];
    const last = shape[shape.length - 1];
    if (shape.length > 0 && !isDynamic(last) && last !== card.embeddingDimension) {
      problems.push(`embeddingDimension: card says ${card.embeddingDimension}, graph output '${embedding}' is ${fmt(shape)}`);
    }
  }
  if (attention === undefined) return;
  if (!graph.outputNames.includes(attention)) {
    problems.push(`outputs.attention: card says '${attention}', ${outputs}`);
    return;
  }
  const shape = metadata(graph.outputMetadata, attention)?.shape ?? [];
  if (shape.length > 0 && (shape.length !== 4 || (!isDynamic(shape[1]) && shape[1] !== 1))) {
    problems.push(`outputs.attention: graph output '${attention}' is ${fmt(shape)}, expected [N, 1, h, w]`);
  }
}

/** Throws MODEL_INVALID listing every way the graph disagrees with the card. */
export function checkGraph(card: ModelCard, graph: GraphSignature): void {
  const problems: string[] = [];
  checkInput(card, graph, problems);
  checkOutputs(card, graph, problems);
  if (problems.length > 0) {
    throw new PrecedentError('MODEL_INVALID', `${modelLabel(card)} does not match its model.json: ${problems.join('; ')}`, {
      details: problems,
    });
  }
}

function modelLabel(card: ModelCard): string {
  return `model.onnx of ${card.name} ${card.version}`;
}

/**
 * The dims a run actually produced, checked once at warm-up and on every batch: a graph with symbolic
 * output dims passes checkGraph, so this is where a wrong embedding size or attention rank shows.
 */
export function checkOutputDims(card: ModelCard, batch: number, embeddingDims: readonly number[], attentionDims?: readonly number[]): void {
  const problems: string[] = [];
  const perImage = embeddingDims.slice(1).reduce((a, b) => a * b, 1);
  if (embeddingDims[0] !== batch || perImage !== card.embeddingDimension) {
    problems.push(`embeddingDimension: card says ${card.embeddingDimension}, a batch of ${batch} gave '${card.outputs.embedding}' ${fmt(embeddingDims)}`);
  }
  if (card.outputs.attention !== undefined) {
    if (!attentionDims) problems.push(`outputs.attention: the run returned no '${card.outputs.attention}'`);
    else if (attentionDims.length !== 4 || attentionDims[0] !== batch || attentionDims[1] !== 1) {
      problems.push(`outputs.attention: a batch of ${batch} gave ${fmt(attentionDims)}, expected [${batch}, 1, h, w]`);
    }
  }
  if (problems.length > 0) {
    throw new PrecedentError('MODEL_INVALID', `${modelLabel(card)} produced outputs that do not match its model.json: ${problems.join('; ')}`, {
      details: problems,
    });
  }
}
