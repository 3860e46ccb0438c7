// Independent readers of what report/ writes: dciodvfy and dcmj2pnm (via run), a PPM parser, a
// flattening of SR content for item-by-item comparison, and a search for burned-in text.
import { readFile } from 'node:fs/promises';
import { forEachTextPixel } from '../../src/report/font.js';
import type { RgbImage } from '../../src/report/index.js';
import { run } from './tools.js';

export interface Validation {
  errors: string[];
  warnings: string[];
  output: string;
}

/** dciodvfy's verdict; the bar is zero lines starting with "Error". */
export async function dciodvfy(file: string): Promise<Validation> {
  const r = await run('dciodvfy', [file]);
  const output = `${r.stdout}${r.stderr}`;
  const lines = output.split('\n');
  return { errors: lines.filter((l) => l.startsWith('Error')), warnings: lines.filter((l) => l.startsWith('Warning')), output };
}

/** dcmj2pnm's rendering of an RGB image (binary PPM). */
export async function renderWithDcmj2pnm(file: string, out: string): Promise<RgbImage> {
  const r = await run('dcmj2pnm', ['+op', file, out]);
  if (r.code !== 0) throw new Error(`dcmj2pnm failed (${r.code}): ${r.stderr}`);
  const bytes = await readFile(out);
  const header = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(bytes.subarray(0, 64).toString('latin1'));
  if (!header) throw new Error('dcmj2pnm did not write a binary 8-bit PPM');
  const width = Number(header[1]);
  const height = Number(header[2]);
  return { width, height, data: new Uint8Array(bytes.subarray(header[0].length, header[0].length + width * height * 3)) };
}

/** One SR content item reduced to what a reader sees: relationship, type, concept, value. */
export interface Item {
  rel: string;
  type: string;
  concept: string;
  value: string;
  children: Item[];
}

const first = (v: unknown): Record<string, unknown> => ((Array.isArray(v) ? v[0] : v) ?? {}) as Record<string, unknown>;
const codeText = (v: unknown): string => {
  const c = first(v);
  return c['CodeValue'] === undefined ? '' : `${String(c['CodeValue'])}^${String(c['CodingSchemeDesignator'])}^${String(c['CodeMeaning'])}`;
};
const asArray = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function valueOf(item: Record<string, unknown>): string {
  switch (item['ValueType']) {
    case 'TEXT':
      return String(item['TextValue']);
    case 'CODE':
      return codeText(item['ConceptCodeSequence']);
    case 'NUM': {
      const mv = first(item['MeasuredValueSequence']);
      return `${String(mv['NumericValue'])} ${codeText(mv['MeasurementUnitsCodeSequence'])}`;
    }
    case 'UIDREF':
      return String(item['UID']);
    case 'DATE':
      return String(item['Date']);
    case 'IMAGE': {
      const ref = first(item['ReferencedSOPSequence']);
      return `${String(ref['ReferencedSOPClassUID'])}/${String(ref['ReferencedSOPInstanceUID'])}`;
    }
    case 'CONTAINER':
      return String(item['ContinuityOfContent']);
    case 'SCOORD':
      return `${String(item['GraphicType'])} ${asArray(item['GraphicData']).map(String).join(',')}`;
    default:
      return '';
  }
}

/** Flattens a naturalized (dcmjs) content item and its descendants. */
export function simplify(item: Record<string, unknown>): Item {
  return {
    rel: String(item['RelationshipType'] ?? ''),
    type: String(item['ValueType']),
    concept: codeText(item['ConceptNameCodeSequence']),
    value: valueOf(item),
    children: asArray(item['ContentSequence']).map((c) => simplify(c as Record<string, unknown>)),
  };
}

/**
 * Where a text is burned into an image in one colour at one scale, or null. Lit pixels must have the
 * colour and the unlit pixels of its box must not (a saturated white lung is not "text").
 */
export function findText(
  img: RgbImage,
  text: string,
  colour: readonly number[],
  scales = [1, 2, 3, 4],
  tolerance = 0,
): { x: number; y: number; scale: number } | null {
  // tolerance > 0: a lossy (JPEG) copy of the page, whose text pixels are near the colour, not on it.
  const near = (a: number | undefined, b: number | undefined): boolean => Math.abs((a ?? -1000) - (b ?? 1000)) <= tolerance;
  const isColour = (x: number, y: number): boolean => {
    if (x < 0 || y < 0 || x >= img.width || y >= img.height) return false;
    const i = (y * img.width + x) * 3;
    return near(img.data[i], colour[0]) && near(img.data[i + 1], colour[1]) && near(img.data[i + 2], colour[2]);
  };
  for (const scale of scales) {
    const lit = new Set<number>();
    let w = 0;
    let h = 0;
    forEachTextPixel(text, 0, 0, scale, (x, y) => {
      lit.add(y * 100_000 + x);
      w = Math.max(w, x + 1);
      h = Math.max(h, y + 1);
    });
    const litList = [...lit].map((k) => [k % 100_000, Math.floor(k / 100_000)] as const);
    const [fx, fy] = litList[0] ?? [0, 0];
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < img.width; x++) {
        if (!isColour(x, y)) continue;
        const ox = x - fx;
        const oy = y - fy;
        if (!litList.every(([px, py]) => isColour(ox + px, oy + py))) continue;
        let clean = true;
        for (let py = 0; py < h && clean; py++)
          for (let px = 0; px < w && clean; px++) if (!lit.has(py * 100_000 + px) && isColour(ox + px, oy + py)) clean = false;
        if (clean) return { x: ox, y: oy, scale };
      }
    }
  }
  return null;
}
