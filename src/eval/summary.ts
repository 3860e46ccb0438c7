// The few sentences that keep the headline numbers honest, shared by the console summary and eval.md:
// the chance level beside the vote, which classes macro AUC averages, and the queries that P@k leaves
// out. The console summary lists every subset (pooled, adult and each collection), never only pooled.
import type { Estimate, EvalReport, SubsetReport } from './types.js';

/** "0.612 [0.540, 0.690]"; "n/a" where not defined. */
export function formatEstimate(e: Estimate | undefined, digits = 3): string {
  if (e === undefined || e.value === null) return 'n/a';
  const v = e.value.toFixed(digits);
  return e.ci95 ? `${v} [${e.ci95[0].toFixed(digits)}, ${e.ci95[1].toFixed(digits)}]` : v;
}

const fixed = (v: number | null): string => (v === null ? 'n/a' : v.toFixed(3));

/** "chance: balanced accuracy 0.333 (1/3 classes), accuracy 0.759 (always COVID-19)". */
export function chanceText(s: SubsetReport): string {
  const c = s.chance;
  if (c.classes === 0) return 'chance: n/a (no query)';
  return `chance: balanced accuracy ${fixed(c.uniform)} (1/${c.classes} classes), accuracy ${fixed(c.majorityRate)} (always ${c.majorityClass ?? '?'})`;
}

/** "macro AUC over a, b (classes with >= 5 queries ...); left out: c (3 queries)". */
export function macroAucText(s: SubsetReport): string {
  const m = s.macroAUCClasses;
  const rule = `classes with >= ${m.minQueries} queries and queries of another class`;
  const over = m.included.length > 0 ? `macro AUC over ${m.included.join(', ')} (${rule})` : `macro AUC: n/a (no ${rule.replace('classes', 'class')})`;
  const out = Object.entries(m.excluded).map(([cls, n]) => `${cls} (${n} ${n === 1 ? 'query' : 'queries'})`);
  return `${over}${out.length > 0 ? `; left out: ${out.join(', ')}` : ''}`;
}

/** "2 queries left out of P@k/mAP: no relevant image (viral 2)", or '' when there are none. */
export function withoutRelevantText(s: SubsetReport): string {
  if (s.queriesWithoutRelevant === 0) return '';
  const perClass = Object.entries(s.queriesWithoutRelevantPerClass).map(([cls, n]) => `${cls} ${n}`);
  return `${s.queriesWithoutRelevant} ${s.queriesWithoutRelevant === 1 ? 'query' : 'queries'} left out of P@k/mAP: no relevant image (${perClass.join(', ')})`;
}

/** Said of a subset where no query could search an image of another patient group. */
export const NO_QUERY = 'no query has an image of another patient group to search';

/** What `precedent eval` prints: per subset, its caveats, then one line per model. */
export function consoleSummary(report: EvalReport): string {
  const lines: string[] = [];
  const width = Math.max(...report.models.map((m) => m.name.length), 8);
  for (const s of report.subsets) {
    if (s.queries === 0) {
      lines.push(`${s.id}: 0 queries (${NO_QUERY})`);
      continue;
    }
    lines.push(`${s.id}: ${s.queries} queries, ${s.queryPatientGroups} patient groups; ${chanceText(s)}`);
    lines.push(`  ${macroAucText(s)}`);
    const left = withoutRelevantText(s);
    if (left !== '') lines.push(`  ${left}`);
    for (const m of report.models) {
      const r = s.results[m.id];
      if (!r) continue;
      const d = r.diagnosis;
      lines.push(
        `  ${m.name.padEnd(width)}  P@5 ${formatEstimate(r.retrieval['P@5'])}  mAP@10 ${formatEstimate(r.retrieval['mAP@10'])}  ` +
          `vote accuracy ${formatEstimate(d.accuracy)}  balanced accuracy ${formatEstimate(d.balancedAccuracy)}  macro AUC ${formatEstimate(d.macroAUC)}`,
      );
    }
  }
  return lines.join('\n');
}
