// The summary in short sentences, each its own TEXT item: most SR viewers render only text reliably,
// Orthanc Explorer hides any string over 256 characters, and a radiologist reads a sentence faster
// than a tree of measurement groups. The similar-cases page draws the same sentences.
import type { CaseRecord, RetrievalResult, SimilarCase } from '../shared/cases.js';
import { displayScore, formatCosine, formatScore, type SimilarityCalibration } from '../shared/similarity.js';
import { OUTCOME_NAMES, outcomeName } from './codes.js';

const percent = (p: number): string => `${Math.round(Math.max(0, Math.min(1, p)) * 100)}%`;

/** What the SR and the page say when there is nothing to compare with (fresh install, empty archive). */
export const NO_REFERENCE_CASES = 'No reference cases in the archive from other patients: nothing to compare this image with';
export const NO_REFERENCE_HINT = 'Import reference cases (precedent import) to get similar-case results';

function labelCounts(cases: readonly SimilarCase[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const c of cases) {
    const labels = c.case.labels.length > 0 ? c.case.labels : ['unlabelled'];
    for (const label of new Set(labels)) counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** Known outcome columns first (in their usual reading order), then any others alphabetically. */
export function outcomeKeys(records: readonly CaseRecord[]): string[] {
  const keys = new Set(records.flatMap((r) => Object.keys(r.outcomes)));
  const order = Object.keys(OUTCOME_NAMES);
  const rank = (k: string): number => {
    const i = order.indexOf(k.toLowerCase());
    return i < 0 ? order.length : i;
  };
  return [...keys].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function outcomePhrases(cases: readonly SimilarCase[]): string[] {
  const phrases: string[] = [];
  for (const key of outcomeKeys(cases.map((c) => c.case))) {
    const values = cases.map((c) => (c.case.outcomes[key] ?? '').trim().toUpperCase());
    const yes = values.filter((v) => v === 'Y').length;
    const known = values.filter((v) => v === 'Y' || v === 'N').length;
    if (known === 0) continue;
    const unknown = cases.length - known;
    phrases.push(`${yes} of ${known} ${outcomeName(key).summary}${unknown > 0 ? ` (${unknown} unknown)` : ''}`);
  }
  return phrases;
}

export interface SummarySentences {
  /** "5 most similar prior cases: 4 COVID-19, 1 normal", or NO_REFERENCE_CASES. */
  cases: string;
  /** "3 of 5 intubated; 1 of 3 went to ICU (2 unknown)"; '' when no case has a known outcome. */
  outcomes: string;
  /** "COVID-19 80%, normal 20% (similarity-weighted vote of 5 cases)"; '' without cases. */
  vote: string;
  /** "Match score 0.83 to 0.41 (raw cosine 0.934 to 0.842)"; '' without cases. */
  similarity: string;
}

export function summarySentences(retrieval: RetrievalResult, calibration?: SimilarityCalibration): SummarySentences {
  const cases = [...retrieval.cases].sort((a, b) => a.rank - b.rank);
  if (cases.length === 0) return { cases: NO_REFERENCE_CASES, outcomes: '', vote: '', similarity: '' };
  const n = cases.length;
  const vote =
    retrieval.vote.length === 0
      ? ''
      : `${retrieval.vote.map((v) => `${v.label} ${percent(v.probability)}`).join(', ')} (similarity-weighted vote of ${n} ${n === 1 ? 'case' : 'cases'})`;
  return {
    cases: `${n} most similar prior ${n === 1 ? 'case' : 'cases'}: ${labelCounts(cases)
      .map(([label, count]) => `${count} ${label}`)
      .join(', ')}`,
    outcomes: outcomePhrases(cases).join('; '),
    vote,
    similarity: similarityRange(cases, calibration),
  };
}

function similarityRange(cases: readonly SimilarCase[], calibration: SimilarityCalibration | undefined): string {
  const sims = cases.map((c) => c.similarity);
  const hi = Math.max(...sims);
  const lo = Math.min(...sims);
  const cosines = `${formatCosine(hi)} to ${formatCosine(lo)}`;
  const top = displayScore(hi, calibration);
  const bottom = displayScore(lo, calibration);
  return top === null || bottom === null ? `Cosine similarity ${cosines}` : `Match score ${formatScore(top)} to ${formatScore(bottom)} (raw cosine ${cosines})`;
}

/** All sentences as one paragraph (logs, previews). */
export function similarCasesSummary(retrieval: RetrievalResult, calibration?: SimilarityCalibration): string {
  const s = summarySentences(retrieval, calibration);
  const parts = [s.cases, s.outcomes, s.vote === '' ? '' : `Neighbour vote: ${s.vote}`, s.similarity].filter((p) => p !== '');
  return `${parts.join('. ')}.`;
}

/** "52 years"; null when unknown. */
export function ageText(record: CaseRecord): string | null {
  if (record.age === null || !Number.isFinite(record.age)) return null;
  const years = Math.round(record.age);
  return `${years} ${years === 1 ? 'year' : 'years'}`;
}

/** "52 years, female" / "age unknown, sex unknown". */
export function ageSex(record: CaseRecord): string {
  const age = ageText(record) ?? 'age unknown';
  const sex = record.sex === 'F' ? 'female' : record.sex === 'M' ? 'male' : record.sex === 'O' ? 'other sex' : 'sex unknown';
  return `${age}, ${sex}`;
}

/** "intubated yes, went to ICU no, survived yes"; '' when the case has no outcome. */
export function caseOutcomes(record: CaseRecord): string {
  return outcomeKeys([record])
    .map((key) => {
      const raw = (record.outcomes[key] ?? '').trim();
      const v = raw.toUpperCase();
      return raw === '' ? '' : `${outcomeName(key).summary} ${v === 'Y' ? 'yes' : v === 'N' ? 'no' : raw}`;
    })
    .filter((p) => p !== '')
    .join(', ');
}
