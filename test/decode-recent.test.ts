// rememberDecoded(): the analysis's decoded images kept for the same job's heatmap, within a budget.
import { describe, expect, it } from 'vitest';
import { rememberDecoded } from '../src/decode/index.js';
import type { DecodedImage, ImageDecoder } from '../src/shared/analysis.js';

/** A decoder of fake files whose name gives the pixel count ('a:100'); counts its calls. */
function fakeDecoder(): ImageDecoder & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    decodeFile(path: string): Promise<DecodedImage> {
      calls.push(path);
      const n = Number(path.split(':')[1]);
      if (!Number.isFinite(n)) return Promise.reject(new Error(`cannot decode ${path}`));
      return Promise.resolve({ width: n, height: 1, pixels: new Float32Array(n), notes: [] });
    },
  };
}

describe('recently decoded images', () => {
  it('hands each decoded image over once, then forgets it', async () => {
    const inner = fakeDecoder();
    const recent = rememberDecoded(inner, 1000);
    const image = await recent.decoder.decodeFile('a:10');
    expect(recent.bytes).toBe(40);
    expect(recent.take('a:10')).toBe(image);
    expect(recent.take('a:10')).toBeUndefined();
    expect(recent.bytes).toBe(0);
    expect(recent.take('never:1')).toBeUndefined();
  });

  it('drops the oldest beyond its byte budget and never keeps an image larger than it', async () => {
    const recent = rememberDecoded(fakeDecoder(), 100); // 25 floats
    await recent.decoder.decodeFile('a:10');
    await recent.decoder.decodeFile('b:10');
    await recent.decoder.decodeFile('c:10'); // 120 bytes: a goes
    expect(recent.bytes).toBe(80);
    expect(recent.take('a:10')).toBeUndefined();
    await recent.decoder.decodeFile('huge:30');
    expect(recent.take('huge:30')).toBeUndefined();
    expect(recent.take('b:10')?.width).toBe(10);
    expect(recent.take('c:10')?.width).toBe(10);
    expect(recent.bytes).toBe(0);
  });

  it('keeps the latest decode of a path once, and passes failures through', async () => {
    const inner = fakeDecoder();
    const recent = rememberDecoded(inner, 1000);
    await recent.decoder.decodeFile('a:10');
    const second = await recent.decoder.decodeFile('a:10');
    expect(recent.bytes).toBe(40);
    expect(recent.take('a:10')).toBe(second);
    await expect(recent.decoder.decodeFile('broken')).rejects.toThrow(/cannot decode broken/);
    expect(inner.calls).toEqual(['a:10', 'a:10', 'broken']);
  });
});
