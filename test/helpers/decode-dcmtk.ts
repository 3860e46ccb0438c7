// The reference renderer for decode tests: dcmtk's dcmj2pnm (dcml2pnm for JPEG-LS, which dcmj2pnm
// cannot decompress), written as an 8-bit binary PGM/PPM and parsed here.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { readFileMeta } from '../fixtures/build.js';
import { run } from './tools.js';

const JPEG_LS = new Set(['1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81']);

export interface Gray8 {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Parses a binary 8-bit PGM (P5), the format dcmj2pnm +op writes. */
export function parsePgm(bytes: Uint8Array): Gray8 {
  const text = Buffer.from(bytes.subarray(0, 64)).toString('latin1');
  const m = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(text);
  if (m === null) throw new Error(`not a binary PGM: ${JSON.stringify(text.slice(0, 16))}`);
  const [header, w, h, maxval] = [m[0], Number(m[1]), Number(m[2]), Number(m[3])];
  if (maxval !== 255) throw new Error(`PGM maxval ${maxval}, expected 255`);
  const data = bytes.subarray(header.length, header.length + w * h);
  if (data.length !== w * h) throw new Error(`PGM has ${data.length} samples, expected ${w * h}`);
  return { width: w, height: h, data };
}

/**
 * Renders frame 1 of `file` to 8-bit gray with dcmtk. `voi` selects the VOI (e.g. ['+Wi', '1'],
 * ['+Wl', '1'], ['+Wm']); `extra` adds options such as '+G' (colour to grayscale).
 */
export async function renderWithDcmtk(file: string, voi: string[], extra: string[] = []): Promise<Gray8> {
  const ts = (await readFileMeta(file))['00020010'] ?? '';
  const tool = JPEG_LS.has(ts) ? 'dcml2pnm' : 'dcmj2pnm';
  const out = path.join(path.dirname(file), `${path.basename(file, '.dcm')}-${voi.join('')}${extra.join('')}.pgm`);
  const r = await run(tool, [...voi, ...extra, '+op', file, out]);
  if (r.code !== 0) throw new Error(`${tool} failed (${r.code}): ${r.stderr.trim()}`);
  try {
    return parsePgm(new Uint8Array(await readFile(out)));
  } finally {
    await rm(out, { force: true });
  }
}

export interface Difference {
  /** Mean |ours * 255 - reference| over the compared pixels, in grey levels of 255. */
  mean: number;
  max: number;
  compared: number;
}

/** Compares [0, 1] intensities with an 8-bit rendering, optionally only where `include(i)`. */
export function compareWith(ours: Float32Array, ref: Uint8Array, include: (i: number) => boolean = () => true): Difference {
  if (ours.length !== ref.length) throw new Error(`size mismatch: ${ours.length} vs ${ref.length} pixels`);
  let sum = 0;
  let max = 0;
  let compared = 0;
  for (let i = 0; i < ours.length; i++) {
    if (!include(i)) continue;
    const d = Math.abs((ours[i] ?? 0) * 255 - (ref[i] ?? 0));
    sum += d;
    if (d > max) max = d;
    compared++;
  }
  return { mean: compared === 0 ? 0 : sum / compared, max, compared };
}
