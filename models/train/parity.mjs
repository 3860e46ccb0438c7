// Parity check for export_onnx.py: runs model.onnx with onnxruntime-node (the node's runtime) on the
// tensors Python prepared and compares with PyTorch's outputs; if the node is built (dist/), also runs
// the node's own preprocessing (dist/embed/preprocess.js) on the decoded pixels and compares tensors.
// Usage: node models/train/parity.mjs <dir written by export_onnx.py>   (run from the repository root)
// Last line of stdout: JSON {embeddingMaxAbsDiff, attentionMaxAbsDiff, preprocessMaxAbsDiff|null, ...}.
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import ort from 'onnxruntime-node';

const dir = process.argv[2];
const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
const f32 = (name) => {
  const b = readFileSync(join(dir, name));
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};
const maxAbs = (a, b) => {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

const n = meta.images.length;
const per = meta.size * meta.size;
const batch = new Float32Array(n * per);
for (let i = 0; i < n; i++) batch.set(f32(`${i}.tensor`), i * per);

// The node's preprocessing on the same pixels, when dist/ is there.
let preprocessMaxAbsDiff = null;
const pre = resolve('dist/embed/preprocess.js');
if (existsSync(pre)) {
  const { preprocess } = await import(pathToFileURL(pre).href);
  const card = {
    input: { name: 'image', shape: [-1, 1, meta.size, meta.size], channels: 1 },
    resize: meta.resize,
    normalisation: { mean: [meta.mean], std: [meta.std] },
  };
  preprocessMaxAbsDiff = 0;
  for (let i = 0; i < n; i++) {
    const { width, height } = meta.images[i];
    const { tensor } = preprocess({ width, height, pixels: f32(`${i}.pixels`), notes: [] }, card);
    preprocessMaxAbsDiff = Math.max(preprocessMaxAbsDiff, maxAbs(tensor, batch.subarray(i * per, (i + 1) * per)));
  }
}

const session = await ort.InferenceSession.create(meta.model, { executionProviders: ['cpu'], intraOpNumThreads: 2, graphOptimizationLevel: 'all' });
const out = await session.run({ image: new ort.Tensor('float32', batch, [n, 1, meta.size, meta.size]) });
const emb = out.embedding;
const att = out.attention;
let normErr = 0;
const d = emb.dims[1];
for (let i = 0; i < n; i++) {
  let s = 0;
  for (let j = 0; j < d; j++) s += emb.data[i * d + j] ** 2;
  normErr = Math.max(normErr, Math.abs(Math.sqrt(s) - 1));
}
let attMin = Infinity;
let attMax = -Infinity;
for (const v of att.data) {
  attMin = Math.min(attMin, v);
  attMax = Math.max(attMax, v);
}
const result = {
  runtime: `onnxruntime-node ${ort.env.versions?.common ?? ''}`.trim(),
  embeddingDims: emb.dims,
  attentionDims: att.dims,
  embeddingMaxAbsDiff: maxAbs(emb.data, f32('embedding.torch')),
  attentionMaxAbsDiff: maxAbs(att.data, f32('attention.torch')),
  embeddingNormMaxErr: normErr,
  attentionRange: [attMin, attMax],
  preprocessMaxAbsDiff,
};
console.log(`parity on ${n} real images: embedding max |diff| ${result.embeddingMaxAbsDiff.toExponential(2)}, attention ${result.attentionMaxAbsDiff.toExponential(2)}, node preprocess vs python ${preprocessMaxAbsDiff === null ? 'skipped (no dist/)' : preprocessMaxAbsDiff.toExponential(2)}`);
console.log(JSON.stringify(result));
const ok = result.embeddingMaxAbsDiff < 1e-4 && result.attentionMaxAbsDiff < 1e-4 && (preprocessMaxAbsDiff === null || preprocessMaxAbsDiff < 1e-4);
process.exit(ok ? 0 : 1);
