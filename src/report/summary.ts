// The one-paragraph summary: most SR viewers render only text reliably, and a radiologist reads a
// sentence faster than a tree of measurement groups.
import type { RetrievalResult, SimilarCase } from '../shared/cases.js';
import { DISCLAIMER } from './common.js';
import { OUTCOME_NAMES, outcomeName } from './codes.js';

const percent = (p: number): string => `${Math.round(Math.max(0, Math.min(1, p)) * 100)}%`;

function labelCounts(cases: readonly SimilarCase[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const c of cases) {
    const labels = c.case.labels.length > 0 ? c.case.labels : ['unlabelled'];
    for (const label of new Set(labels)) counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** Known outcome columns first (in their usual reading order), then any others alphabetically. */
function outcomeKeys(cases: readonly SimilarCase[]): string[] {
  const keys = new Set(cases.flatMap((c) => Object.keys(c.case.outcomes)));
  const order = Object.keys(OUTCOME_NAMES);
  const rank = (k: string): number => {
    const i = order.indexOf(k.toLowerCase());
    return i < 0 ? order.length : i;
  };
  return [...keys].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function outcomePhrases(cases: readonly SimilarCase[]): string[] {
  const phrases: string[] = [];
  for (const key of outcomeKeys(cases)) {
    const values = cases.map((c) => (c.case.outcomes[key] ?? '').trim().toUpperCase());
    const yes = values.filter((v) => v === 'Y').length;
    const known = values.filter((v) => v === 'Y' || v === 'N').length;
    if (known === 0) continue;
    const unknown = cases.length - known;
    phrases.push(`${yes} of ${known} ${outcomeName(key).summary}${unknown > 0 ? ` (${unknown} unknown)` : ''}`);
  }
  return phrases;
}

/** E.g. "5 most similar prior cases: 4 COVID-19, 1 normal; 3 of 5 intubated; ...". */
export function similarCasesSummary(retrieval: RetrievalResult): string {
  const cases = [...retrieval.cases].sort((a, b) => a.rank - b.rank);
  const model = `Model ${retrieval.modelName} ${retrieval.modelVersion}`;
  if (cases.length === 0) return `No similar prior cases found in the archive. ${model}. ${DISCLAIMER}.`;
  const parts: string[] = [];
  const n = cases.length;
  parts.push(`${n} most similar prior ${n === 1 ? 'case' : 'cases'}: ${labelCounts(cases).map(([label, count]) => `${count} ${label}`).join(', ')}`);
  parts.push(...outcomePhrases(cases));
  const sentences = [parts.join('; ')];
  if (retrieval.vote.length > 0) {
    sentences.push(`Neighbour vote: ${retrieval.vote.map((v) => `${v.label} ${percent(v.probability)}`).join(', ')}`);
  }
  const sims = cases.map((c) => c.similarity);
  sentences.push(`Similarity ${Math.max(...sims).toFixed(2)} to ${Math.min(...sims).toFixed(2)}`);
  sentences.push(model);
  return `${sentences.join('. ')}. ${DISCLAIMER}.`;
}
