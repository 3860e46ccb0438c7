// Preprocessing and postprocessing: pure functions on typed arrays, shared by the worker and the tests
// (which compare the worker's result with a session run on a tensor made here).
import type { AttentionMap, DecodedImage, ModelCard } from '../shared/analysis.js';

/** Where the image lies inside the model input (the whole input for 'stretch'). */
export interface Placement {
  inputWidth: number;
  inputHeight: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export function placement(imageWidth: number, imageHeight: number, card: ModelCard): Placement {
  const inputHeight = card.input.shape[2];
  const inputWidth = card.input.shape[3];
  if (card.resize === 'stretch') return { inputWidth, inputHeight, x: 0, y: 0, width: inputWidth, height: inputHeight };
  const scale = Math.min(inputWidth / imageWidth, inputHeight / imageHeight);
  const width = Math.min(inputWidth, Math.max(1, Math.round(imageWidth * scale)));
  const height = Math.min(inputHeight, Math.max(1, Math.round(imageHeight * scale)));
  // Centred; an odd remainder leaves the extra padding column/row on the right/bottom.
  return { inputWidth, inputHeight, x: Math.floor((inputWidth - width) / 2), y: Math.floor((inputHeight - height) / 2), width, height };
}

interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  stride: number;
}

/**
 * 1-D bilinear (triangle) weights for inSize -> outSize with pixel centres at i + 0.5. When shrinking,
 * the triangle widens by the scale so that every source pixel contributes: a 3000-pixel radiograph
 * sampled at 224 points by plain bilinear interpolation would alias. This is what PIL's BILINEAR and
 * torchvision's Resize(antialias=True) do, i.e. what a model trained in Python most likely saw; when
 * enlarging it is exactly classic bilinear interpolation with edge clamping.
 */
function taps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * stride);
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support + 0.5));
    const hi = Math.min(inSize, Math.floor(centre + support + 0.5));
    let sum = 0;
    for (let x = lo; x < hi; x++) {
      const w = Math.max(0, 1 - Math.abs((x + 0.5 - centre) / filterScale));
      weights[i * stride + (x - lo)] = w;
      sum += w;
    }
    for (let k = 0; k < hi - lo; k++) weights[i * stride + k] = (weights[i * stride + k] ?? 0) / sum;
    start[i] = lo;
    count[i] = hi - lo;
  }
  return { start, count, weights, stride };
}

/** Separable resampling of a row-major single-channel image (see taps() for the filter). */
export function resize(src: Float32Array, width: number, height: number, outWidth: number, outHeight: number): Float32Array {
  if (width === outWidth && height === outHeight) return src.slice();
  const h = taps(width, outWidth);
  const v = taps(height, outHeight);
  const rows = new Float32Array(height * outWidth);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let i = 0; i < outWidth; i++) {
      const s = h.start[i] ?? 0;
      const n = h.count[i] ?? 0;
      let acc = 0;
      for (let k = 0; k < n; k++) acc += (src[row + s + k] ?? 0) * (h.weights[i * h.stride + k] ?? 0);
      rows[y * outWidth + i] = acc;
    }
  }
  const out = new Float32Array(outHeight * outWidth);
  for (let j = 0; j < outHeight; j++) {
    const s = v.start[j] ?? 0;
    const n = v.count[j] ?? 0;
    for (let k = 0; k < n; k++) {
      const w = v.weights[j * v.stride + k] ?? 0;
      const row = (s + k) * outWidth;
      for (let i = 0; i < outWidth; i++) out[j * outWidth + i] = (out[j * outWidth + i] ?? 0) + (rows[row + i] ?? 0) * w;
    }
  }
  return out;
}

/** Length of one image's tensor: C x H x W. */
export function tensorLength(card: ModelCard): number {
  return card.input.channels * card.input.shape[2] * card.input.shape[3];
}

/**
 * Writes one image as a [C, H, W] float32 tensor at `offset` in `out` (a batch buffer): resized per the
 * card, padded with 0 (black, before normalisation, as torchvision's Pad then Normalize would) for
 * letterbox, the grey channel repeated for 3-channel models, then (x - mean) / std per channel.
 */
export function writeTensor(image: DecodedImage, card: ModelCard, out: Float32Array, offset = 0): Placement {
  const place = placement(image.width, image.height, card);
  const { inputWidth: W, inputHeight: H } = place;
  const content = resize(image.pixels, image.width, image.height, place.width, place.height);
  for (let c = 0; c < card.input.channels; c++) {
    const mean = card.normalisation.mean[c] ?? 0;
    const std = card.normalisation.std[c] ?? 1;
    const plane = offset + c * H * W;
    out.fill((0 - mean) / std, plane, plane + H * W);
    for (let y = 0; y < place.height; y++) {
      const dst = plane + (place.y + y) * W + place.x;
      for (let x = 0; x < place.width; x++) out[dst + x] = ((content[y * place.width + x] ?? 0) - mean) / std;
    }
  }
  return place;
}

/** One image as a fresh [C, H, W] tensor. */
export function preprocess(image: DecodedImage, card: ModelCard): { tensor: Float32Array; placement: Placement } {
  const tensor = new Float32Array(tensorLength(card));
  return { tensor, placement: writeTensor(image, card, tensor) };
}

/** For each output pixel: the two source indices and the weight of the second (bilinear, clamped). */
function sampling(outSize: number, from: number, length: number, inputSize: number, mapSize: number): { i0: Int32Array; i1: Int32Array; f: Float32Array } {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const f = new Float32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    // Output pixel centre -> model input coordinate (inside the placed content) -> attention map.
    const input = from + ((o + 0.5) * length) / outSize;
    const a = Math.min(Math.max((input * mapSize) / inputSize - 0.5, 0), mapSize - 1);
    const lo = Math.floor(a);
    i0[o] = lo;
    i1[o] = Math.min(lo + 1, mapSize - 1);
    f[o] = a - lo;
  }
  return { i0, i1, f };
}

type Sampling = ReturnType<typeof sampling>;

// The steps of attentionToImage() are separate functions on purpose: as one function, its first loop
// was compiled on the fly (on-stack replacement) before the code after it had ever run, and V8
// deoptimised it again and again (34 times in 6,000 calls, --trace-deopt). Split, each step compiles
// once.

/** Each map row interpolated along x onto the output's columns: [mapHeight, width]. */
function interpolateColumns(map: Float32Array, mapWidth: number, mapHeight: number, xs: Sampling, width: number): Float32Array {
  const rows = new Float32Array(mapHeight * width);
  for (let r = 0; r < mapHeight; r++) {
    for (let x = 0; x < width; x++) {
      const a = map[r * mapWidth + (xs.i0[x] ?? 0)] ?? 0;
      const b = map[r * mapWidth + (xs.i1[x] ?? 0)] ?? 0;
      rows[r * width + x] = a + (b - a) * (xs.f[x] ?? 0);
    }
  }
  return rows;
}

/**
 * Min and max of the output without a pass over it: along y each output value is monotone in the blend
 * weight between its two rows (in floating point too), so the extremes lie on the first or last output
 * row that blends each pair of map rows.
 */
function outputRange(rows: Float32Array, mapHeight: number, width: number, ys: Sampling, height: number): { min: number; max: number } {
  const lowest = new Float64Array(mapHeight).fill(Infinity);
  const highest = new Float64Array(mapHeight).fill(-Infinity);
  for (let y = 0; y < height; y++) {
    const r = ys.i0[y] ?? 0;
    const fy = ys.f[y] ?? 0;
    lowest[r] = Math.min(lowest[r] ?? Infinity, fy);
    highest[r] = Math.max(highest[r] ?? -Infinity, fy);
  }
  let min = Infinity;
  let max = -Infinity;
  for (let r = 0; r < mapHeight; r++) {
    const top = r * width;
    const bottom = Math.min(r + 1, mapHeight - 1) * width;
    for (const fy of [lowest[r] ?? Infinity, highest[r] ?? -Infinity]) {
      if (!Number.isFinite(fy)) continue;
      for (let x = 0; x < width; x++) {
        const a = rows[top + x] ?? 0;
        const v = a + ((rows[bottom + x] ?? 0) - a) * fy;
        if (v < min) min = v;
        if (v > max) max = v;
      }
    }
  }
  return { min, max };
}

/** Every output row blended from two interpolated rows, min-max scaled with `inv` = 1 / (max - min). */
function blendRows(rows: Float32Array, width: number, ys: Sampling, height: number, min: number, inv: number): Float32Array {
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const top = (ys.i0[y] ?? 0) * width;
    const bottom = (ys.i1[y] ?? 0) * width;
    const fy = ys.f[y] ?? 0;
    const out = y * width;
    for (let x = 0; x < width; x++) {
      const a = rows[top + x] ?? 0;
      data[out + x] = (a + ((rows[bottom + x] ?? 0) - a) * fy - min) * inv;
    }
  }
  return data;
}

/**
 * An attention map [mapHeight, mapWidth] (covering the whole model input) back on the decoded image:
 * the letterbox padding is cropped (at sub-pixel precision, by mapping each image pixel into the
 * placed content), bilinear resized to width x height, then min-max scaled to [0, 1] (all 0 if flat).
 * Separable: each map row is first interpolated along x, then every output row is a blend of two of
 * those rows.
 */
export function attentionToImage(map: Float32Array, mapWidth: number, mapHeight: number, place: Placement, width: number, height: number): AttentionMap {
  const xs = sampling(width, place.x, place.width, place.inputWidth, mapWidth);
  const ys = sampling(height, place.y, place.height, place.inputHeight, mapHeight);
  const rows = interpolateColumns(map, mapWidth, mapHeight, xs, width);
  const { min, max } = outputRange(rows, mapHeight, width, ys, height);
  const range = max - min;
  if (range === 0 || !Number.isFinite(range)) return { width, height, data: new Float32Array(width * height) };
  // 0 <= v - min <= range, so the scaled values round into [0, 1] without a clamp.
  return { width, height, data: blendRows(rows, width, ys, height, min, 1 / range) };
}

/**
 * L2-normalises in place. A zero vector stays zero (no NaN): its cosine distance to everything is then
 * the same, which is harmless in a search, whereas a NaN would poison the index.
 */
export function l2normalise(v: Float32Array): Float32Array {
  let sum = 0;
  for (const x of v) sum += x * x;
  const norm = Math.sqrt(sum);
  if (norm > 0 && Number.isFinite(norm)) for (let i = 0; i < v.length; i++) v[i] = (v[i] ?? 0) / norm;
  return v;
}
