// Synthetic DecodedImages and a log sink for the embed tests.
import { Writable } from 'node:stream';
import type { DecodedImage } from '../../src/shared/analysis.js';
import { createLogger, type Logger } from '../../src/shared/log.js';

/** A deterministic image with structure (gradient + blob + texture), different for each seed. */
export function syntheticImage(width: number, height: number, seed = 1): DecodedImage {
  const pixels = new Float32Array(width * height);
  const cx = ((seed * 37) % 100) / 100;
  const cy = ((seed * 61) % 100) / 100;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x / width;
      const v = y / height;
      const blob = Math.exp(-((u - cx) ** 2 + (v - cy) ** 2) * 20);
      const texture = 0.1 * Math.sin((x * (seed + 3)) / 7) * Math.cos((y * (seed + 5)) / 11);
      pixels[y * width + x] = Math.min(1, Math.max(0, 0.3 * u + 0.2 * v + 0.5 * blob + texture));
    }
  }
  return { width, height, pixels, notes: [] };
}

export function image(width: number, height: number, values: number[]): DecodedImage {
  return { width, height, pixels: Float32Array.from(values), notes: [] };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return max;
}

export function norm(v: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += (v[i] ?? 0) ** 2;
  return Math.sqrt(sum);
}

/** A pino logger whose JSON lines are collected in `lines`. */
export function capturingLogger(): { log: Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as { level: number; msg: string });
      done();
    },
  });
  return { log: createLogger('info', sink), lines };
}

/** Min and max without spreading (a spread of a large typed array overflows the stack). */
export function range(v: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < v.length; i++) {
    const x = v[i] ?? NaN;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return { min, max };
}
