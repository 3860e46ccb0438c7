// The labeller's rules: which report sections are read, the finding vocabulary, and the NegEx-style
// triggers. Defaults ship in default-rules.ts (and, the same, config/report-rules.yaml); a site points
// reports.rulesFile at its own YAML or JSON file to replace them (docs/reports.md).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PrecedentError } from '../shared/errors.js';

const phrases = z.array(z.string().min(1));

export const findingRuleSchema = z
  .object({
    /** The label a positive mention gives (e.g. `effusion`). */
    label: z.string().min(1),
    /**
     * `finding`: reported as a finding label and makes the report abnormal; `other`: makes the report
     * abnormal but is not a finding label of its own (granulomas, devices, degenerative spine, ...).
     */
    kind: z.enum(['finding', 'other']).default('finding'),
    /** Regular-expression fragments, matched case-insensitively at word boundaries. */
    terms: phrases.min(1),
  })
  .strict();

export const rulesSchema = z
  .object({
    /** Report sections read (by their heading); a report without any of them is read whole. */
    sections: z.array(z.string().min(1)).default(['FINDINGS', 'IMPRESSION']),
    /** A trigger reaches at most this many words to its finding (within the same clause). */
    window: z.number().int().min(1).max(50).default(8),
    negation: z.object({ pre: phrases, post: phrases, pseudo: phrases.default([]) }).strict(),
    uncertainty: z.object({ pre: phrases, post: phrases }).strict(),
    /** Words that end a trigger's scope inside a sentence ("no effusion, but a small pneumothorax"). */
    terminators: phrases,
    /** How an uncertain mention ("possible effusion") counts: as the finding, or not at all. */
    uncertainAs: z.enum(['positive', 'ignore']).default('positive'),
    findings: z.array(findingRuleSchema).min(1),
  })
  .strict();

export type ReportRules = z.infer<typeof rulesSchema>;
export type FindingRule = z.infer<typeof findingRuleSchema>;

/** Parses rules (YAML or JSON text); every regular expression is compiled here so a bad one fails at start. */
export function parseRules(text: string, source: string): ReportRules {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new PrecedentError('CONFIG_INVALID', `${source}: not YAML or JSON`, { cause: err });
  }
  const parsed = rulesSchema.safeParse(raw);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new PrecedentError('CONFIG_INVALID', `${source}: invalid report rules (${details.join('; ')})`, { details });
  }
  for (const f of parsed.data.findings) {
    for (const t of f.terms) {
      try {
        new RegExp(t, 'i');
      } catch (err) {
        throw new PrecedentError('CONFIG_INVALID', `${source}: finding ${f.label}: bad pattern ${JSON.stringify(t)}`, { cause: err });
      }
    }
  }
  return parsed.data;
}

export function loadRules(file: string): ReportRules {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PrecedentError('CONFIG_INVALID', `${file}: cannot read the report rules file`, { cause: err });
  }
  return parseRules(text, file);
}

/** The shipped defaults (config/report-rules.yaml): two folders up from src/reports/ and dist/reports/ alike. */
export const DEFAULT_RULES_FILE = fileURLToPath(new URL('../../config/report-rules.yaml', import.meta.url));

/** The rules in `file`, or the shipped defaults. */
export function reportRules(file?: string): ReportRules {
  return loadRules(file ?? DEFAULT_RULES_FILE);
}
