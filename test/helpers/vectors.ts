// Seeded random unit vectors and a brute-force cosine search to check the index against.
import { seededRandom } from '../../src/eval/bootstrap.js';
// The product's seeded PRNG (mulberry32), so test vectors are the same on every platform.
export const seeded = seededRandom;

/** n unit vectors of dimension d, row-major (Gaussian directions, so uniform on the sphere). */
export function randomUnitVectors(n: number, d: number, seed = 1): Float32Array {
  const rand = seeded(seed);
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let j = 0; j < d; j++) {
      const g = Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
      out[i * d + j] = g;
      norm += g * g;
    }
    norm = Math.sqrt(norm);
    for (let j = 0; j < d; j++) out[i * d + j] = (out[i * d + j] ?? 0) / norm;
  }
  return out;
}

export function row(m: Float32Array, i: number, d: number): Float32Array {
  return m.subarray(i * d, (i + 1) * d);
}

/** Exact cosine top-k in plain JS (float64), ties by smaller key. */
export function bruteForce(
  data: Float32Array,
  keys: bigint[],
  query: Float32Array,
  k: number,
  exclude = new Set<bigint>(),
): { key: bigint; similarity: number }[] {
  const d = query.length;
  let qn = 0;
  for (let j = 0; j < d; j++) qn += (query[j] ?? 0) ** 2;
  const scored: { key: bigint; similarity: number }[] = [];
  keys.forEach((key, i) => {
    if (exclude.has(key)) return;
    let dot = 0;
    let n = 0;
    for (let j = 0; j < d; j++) {
      const x = data[i * d + j] ?? 0;
      dot += x * (query[j] ?? 0);
      n += x * x;
    }
    scored.push({ key, similarity: dot / Math.sqrt(n * qn) });
  });
  scored.sort((a, b) => b.similarity - a.similarity || (a.key < b.key ? -1 : 1));
  return scored.slice(0, k);
}

/**
 * n unit vectors that look like learned embeddings rather than isotropic noise: a mixture of 50
 * clusters in a 16-dimensional latent space, mapped into d dimensions by a fixed random linear map,
 * plus isotropic noise, normalised. (Isotropic Gaussian vectors in 128-d are the worst case for any
 * graph index: every point is almost equally far from every other.) `seed` varies the samples; the
 * map and the cluster centres are fixed, so data and queries come from the same distribution.
 */
export function embeddingLikeVectors(n: number, d: number, seed = 1, latent = 16, noise = 0.3): Float32Array {
  const gaussian = (rand: () => number) => () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const gA = gaussian(seeded(999));
  const map = Float64Array.from({ length: d * latent }, gA);
  const gC = gaussian(seeded(777));
  const clusters = 50;
  const centres = Float64Array.from({ length: clusters * latent }, gC);
  const rand = seeded(seed);
  const g = gaussian(rand);
  const out = new Float32Array(n * d);
  const z = new Float64Array(latent);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(rand() * clusters);
    for (let l = 0; l < latent; l++) z[l] = (centres[c * latent + l] ?? 0) + 0.7 * g();
    let norm = 0;
    for (let j = 0; j < d; j++) {
      let x = noise * g();
      for (let l = 0; l < latent; l++) x += (map[j * latent + l] ?? 0) * (z[l] ?? 0);
      out[i * d + j] = x;
      norm += x * x;
    }
    norm = Math.sqrt(norm);
    for (let j = 0; j < d; j++) out[i * d + j] = (out[i * d + j] ?? 0) / norm;
  }
  return out;
}
