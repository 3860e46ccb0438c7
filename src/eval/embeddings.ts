// --save-embeddings FILE: the model's vectors as a bare N x D float32 little-endian matrix in the row
// order of the labels CSV (numpy: np.fromfile(FILE, '<f4').reshape(N, D)), and FILE.json saying what
// the rows are. A row that was not embedded (left out by the label map, the split or --adults-only, or
// not decodable) is all NaN, so the file always lines up with the CSV; FILE.json lists the embedded
// rows and why each other row is missing.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface EmbeddingsMeta {
  labels: string;
  model: { name: string; dir: string | null };
  rows: number;
  dimension: number;
  embedded: number[];
  notEmbedded: Array<{ row: number; reason: string }>;
}

/** N x D float32, little-endian whatever the host; NaN rows where `byRow` has no vector. */
export function encodeEmbeddings(rows: number, dimension: number, byRow: ReadonlyMap<number, ArrayLike<number>>): Buffer {
  const out = Buffer.alloc(rows * dimension * 4);
  for (let r = 0; r < rows; r++) {
    const v = byRow.get(r);
    if (v !== undefined && v.length !== dimension) throw new Error(`row ${r}: ${v.length} dimensions, not ${dimension}`);
    for (let d = 0; d < dimension; d++) out.writeFloatLE(v === undefined ? NaN : (v[d] ?? NaN), (r * dimension + d) * 4);
  }
  return out;
}

export function embeddingsMeta(meta: EmbeddingsMeta, file: string): Record<string, unknown> {
  return {
    file,
    labels: meta.labels,
    model: meta.model,
    rows: meta.rows,
    dimension: meta.dimension,
    dtype: 'float32',
    byteOrder: 'little-endian',
    layout:
      'row-major N x D: row i is data row i of the labels CSV (0-based, header excluded); vectors are L2-normalised as the node stores them; ' +
      'a row that was not embedded is all NaN (see notEmbedded)',
    embeddedRows: meta.embedded,
    notEmbedded: meta.notEmbedded,
  };
}

/** Writes FILE and FILE.json; returns both paths. */
export async function writeEmbeddings(file: string, byRow: ReadonlyMap<number, ArrayLike<number>>, meta: EmbeddingsMeta): Promise<string[]> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, encodeEmbeddings(meta.rows, meta.dimension, byRow));
  // One key a line, arrays on their line: thousands of row numbers stay a few lines.
  const entries = Object.entries(embeddingsMeta(meta, file)).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  await writeFile(`${file}.json`, `{\n${entries.join(',\n')}\n}\n`);
  return [file, `${file}.json`];
}
