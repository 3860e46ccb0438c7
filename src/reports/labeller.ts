// Report text -> normal / abnormal and finding labels, by rules (rules.ts) with NegEx-style scopes
// (Chapman et al. 2001): a negation or uncertainty trigger reaches a finding term in the same sentence
// clause within `window` words, before it ("no effusion") or after it ("effusion has resolved").
// Pseudo-triggers ("no change in") are masked first so they negate nothing.
import type { FindingRule, ReportRules } from './rules.js';

export type Certainty = 'positive' | 'uncertain' | 'negated';

export interface Mention {
  label: string;
  kind: FindingRule['kind'];
  certainty: Certainty;
  /** Sentence number in the text read (0-based) and the matched words: for explaining, never for logs. */
  sentence: number;
  term: string;
}

export interface ReportLabels {
  status: 'normal' | 'abnormal';
  /** Finding labels (kind `finding`) mentioned as present, or uncertain when rules.uncertainAs is positive. */
  findings: string[];
  /** Finding labels mentioned only uncertainly ("possible effusion"). */
  uncertain: string[];
  mentions: Mention[];
}

export interface Labeller {
  readonly rules: ReportRules;
  /** Labels a report given as free text (headings such as `IMPRESSION:` select the sections read) or as sections. */
  label(report: string | Record<string, string>): ReportLabels;
}

interface Span {
  start: number;
  end: number;
}

const escapeList = (list: readonly string[]): RegExp =>
  new RegExp(
    `\\b(?:${[...list]
      .sort((a, b) => b.length - a.length)
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+'))
      .join('|')})\\b`,
    'gi',
  );

function spans(re: RegExp | undefined, text: string): Span[] {
  if (!re) return [];
  return [...text.matchAll(re)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
}

const wordsBetween = (text: string, from: number, to: number): number => (text.slice(from, to).match(/[a-z0-9]+/gi) ?? []).length;

/** Sections of a free-text report by its headings (`FINDINGS:` at a line start); none: the whole text. */
export function splitSections(text: string): Record<string, string> {
  const heading = /(?:^|\n)\s*([A-Z][A-Z /]{2,40}):/g;
  const found = [...text.matchAll(heading)];
  if (found.length === 0) return { TEXT: text };
  const out: Record<string, string> = {};
  const head = text.slice(0, found[0]!.index).trim();
  if (head) out['TEXT'] = head;
  found.forEach((m, i) => {
    const end = i + 1 < found.length ? found[i + 1]!.index : text.length;
    const name = m[1]!.trim().toUpperCase();
    out[name] = [out[name], text.slice(m.index + m[0].length, end).trim()].filter(Boolean).join('\n');
  });
  return out;
}

/** Sentences: split at . ! ? ; followed by space or end (not inside "1.5 cm"), and at line breaks. */
export function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?;])\s+|[.!?;]+$|\n+/)
    .map((s) => s.trim())
    .filter((s) => /[a-z]/i.test(s));
}

export function createLabeller(rules: ReportRules): Labeller {
  const optional = (list: readonly string[]): RegExp | undefined => (list.length > 0 ? escapeList(list) : undefined);
  const negPre = optional(rules.negation.pre);
  const negPost = optional(rules.negation.post);
  const pseudo = optional(rules.negation.pseudo);
  const uncPre = optional(rules.uncertainty.pre);
  const uncPost = optional(rules.uncertainty.post);
  const terminators = optional(rules.terminators);
  const findings = rules.findings.map((f) => ({ rule: f, re: new RegExp(`\\b(?:${f.terms.join('|')})\\b`, 'gi') }));
  const wanted = rules.sections.map((s) => s.toUpperCase());

  const reaches = (sentence: string, term: Span, pre: Span[], post: Span[], clause: Span): boolean =>
    // A trigger inside a long term ("heart is not enlarged") reaches it as well.
    pre.some((t) => t.start >= clause.start && (t.end <= term.start ? wordsBetween(sentence, t.end, term.start) <= rules.window : t.end <= term.end)) ||
    post.some((t) => t.start >= term.end && t.end <= clause.end && wordsBetween(sentence, term.end, t.start) <= rules.window);

  function mentionsOf(sentence: string, index: number): Mention[] {
    // Pseudo-triggers become blanks of the same length, so every offset stays valid.
    const text = pseudo ? sentence.replace(pseudo, (m) => ' '.repeat(m.length)) : sentence;
    const cuts = spans(terminators, text);
    const clauseOf = (at: number): Span => ({
      start: Math.max(0, ...cuts.filter((c) => c.end <= at).map((c) => c.end)),
      end: Math.min(text.length, ...cuts.filter((c) => c.start >= at).map((c) => c.start)),
    });
    const [np, nq, up, uq] = [spans(negPre, text), spans(negPost, text), spans(uncPre, text), spans(uncPost, text)];
    const out: Mention[] = [];
    for (const { rule, re } of findings) {
      for (const m of text.matchAll(re)) {
        const term = { start: m.index, end: m.index + m[0].length };
        const clause = clauseOf(term.start);
        const certainty: Certainty = reaches(text, term, np, nq, clause) ? 'negated' : reaches(text, term, up, uq, clause) ? 'uncertain' : 'positive';
        out.push({ label: rule.label, kind: rule.kind, certainty, sentence: index, term: m[0] });
      }
    }
    return out;
  }

  return {
    rules,
    label(report) {
      const sections = typeof report === 'string' ? splitSections(report) : report;
      const upper = Object.fromEntries(Object.entries(sections).map(([k, v]) => [k.toUpperCase(), v]));
      const chosen = wanted.map((s) => upper[s]).filter((t): t is string => typeof t === 'string' && t.trim() !== '');
      const text = chosen.length > 0 ? chosen.join('\n') : Object.values(sections).join('\n');
      const mentions = splitSentences(text).flatMap((s, i) => mentionsOf(s, i));
      const counts = (c: Certainty): boolean => c === 'positive' || (c === 'uncertain' && rules.uncertainAs === 'positive');
      const present = new Set(mentions.filter((m) => m.kind === 'finding' && counts(m.certainty)).map((m) => m.label));
      const definite = new Set(mentions.filter((m) => m.certainty === 'positive').map((m) => m.label));
      const uncertain = new Set(mentions.filter((m) => m.kind === 'finding' && m.certainty === 'uncertain' && !definite.has(m.label)).map((m) => m.label));
      return {
        status: mentions.some((m) => counts(m.certainty)) ? 'abnormal' : 'normal',
        findings: rules.findings.filter((f) => f.kind === 'finding' && present.has(f.label)).map((f) => f.label),
        uncertain: [...uncertain],
        mentions,
      };
    },
  };
}
