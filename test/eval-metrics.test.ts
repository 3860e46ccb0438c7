// The evaluation's metric functions against small hand-computed examples.
import { describe, expect, it } from 'vitest';
import {
  accuracy,
  areaResize,
  auc,
  averagePrecisionAt,
  balancedAccuracy,
  clusterBootstrap,
  confusionMatrix,
  evaluateModels,
  parseCsv,
  precisionAt,
  predictedClass,
  quantileSorted,
  rawPixelFeature,
  seededRandom,
  sensitivity,
  specificity,
  standardise,
  voteProbabilities,
  weightedMean,
  type EvalItem,
  type ModelVectors,
  type VoteOutcome,
} from '../src/eval/index.js';
import { cosineSimilarity, searchNeighbours } from '../src/eval/retrieval.js';

const T = true;
const F = false;

describe('P@k and AP@10', () => {
  it('P@k counts the relevant among the first k, with k in the denominator', () => {
    const rel = [T, F, T, T, F];
    expect(precisionAt(rel, 1)).toBe(1);
    expect(precisionAt(rel, 2)).toBe(0.5);
    expect(precisionAt(rel, 3)).toBeCloseTo(2 / 3, 12);
    expect(precisionAt(rel, 5)).toBeCloseTo(3 / 5, 12);
    // Only 5 images were searchable: P@10 is still over 10.
    expect(precisionAt(rel, 10)).toBeCloseTo(3 / 10, 12);
  });

  it('AP@10 = sum P@k rel_k / min(10, R)', () => {
    const rel = [T, F, T, F, F, F, F, F, F, F];
    // Hits at ranks 1 and 3: (1/1 + 2/3) / min(10, R).
    expect(averagePrecisionAt(rel, 2)).toBeCloseTo((1 + 2 / 3) / 2, 12);
    expect(averagePrecisionAt(rel, 5)).toBeCloseTo((1 + 2 / 3) / 5, 12);
    // More relevant images than 10: the denominator stops at 10.
    expect(averagePrecisionAt(new Array<boolean>(10).fill(T), 25)).toBe(1);
    expect(averagePrecisionAt([F, T, T], 2)).toBeCloseTo((1 / 2 + 2 / 3) / 2, 12);
    // No relevant image anywhere: 0 by definition.
    expect(averagePrecisionAt(new Array<boolean>(10).fill(F), 0)).toBe(0);
    // A hit beyond rank 10 does not count.
    expect(averagePrecisionAt([F, F, F, F, F, F, F, F, F, F, T], 1)).toBe(0);
  });
});

describe('retrieval', () => {
  // Unit vectors in the plane at the given angles (degrees).
  const at = (deg: number): Float32Array => Float32Array.of(Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180));

  it('never returns the query or another image of its patient group, however similar', () => {
    const vectors = [at(0), at(0), at(1), at(30), at(90), at(180)];
    const groups = ['p1', 'p1', 'p2', 'p3', 'p4', 'p5'];
    const labels = ['a', 'a', 'b', 'a', 'a', 'b'];
    const similarity = cosineSimilarity(vectors);
    const [r0] = searchNeighbours({ similarity, groups, labels }, [0], [0, 1, 2, 3, 4, 5], 10);
    expect(r0?.neighbours.map((n) => n.index)).toEqual([2, 3, 4, 5]);
    expect(r0?.searchable).toBe(4);
    // Relevant searchable images (label a, outside p1): items 3 and 4.
    expect(r0?.relevant).toBe(2);
    expect(r0?.neighbours[0]?.similarity).toBeCloseTo(Math.cos(Math.PI / 180), 6);
    expect(r0?.neighbours.at(-1)?.similarity).toBeCloseTo(-1, 6);
  });

  it('keeps the best `depth` neighbours in order, ties to the lower index', () => {
    const vectors = [at(0), at(10), at(-10), at(20), at(5)];
    const similarity = cosineSimilarity(vectors);
    const [r] = searchNeighbours({ similarity, groups: ['q', 'a', 'b', 'c', 'd'], labels: ['x', 'x', 'x', 'x', 'x'] }, [0], [1, 2, 3, 4], 3);
    expect(r?.neighbours.map((n) => n.index)).toEqual([4, 1, 2]);
  });

  it('evaluates a hand-made set: P@1, mAP@10 and the vote per subset', () => {
    // Two well separated classes; the kermany images form one collection, ieee the other.
    const items: EvalItem[] = [
      { row: 0, imagePath: '1', patientGroup: 'g1', label: 'a', dataset: 'kermany-x', query: true, gallery: true },
      { row: 1, imagePath: '2', patientGroup: 'g2', label: 'a', dataset: 'kermany-x', query: true, gallery: true },
      { row: 2, imagePath: '3', patientGroup: 'g3', label: 'b', dataset: 'kermany-x', query: true, gallery: true },
      { row: 3, imagePath: '4', patientGroup: 'g4', label: 'b', dataset: 'ieee', query: true, gallery: true },
      { row: 4, imagePath: '5', patientGroup: 'g5', label: 'a', dataset: 'ieee', query: true, gallery: true },
      { row: 5, imagePath: '6', patientGroup: 'g5', label: 'b', dataset: 'ieee', query: true, gallery: true },
    ];
    const model: ModelVectors = { id: 'model', kind: 'onnx', name: 'm', vectors: [at(0), at(2), at(90), at(92), at(4), at(88)] };
    const [pooled, adult, ieee, kermany] = evaluateModels(items, [model], { k: 1, bootstrap: 0, seed: 1 });
    expect([pooled?.id, adult?.id, ieee?.id, kermany?.id]).toEqual(['pooled', 'adult', 'ieee', 'kermany-x']);
    // Pooled: every query's nearest other-group image has its class.
    expect([pooled?.results['model']?.retrieval['P@1'].value, pooled?.results['model']?.diagnosis.accuracy.value]).toEqual([1, 1]);
    // Adult (ieee) alone: image 4 (b, 92 deg) searches g5's images 5 (a, 4 deg) and 6 (b, 88 deg) and
    // finds 6 first; images 5 and 6 (one patient group) can only find image 4 (b): 5 misses, 6 hits.
    // Query 5 has no relevant searchable image (R = 0): left out of P@k and mAP, kept in the vote.
    expect([adult?.queries, adult?.retrievalQueries, adult?.queriesWithoutRelevant, adult?.queriesWithoutRelevantPerClass]).toEqual([3, 2, 1, { a: 1 }]);
    // P@1 and AP@10 of queries 4 and 6: a hit at rank 1 with R = 1.
    expect([adult?.results['model']?.retrieval['P@1'].value, adult?.results['model']?.retrieval['mAP@10'].value]).toEqual([1, 1]);
    expect(adult?.results['model']?.diagnosis.accuracy.value).toBeCloseTo(2 / 3, 4);
    expect(adult?.results['model']?.diagnosis.confusion).toEqual({
      classes: ['a', 'b'],
      matrix: [
        [0, 1],
        [0, 2],
      ],
    });
    expect(kermany?.galleryImages).toBe(3);
  });
});

describe('the k-NN vote', () => {
  const labels = ['x', 'a', 'a', 'b', 'c'];

  it('weights each neighbour by its (non-negative) similarity', () => {
    const neighbours = [
      { index: 1, similarity: 0.6 },
      { index: 3, similarity: 0.3 },
      { index: 2, similarity: 0.1 },
      { index: 4, similarity: -0.5 },
    ];
    const p = voteProbabilities(neighbours, labels, ['a', 'b', 'c']);
    expect(p[0]).toBeCloseTo(0.7, 12);
    expect(p[1]).toBeCloseTo(0.3, 12);
    expect(p[2]).toBe(0);
    expect(predictedClass(neighbours, labels, ['a', 'b', 'c'], p)).toBe(0);
  });

  it('counts votes equally when no similarity is positive, and breaks ties by summed similarity', () => {
    const neighbours = [
      { index: 3, similarity: -0.1 },
      { index: 1, similarity: -0.2 },
    ];
    const p = voteProbabilities(neighbours, labels, ['a', 'b']);
    expect(p).toEqual([0.5, 0.5]);
    expect(predictedClass(neighbours, labels, ['a', 'b'], p)).toBe(1);
    expect(predictedClass([], labels, ['a', 'b'], [0, 0])).toBe(-1);
  });

  // truth -> predicted for 8 queries of 3 classes:
  //   class 0: 0,0,1   class 1: 1,1,0   class 2: 2,1
  const outcomes: VoteOutcome[] = [
    [0, 0],
    [0, 0],
    [0, 1],
    [1, 1],
    [1, 1],
    [1, 0],
    [2, 2],
    [2, 1],
  ].map(([truth, predicted]) => ({ truth: truth!, predicted: predicted!, probabilities: [] }));
  const ones = new Array<number>(outcomes.length).fill(1);

  it('sensitivity, specificity, accuracy and the confusion matrix by hand', () => {
    expect(confusionMatrix(outcomes, 3)).toEqual([
      [2, 1, 0],
      [1, 2, 0],
      [0, 1, 1],
    ]);
    expect(accuracy(outcomes, ones)).toBeCloseTo(5 / 8, 12);
    // Class 1: TP 2, FN 1; negatives 5 of which 2 were voted 1 (FP) -> TN 3.
    expect(sensitivity(outcomes, ones, 1)).toBeCloseTo(2 / 3, 12);
    expect(specificity(outcomes, ones, 1)).toBeCloseTo(3 / 5, 12);
    // Class 2: TP 1 of 2; no false positive among the 6 negatives.
    expect(sensitivity(outcomes, ones, 2)).toBe(0.5);
    expect(specificity(outcomes, ones, 2)).toBe(1);
    expect(balancedAccuracy(outcomes, ones, 3)).toBeCloseTo((2 / 3 + 2 / 3 + 1 / 2) / 3, 12);
    // A class without queries has no sensitivity.
    expect(sensitivity(outcomes, ones, 3)).toBeUndefined();
  });

  it('weights act as repeated queries (what the bootstrap relies on)', () => {
    const twice = [...outcomes, outcomes[7]!];
    const weights = [1, 1, 1, 1, 1, 1, 1, 2];
    expect(sensitivity(outcomes, weights, 2)).toBeCloseTo(sensitivity(twice, new Array<number>(9).fill(1), 2) ?? NaN, 12);
    expect(accuracy(outcomes, weights)).toBeCloseTo(5 / 9, 12);
  });
});

describe('AUC', () => {
  it('is 1 for a perfect scorer, 0 for a reversed one and 1/2 for constant scores', () => {
    const positive = [F, F, F, T, T];
    expect(auc([0.1, 0.2, 0.3, 0.8, 0.9], positive)).toBe(1);
    expect(auc([0.9, 0.8, 0.7, 0.2, 0.1], positive)).toBe(0);
    expect(auc([0.5, 0.5, 0.5, 0.5, 0.5], positive)).toBe(0.5);
  });

  it('matches a hand-computed example with a tie', () => {
    // Pairs (pos, neg): (0.35 vs 0.1) 1, (0.35 vs 0.4) 0, (0.8 vs both) 2, -> 3/4.
    expect(auc([0.1, 0.4, 0.35, 0.8], [F, F, T, T])).toBe(0.75);
    // A positive tied with a negative counts one half: (0.4 vs 0.4) 0.5 + (0.4 vs 0.1) 1 -> 0.75.
    expect(auc([0.1, 0.4, 0.4], [F, F, T])).toBe(0.75);
  });

  it('is about 1/2 for a random scorer and undefined without both classes', () => {
    const random = seededRandom(42);
    const n = 4000;
    const scores = Array.from({ length: n }, () => random());
    const positive = Array.from({ length: n }, () => random() < 0.3);
    const value = auc(scores, positive) ?? NaN;
    expect(Math.abs(value - 0.5)).toBeLessThan(0.03);
    expect(auc([0.1, 0.2], [T, T])).toBeUndefined();
  });
});

describe('cluster bootstrap', () => {
  /** Per-query 0/1 values of `groups` groups with 3 queries each; about 60 % ones. */
  function data(groups: number): { values: number[]; ids: string[] } {
    const random = seededRandom(7);
    const values: number[] = [];
    const ids: string[] = [];
    for (let g = 0; g < groups; g++) {
      const p = random() < 0.6 ? 0.8 : 0.2;
      for (let j = 0; j < 3; j++) {
        values.push(random() < p ? 1 : 0);
        ids.push(`g${g}`);
      }
    }
    return { values, ids };
  }

  it('gives an interval that contains the point estimate and shrinks with more patient groups', () => {
    const widths: number[] = [];
    for (const groups of [20, 80, 320]) {
      const { values, ids } = data(groups);
      const point = weightedMean(values, new Array<number>(values.length).fill(1)) ?? NaN;
      const ci = clusterBootstrap(ids, { mean: (w) => weightedMean(values, w) }, { resamples: 1000, seed: 1 })['mean'];
      expect(ci).not.toBeNull();
      expect(ci?.lo).toBeLessThanOrEqual(point);
      expect(ci?.hi).toBeGreaterThanOrEqual(point);
      expect(ci?.resamples).toBe(1000);
      widths.push((ci?.hi ?? NaN) - (ci?.lo ?? NaN));
    }
    expect(widths[1]).toBeLessThan(widths[0]!);
    expect(widths[2]).toBeLessThan(widths[1]!);
    // About 1/sqrt(n): four times the groups, roughly half the width.
    expect(widths[2]! / widths[0]!).toBeLessThan(0.4);
  });

  it('resamples patient groups, not images: a group-level effect widens the interval', () => {
    // 20 groups of 10 identical values vs the same 200 values as 200 singleton groups.
    const values = Array.from({ length: 200 }, (_, i) => (Math.floor(i / 10) % 2 === 0 ? 1 : 0));
    const clustered = clusterBootstrap(
      values.map((_, i) => `g${Math.floor(i / 10)}`),
      { m: (w) => weightedMean(values, w) },
      { resamples: 1000, seed: 3 },
    )['m'];
    const singletons = clusterBootstrap(
      values.map((_, i) => `i${i}`),
      { m: (w) => weightedMean(values, w) },
      { resamples: 1000, seed: 3 },
    )['m'];
    expect((clustered?.hi ?? 0) - (clustered?.lo ?? 0)).toBeGreaterThan(2 * ((singletons?.hi ?? 0) - (singletons?.lo ?? 0)));
  });

  it('is deterministic given the seed', () => {
    const { values, ids } = data(30);
    const run = (seed: number) => clusterBootstrap(ids, { m: (w) => weightedMean(values, w) }, { resamples: 500, seed })['m'];
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });

  it('returns null intervals without resamples, and for a statistic defined in too few of them', () => {
    expect(clusterBootstrap(['a', 'b'], { m: () => 1 }, { resamples: 0, seed: 1 })).toEqual({ m: null });
    expect(clusterBootstrap(['a', 'b'], { m: () => undefined }, { resamples: 100, seed: 1 })).toEqual({ m: null });
  });

  it('uses linear-interpolated percentiles (numpy default)', () => {
    // numpy.percentile([1, 2, 3, 4, 5], [2.5, 97.5]) = [1.1, 4.9]
    expect(quantileSorted([1, 2, 3, 4, 5], 0.025)).toBeCloseTo(1.1, 12);
    expect(quantileSorted([1, 2, 3, 4, 5], 0.975)).toBeCloseTo(4.9, 12);
  });
});

describe('raw-pixel baseline and inputs', () => {
  it('area-averages to the target grid, including fractional boxes', () => {
    // 4x4 -> 2x2: the mean of each 2x2 block.
    const px = [0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3];
    expect(Array.from(areaResize(px, 4, 4, 2, 2))).toEqual([0, 1, 2, 3]);
    // 3x1 -> 2x1: boxes [0, 1.5) and [1.5, 3): (a + b/2) / 1.5 and (b/2 + c) / 1.5.
    const r = areaResize([3, 6, 9], 3, 1, 2, 1);
    expect(r[0]).toBeCloseTo((3 + 3) / 1.5, 5);
    expect(r[1]).toBeCloseTo((3 + 9) / 1.5, 5);
  });

  it('standardises to zero mean and unit variance, a flat image to zeros', () => {
    const s = standardise(Float32Array.of(1, 2, 3, 4));
    const mean = s.reduce((a, b) => a + b, 0) / 4;
    const variance = s.reduce((a, b) => a + (b - mean) ** 2, 0) / 4;
    expect(mean).toBeCloseTo(0, 6);
    expect(variance).toBeCloseTo(1, 5);
    expect(Array.from(standardise(Float32Array.of(0.5, 0.5)))).toEqual([0, 0]);
    const feature = rawPixelFeature({ width: 100, height: 60, pixels: Float32Array.from({ length: 6000 }, (_, i) => (i % 100) / 100), notes: [] });
    expect(feature).toHaveLength(1024);
  });

  it('parses quoted CSV fields', () => {
    expect(parseCsv('a,b\r\n"x, y","say ""hi"""\n\n1,\n')).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"'],
      ['1', ''],
    ]);
    // A spreadsheet's BOM and whitespace-only lines are not data; a quote inside a field is literal.
    expect(parseCsv('\ufeffa,b\n  \n5 "in",x\n')).toEqual([
      ['a', 'b'],
      ['5 "in"', 'x'],
    ]);
  });
});
