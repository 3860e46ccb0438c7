// The displayed match score: one function maps a raw cosine through the model card's calibration.
import { describe, expect, it } from 'vitest';
import { displayScore, similarityPhrase, type SimilarityCalibration } from '../src/shared/similarity.js';

const calibration: SimilarityCalibration = { kind: 'percentile', cosines: [0.9, 0.95, 0.99], scores: [0.1, 0.5, 0.9] };

describe('displayScore', () => {
  it('interpolates linearly between knots and clamps outside them', () => {
    expect(displayScore(0.95, calibration)).toBeCloseTo(0.5, 10);
    expect(displayScore(0.97, calibration)).toBeCloseTo(0.7, 10);
    expect(displayScore(0.925, calibration)).toBeCloseTo(0.3, 10);
    expect(displayScore(0.5, calibration)).toBe(0.1);
    expect(displayScore(1, calibration)).toBe(0.9);
  });

  it('is null without a calibration or for a non-finite cosine, and steps at tied knots without dividing by zero', () => {
    expect(displayScore(0.95, undefined)).toBeNull();
    expect(displayScore(Number.NaN, calibration)).toBeNull();
    const tied: SimilarityCalibration = { kind: 'percentile', cosines: [0.9, 0.95, 0.95, 1], scores: [0, 0.4, 0.6, 1] };
    expect(displayScore(0.95, tied)).toBeCloseTo(0.4, 10);
    expect(displayScore(0.96, tied)).toBeCloseTo(0.68, 10);
  });

  it('reads "Match score 0.70 (raw cosine 0.970)" with a calibration and the cosine alone without', () => {
    expect(similarityPhrase(0.97, calibration)).toBe('Match score 0.70 (raw cosine 0.970)');
    expect(similarityPhrase(0.9912, undefined)).toBe('Cosine similarity 0.991');
  });
});
