// neighbours.json: every query's nearest searchable images, per model and subset, with the paths,
// labels and cosines that the metrics were computed from, so that anyone can re-score the run (P@k,
// AP@10 with `relevant`, the vote with k) without this code.
import type { EvalItem } from './dataset.js';
import type { SearchedModel } from './search.js';
import type { Subset } from './subsets.js';

/** Cosines keep 6 decimals: enough to re-rank and re-vote, and the file stays readable. */
const cosine = (v: number): number => Math.round(v * 1e6) / 1e6;

/** The file as text: a JSON object with one line per query, so that it can be read (and diffed) by eye. */
export function neighboursJson(
  items: readonly EvalItem[],
  subsets: readonly Subset[],
  searched: readonly SearchedModel[],
  search: { k: number; depth: number },
): string {
  const head = {
    tool: 'precedent eval',
    about:
      'Per model and subset, each evaluated query and its nearest searchable images (other patient groups only, within the subset), best first. ' +
      'row: data row of the labels CSV (0-based, header excluded; the row of --save-embeddings). searchable: images the query could retrieve; ' +
      'relevant: those of its label (R in AP@10; queries with relevant 0 are left out of P@k and mAP@10). ' +
      'Up to depth neighbours (fewer when fewer are searchable); the vote uses the first k.',
    k: search.k,
    depth: search.depth,
  };
  const lines: string[] = [`${JSON.stringify(head).slice(0, -1)},`, '"models": ['];
  searched.forEach((s, m) => {
    lines.push(`{"id": ${JSON.stringify(s.model.id)}, "name": ${JSON.stringify(s.model.name)}, "subsets": {`);
    subsets.forEach((subset, j) => {
      const results = s.results.get(subset.id) ?? [];
      lines.push(`${JSON.stringify(subset.id)}: [`);
      results.forEach((r, i) => {
        const q = items[r.index]!;
        const entry = {
          row: q.row,
          image_path: q.imagePath,
          label: q.label,
          dataset: q.dataset,
          searchable: r.searchable,
          relevant: r.relevant,
          neighbours: r.neighbours.map((n) => ({
            row: items[n.index]!.row,
            image_path: items[n.index]!.imagePath,
            label: items[n.index]!.label,
            cosine: cosine(n.similarity),
          })),
        };
        lines.push(`${JSON.stringify(entry)}${i < results.length - 1 ? ',' : ''}`);
      });
      lines.push(`]${j < subsets.length - 1 ? ',' : ''}`);
    });
    lines.push(`}}${m < searched.length - 1 ? ',' : ''}`);
  });
  lines.push(']}');
  return `${lines.join('\n')}\n`;
}
