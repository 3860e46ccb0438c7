// Which queries and gallery images each reported subset uses: everything pooled, the adult pool (all
// collections but the pediatric Kermany set) and each collection on its own. A subset restricts the
// queries AND the searchable gallery to its collections, so a model cannot score by retrieving
// "the same collection" across collections.
import { isAdultCollection } from './age.js';
import type { EvalItem } from './dataset.js';

export { isAdultCollection, PEDIATRIC_PREFIX } from './age.js';

export interface Subset {
  id: string;
  kind: 'pooled' | 'adult' | 'collection';
  description: string;
  /** Item indices of the queries and of the searchable gallery. */
  queries: number[];
  gallery: number[];
}

function select(items: readonly EvalItem[], keep: (it: EvalItem) => boolean): Pick<Subset, 'queries' | 'gallery'> {
  const queries: number[] = [];
  const gallery: number[] = [];
  items.forEach((it, i) => {
    if (!keep(it)) return;
    if (it.query) queries.push(i);
    if (it.gallery) gallery.push(i);
  });
  return { queries, gallery };
}

/** Collection names, sorted (byte order, not locale) for stable output. */
export function collections(items: readonly EvalItem[]): string[] {
  return [...new Set(items.map((it) => it.dataset))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function defineSubsets(items: readonly EvalItem[]): Subset[] {
  const names = collections(items);
  const subsets: Subset[] = [{ id: 'pooled', kind: 'pooled', description: 'all queries, searching all gallery images', ...select(items, () => true) }];
  const adult = names.filter(isAdultCollection);
  if (adult.length > 0 && adult.length < names.length) {
    subsets.push({
      id: 'adult',
      kind: 'adult',
      description: `queries from the adult collections (${adult.join(', ')}), searching only their gallery images`,
      ...select(items, (it) => isAdultCollection(it.dataset)),
    });
  }
  if (names.length > 1) {
    for (const name of names) {
      subsets.push({
        id: name,
        kind: 'collection',
        description: `queries from ${name}, searching only its gallery images`,
        ...select(items, (it) => it.dataset === name),
      });
    }
  }
  return subsets;
}
