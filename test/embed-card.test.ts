// model.json validation, and the card checked against a real ONNX graph (the test model).
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkGraph, createEmbedder, loadModelCard, openModel, validateModel, type GraphSignature } from '../src/embed/index.js';
import { PrecedentError } from '../src/shared/errors.js';
import type { ModelCard } from '../src/shared/analysis.js';
import { editedModel, readCard, testModelDir } from './helpers/model-fixture.js';
import { capturingLogger } from './helpers/model-images.js';

const dir = testModelDir();

/** The PrecedentError a call throws (sync or async), or a failure when it does not throw one. */
async function modelError(fn: () => unknown): Promise<PrecedentError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PrecedentError);
    return err as PrecedentError;
  }
  throw new Error('expected a PrecedentError');
}

/** openModel (a real session) on a copy of the test model whose card `edit` changed. */
async function graphError(edit: (card: ModelCard) => void): Promise<PrecedentError> {
  return modelError(() =>
    openModel(
      editedModel(dir, (c) => void edit(c)),
      'cpu',
      1,
    ),
  );
}

describe('model.json', () => {
  it('loads a valid card, and the folder passes the full check (graph + warm-up)', async () => {
    const card = loadModelCard(dir);
    expect(card).toMatchObject({ name: 'precedent-test-embedder', embeddingDimension: 32, resize: 'stretch' });
    expect(card.input).toEqual({ name: 'image', shape: [-1, 1, 64, 64], channels: 1 });
    await expect(validateModel(dir)).resolves.toEqual(card);
  });

  it('accepts an optional similarity calibration, and lists what is wrong with a bad one', async () => {
    const similarityCalibration = { kind: 'percentile', cosines: [0.9, 0.95, 0.99], scores: [0.1, 0.5, 0.9] };
    expect(loadModelCard(editedModel(dir, (c) => ({ ...c, similarityCalibration }))).similarityCalibration).toEqual(similarityCalibration);
    expect(loadModelCard(dir).similarityCalibration).toBeUndefined();
    const bad = editedModel(dir, (c) => ({ ...c, similarityCalibration: { kind: 'percentile', cosines: [0.99, 0.9, 0.95], scores: [0.1, 1.5] } }));
    const err = await modelError(() => loadModelCard(bad));
    expect(err.details).toEqual(
      expect.arrayContaining([
        'similarityCalibration.scores.1: Too big: expected number to be <=1',
        'similarityCalibration.cosines.1: knots must be in ascending order',
      ]),
    );
  });

  it('lists every problem with its path', async () => {
    const bad = editedModel(dir, (c) => ({
      ...c,
      deviceUID: '1.02.3',
      input: { ...c.input, shape: [-1, 3, 64, 64] },
      resize: 'crop',
      normalisation: { mean: [0.5, 0.5], std: [0] },
      embeddingDimension: 0,
      extra: true,
    }));
    const err = await modelError(() => loadModelCard(bad));
    expect(err.code).toBe('MODEL_INVALID');
    const paths = err.details.map((d) => d.split(':')[0]);
    expect(paths).toEqual(
      expect.arrayContaining(['deviceUID', 'input.shape.1', 'resize', 'normalisation.std.0', 'embeddingDimension', '(root)', 'normalisation.mean']),
    );
    expect(err.message).toMatch(/input\.shape\.1: is 3 but channels is 1/);
  });

  it('refuses a folder without model.onnx, and a card that is not JSON', async () => {
    const noModel = editedModel(dir, () => undefined);
    rmSync(join(noModel, 'model.onnx'));
    const missing = await modelError(() => loadModelCard(noModel));
    expect(missing.code).toBe('MODEL_INVALID');
    expect(missing.message).toMatch(/model\.onnx is missing/);
    const notJson = editedModel(dir, () => '{ "name": ');
    expect((await modelError(() => loadModelCard(notJson))).message).toMatch(/not valid JSON/);
    const empty = editedModel(dir, () => undefined);
    writeFileSync(join(empty, 'model.onnx'), 'not a model');
    const unreadable = await modelError(() => openModel(empty, 'cpu', 1));
    expect(unreadable.code).toBe('MODEL_INVALID');
    expect(unreadable.message).toMatch(/ONNX Runtime cannot load/);
  });
});

describe('card against the ONNX graph', () => {
  it('input name', async () => {
    const err = await graphError((c) => (c.input.name = 'pixels'));
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.message).toMatch(/input\.name: card says 'pixels', graph inputs are \[image\]/);
  });

  it('input height and width', async () => {
    const err = await graphError((c) => (c.input.shape = [-1, 1, 128, 32]));
    expect(err.details).toEqual(['input.shape[2] (height): card says 128, graph says 64', 'input.shape[3] (width): card says 32, graph says 64']);
  });

  it('channels', async () => {
    const err = await graphError((c) => {
      c.input = { ...c.input, shape: [-1, 3, 64, 64], channels: 3 };
      c.normalisation = { mean: [0, 0, 0], std: [1, 1, 1] };
    });
    expect(err.details).toEqual(["input.channels: card says 3, graph input 'image' has 1 channels"]);
  });

  it('embedding output name and dimension', async () => {
    const name = await graphError((c) => (c.outputs.embedding = 'features'));
    expect(name.message).toMatch(/outputs\.embedding: card says 'features', graph outputs are \[embedding, attention\]/);
    const dim = await graphError((c) => (c.embeddingDimension = 64));
    expect(dim.details).toEqual(["embeddingDimension: card says 64, graph output 'embedding' is ['N', 32]"]);
  });

  it('declared attention output', async () => {
    const err = await graphError((c) => (c.outputs.attention = 'heatmap'));
    expect(err.details).toEqual(["outputs.attention: card says 'heatmap', graph outputs are [embedding, attention]"]);
  });

  it('a fixed batch in the card fits a dynamic graph; -1 in the card does not fit a fixed graph', async () => {
    const fixed = editedModel(dir, (c) => void (c.input.shape = [4, 1, 64, 64]));
    const model = await openModel(fixed, 'cpu', 1);
    expect(model.card.input.shape[0]).toBe(4);
    await model.session.release();

    const card = readCard(dir);
    const graph = (input: (number | string)[], attention: (number | string)[]): GraphSignature => ({
      inputNames: ['image'],
      outputNames: ['embedding', 'attention'],
      inputMetadata: [{ name: 'image', isTensor: true, type: 'float32', shape: input }],
      outputMetadata: [
        { name: 'embedding', isTensor: true, type: 'float32', shape: ['N', 32] },
        { name: 'attention', isTensor: true, type: 'float32', shape: attention },
      ],
    });
    expect(() => checkGraph(card, graph(['N', 1, 64, 64], ['N', 1, 8, 8]))).not.toThrow();
    expect(() => checkGraph(card, graph([-1, 1, 64, 64], ['N', 1, 8, 8]))).not.toThrow();
    expect(() => checkGraph(card, graph([1, 1, 64, 64], ['N', 1, 8, 8]))).toThrow(
      /input\.shape\[0\]: card says -1 \(dynamic batch\), graph input 'image' has a fixed batch of 1/,
    );
    expect(() => checkGraph(card, graph(['N', 1, 64, 64], ['N', 8, 8]))).toThrow(
      /outputs\.attention: graph output 'attention' is \['N', 8, 8\], expected \[N, 1, h, w\]/,
    );
    expect(() => checkGraph(card, graph(['N', 1, 64, 64], ['N', 2, 8, 8]))).toThrow(PrecedentError);
  });

  it('createEmbedder refuses a mismatching model with MODEL_INVALID', async () => {
    const bad = editedModel(dir, (c) => void (c.embeddingDimension = 16));
    const { log } = capturingLogger();
    const err = await modelError(() => createEmbedder({ modelDir: bad, device: 'cpu', threads: 1, batchSize: 4, log }));
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.message).toMatch(/embeddingDimension: card says 16/);
  });
});
