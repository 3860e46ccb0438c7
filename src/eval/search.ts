// Which queries each subset can answer, and the exact search of every model on every subset.
import type { EvalItem } from './dataset.js';
import { cosineSimilarity, l2normalised, searchNeighbours, type QueryResult } from './retrieval.js';
import { defineSubsets, type Subset } from './subsets.js';
import type { ModelVectors } from './types.js';

function countBy(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

interface Answerable {
  /** Queries with a searchable image outside their own patient group. */
  queries: number[];
  /** Per answerable query: whether a searchable image has its class (R > 0). */
  hasRelevant: boolean[];
  galleryGroups: Map<string, number>;
}

export function answerable(subset: Subset, groups: readonly string[], labels: readonly string[]): Answerable {
  const galleryGroups = countBy(subset.gallery.map((g) => groups[g]!));
  const byLabel = countBy(subset.gallery.map((g) => labels[g]!));
  // Group and label joined by NUL, which no CSV field of ours contains.
  const byGroupLabel = countBy(subset.gallery.map((g) => `${groups[g]!}\u0000${labels[g]!}`));
  const queries = subset.queries.filter((q) => subset.gallery.length - (galleryGroups.get(groups[q]!) ?? 0) > 0);
  const hasRelevant = queries.map((q) => (byLabel.get(labels[q]!) ?? 0) - (byGroupLabel.get(`${groups[q]!}\u0000${labels[q]!}`) ?? 0) > 0);
  return { queries, hasRelevant, galleryGroups };
}

export interface SearchedModel {
  model: ModelVectors;
  /** Per subset id: the neighbours of its answerable queries. */
  results: Map<string, QueryResult[]>;
}

/** The subsets of the items, and each model's `depth` nearest neighbours for every answerable query. */
export function searchModels(items: readonly EvalItem[], models: readonly ModelVectors[], depth: number): { subsets: Subset[]; searched: SearchedModel[] } {
  for (const m of models) {
    if (m.vectors.length !== items.length) throw new Error(`${m.id}: ${m.vectors.length} vectors for ${items.length} images`);
  }
  const subsets = defineSubsets(items);
  const labels = items.map((it) => it.label);
  const groups = items.map((it) => it.patientGroup);
  // One model at a time: its similarity matrix is shared by all subsets, then dropped.
  const searched = models.map((model) => {
    const similarity = cosineSimilarity(model.vectors.map((v) => l2normalised(v)));
    const results = new Map(
      subsets.map((s) => [s.id, searchNeighbours({ similarity, groups, labels }, answerable(s, groups, labels).queries, s.gallery, depth)]),
    );
    return { model, results };
  });
  return { subsets, searched };
}
