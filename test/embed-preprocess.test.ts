// Preprocessing and postprocessing against values worked out by hand.
import { describe, expect, it } from 'vitest';
import { attentionToImage, l2normalise, placement, preprocess, resize } from '../src/embed/index.js';
import type { ModelCard } from '../src/shared/analysis.js';
import { image, maxAbsDiff, range } from './helpers/model-images.js';

function card(overrides: Partial<ModelCard> & { size?: [number, number]; channels?: 1 | 3 } = {}): ModelCard {
  const [h, w] = overrides.size ?? [4, 4];
  const channels = overrides.channels ?? 1;
  return {
    name: 't',
    version: '1',
    deviceUID: '2.25.1',
    input: { name: 'image', shape: [-1, channels, h, w], channels },
    resize: 'stretch',
    normalisation: { mean: Array<number>(channels).fill(0), std: Array<number>(channels).fill(1) },
    outputs: { embedding: 'embedding', attention: 'attention' },
    embeddingDimension: 2,
    intendedUse: 'tests',
    trainingData: 'none',
    metrics: {},
    ...overrides,
  };
}

describe('resize (bilinear, widened when shrinking)', () => {
  it('enlarges a row by classic bilinear interpolation with clamped edges', () => {
    // Output centres 0.5..3.5 map to source x = 0.25*... - 0.5: -0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
    expect(Array.from(resize(Float32Array.from([0, 1]), 2, 1, 4, 1))).toEqual([0, 0.25, 0.75, 1]);
  });

  it('shrinks with a triangle twice as wide, so every source pixel counts', () => {
    // Output 0: centre 1.0, weights 0.75, 0.75, 0.25 on pixels 0, 1, 2 -> (0.75 + 0.5) / 1.75 = 5/7.
    const out = Array.from(resize(Float32Array.from([0, 1, 2, 3]), 4, 1, 2, 1));
    expect(out[0]).toBeCloseTo(5 / 7, 6);
    expect(out[1]).toBeCloseTo(3 - 5 / 7, 6);
  });

  it('keeps a constant image constant and copies an image of the same size', () => {
    const flat = resize(new Float32Array(30 * 20).fill(0.4), 30, 20, 7, 11);
    expect(maxAbsDiff(flat, new Float32Array(77).fill(0.4))).toBeLessThan(1e-6);
    const src = Float32Array.from([1, 2, 3, 4]);
    const same = resize(src, 2, 2, 2, 2);
    expect(Array.from(same)).toEqual([1, 2, 3, 4]);
    expect(same).not.toBe(src);
  });

  it('resizes both axes (2x1 -> 4x2: rows repeat)', () => {
    expect(Array.from(resize(Float32Array.from([0, 1]), 2, 1, 4, 2))).toEqual([0, 0.25, 0.75, 1, 0, 0.25, 0.75, 1]);
  });
});

describe('tensor from a decoded image', () => {
  it('stretch fills the whole input, normalised by (x - mean) / std', () => {
    const c = card({ size: [1, 4], normalisation: { mean: [0.5], std: [0.25] } });
    const { tensor, placement: p } = preprocess(image(2, 1, [0, 1]), c);
    // Resized row [0, 0.25, 0.75, 1] -> (x - 0.5) / 0.25.
    expect(Array.from(tensor)).toEqual([-2, -1, 1, 2]);
    expect(p).toEqual({ inputWidth: 4, inputHeight: 1, x: 0, y: 0, width: 4, height: 1 });
  });

  it('letterbox keeps the aspect ratio, centres the image and pads with black before normalising', () => {
    const c = card({ resize: 'letterbox', normalisation: { mean: [0.5], std: [0.5] } });
    // 4x2 in a 4x4 input: scale 1, rows 1-2 hold the image, rows 0 and 3 are padding (0 -> -1).
    const { tensor, placement: p } = preprocess(image(4, 2, [0, 0.25, 0.5, 1, 1, 1, 1, 1]), c);
    expect(p).toEqual({ inputWidth: 4, inputHeight: 4, x: 0, y: 1, width: 4, height: 2 });
    expect(Array.from(tensor)).toEqual([-1, -1, -1, -1, -1, -0.5, 0, 1, 1, 1, 1, 1, -1, -1, -1, -1]);
  });

  it('letterbox of a tall image pads left and right; an odd remainder goes right', () => {
    // 1x3 into 4x4: scale min(4/1, 4/3) = 4/3 -> content 1 (round 1.33) x 4, x offset floor(3/2) = 1.
    const c = card({ resize: 'letterbox' });
    const { tensor, placement: p } = preprocess(image(1, 3, [1, 1, 1]), c);
    expect(p).toEqual({ inputWidth: 4, inputHeight: 4, x: 1, y: 0, width: 1, height: 4 });
    expect(Array.from(tensor)).toEqual([0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0]);
  });

  it('a large image shrinks into the letterbox (2000x1000 -> 64x32 content in 64x64, y = 16)', () => {
    expect(placement(2000, 1000, card({ resize: 'letterbox', size: [64, 64] }))).toEqual({
      inputWidth: 64,
      inputHeight: 64,
      x: 0,
      y: 16,
      width: 64,
      height: 32,
    });
  });

  it('repeats grey into 3 channels, each with its own mean and std', () => {
    const c = card({ channels: 3, size: [1, 2], normalisation: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } });
    const { tensor } = preprocess(image(2, 1, [0, 1]), c);
    expect(tensor).toHaveLength(6);
    const expected = [-0.485 / 0.229, 0.515 / 0.229, -0.456 / 0.224, 0.544 / 0.224, -0.406 / 0.225, 0.594 / 0.225];
    expect(maxAbsDiff(tensor, expected)).toBeLessThan(1e-6);
  });
});

describe('attention map back on the image', () => {
  const stretch = { inputWidth: 4, inputHeight: 4, x: 0, y: 0, width: 4, height: 4 };

  it('bilinear-resizes a 2x2 map to 4x4 and min-max scales it', () => {
    // Map [[0, 1], [2, 3]]; x samples at -0.25 (clamped), 0.25, 0.75, 1.25 (clamped), same for y.
    const out = attentionToImage(Float32Array.from([0, 1, 2, 3]), 2, 2, stretch, 4, 4);
    expect(out.width).toBe(4);
    expect(out.height).toBe(4);
    const raw = [0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3];
    expect(
      maxAbsDiff(
        out.data,
        raw.map((v) => v / 3),
      ),
    ).toBeLessThan(1e-6);
  });

  it('crops the letterbox padding before resizing', () => {
    // 4x4 map over a 4x4 input whose rows 1-2 hold a 4x2 image: the image sees map rows 1 and 2 only.
    const map = Float32Array.from([9, 9, 9, 9, 0, 1, 2, 3, 4, 5, 6, 7, -9, -9, -9, -9]);
    const out = attentionToImage(map, 4, 4, { inputWidth: 4, inputHeight: 4, x: 0, y: 1, width: 4, height: 2 }, 4, 2);
    expect(
      maxAbsDiff(
        out.data,
        [0, 1, 2, 3, 4, 5, 6, 7].map((v) => v / 7),
      ),
    ).toBeLessThan(1e-6);
  });

  it('gives all zeros for a flat map, and stays within [0, 1] on a large image', () => {
    const flat = attentionToImage(new Float32Array(4).fill(0.7), 2, 2, stretch, 3, 5);
    expect(Array.from(flat.data)).toEqual(new Array<number>(15).fill(0));
    const big = attentionToImage(
      Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 0.3),
      8,
      8,
      stretch,
      517,
      389,
    );
    expect(big.data).toHaveLength(517 * 389);
    expect(range(big.data)).toEqual({ min: 0, max: 1 });
  });
});

describe('l2normalise', () => {
  it('scales to unit length and leaves a zero vector at zero (no NaN)', () => {
    expect(Array.from(l2normalise(Float32Array.from([3, 4])))).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect(Array.from(l2normalise(new Float32Array(3)))).toEqual([0, 0, 0]);
  });
});
