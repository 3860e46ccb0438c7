// The report labeller: NegEx-style negation and uncertainty on constructed sentences, configurable
// rules, and its agreement with the human MeSH indexing of the Open-i reports (read from ../shared,
// never copied into the repository).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { confusion, createLabeller, METRICS, parseRules, readOpenIReports, reportRules, scoreReports, splitSections } from '../src/reports/index.js';
import { scoreOpenI, scoreTable } from '../src/commands/labels-openi.js';
import { sharedDir } from './fixtures/shared.js';

const OPENI = path.join(sharedDir(), 'data', 'reports-openi', 'NLMCXR_reports.tgz');
const labeller = createLabeller(reportRules());
const label = (text: string) => labeller.label({ FINDINGS: text });

describe('negation and uncertainty', () => {
  it.each([
    'No pleural effusion or pneumothorax.',
    'There is no focal consolidation, pleural effusion, or pneumothorax.',
    'Lungs are clear without effusion, edema or pneumothorax.',
    'Negative for pneumothorax, pleural effusion or focal airspace consolidation.',
    'The lungs are free of focal airspace opacity and nodules.',
    'The previously seen right pleural effusion has resolved.',
    'Resolved left lower lobe atelectasis.',
    'The heart is not enlarged.',
    'No evidence of pneumonia, nodules, or masses.',
    'No acute cardiopulmonary abnormality.',
  ])('labels nothing in %j', (sentence) => {
    const result = label(sentence);
    expect(result.findings).toEqual([]);
    expect(result.status).toBe('normal');
    expect(result.mentions.length).toBeGreaterThan(0);
    expect(result.mentions.every((m) => m.certainty === 'negated')).toBe(true);
  });

  it('ends a negation at the sentence and at "but"', () => {
    expect(label('No pneumothorax. Small right pleural effusion.').findings).toEqual(['effusion']);
    expect(label('No pneumothorax, but there is a small left effusion.').findings).toEqual(['effusion']);
    expect(label('Right pleural effusion without pneumothorax.').findings).toEqual(['effusion']);
  });

  it('does not let a negation reach past its window', () => {
    const far = 'No acute findings are present on this study of the chest performed today in the emergency department, cardiomegaly.';
    expect(label('No acute findings, cardiomegaly.').findings).toEqual([]);
    expect(label(far).findings).toEqual(['cardiomegaly']);
  });

  it('masks pseudo-negations ("no change in")', () => {
    expect(label('No interval change in the left basilar atelectasis.').findings).toEqual(['atelectasis']);
  });

  it('marks uncertain mentions and counts them as the rules say', () => {
    const r = label('Right basilar opacity may represent pneumonia; cannot exclude small effusion.');
    expect(r.uncertain.sort()).toEqual(['effusion', 'pneumonia']);
    expect(r.findings).toEqual(['effusion', 'opacity', 'pneumonia']);
    const strict = createLabeller({ ...reportRules(), uncertainAs: 'ignore' }).label({ FINDINGS: 'Possible small left pneumothorax.' });
    expect(strict.findings).toEqual([]);
    expect(strict.status).toBe('normal');
    expect(strict.uncertain).toEqual(['pneumothorax']);
  });

  it('labels the finding vocabulary, COVID-19 included', () => {
    const r = label('Cardiomegaly. Bilateral ground-glass opacities compatible with COVID-19. Left lower lobe consolidation. Pulmonary edema. 1.5 cm nodule.');
    expect(r.findings).toEqual(['cardiomegaly', 'consolidation', 'opacity', 'nodule/mass', 'edema', 'pneumonia']);
  });

  it('reads only FINDINGS and IMPRESSION of a free-text report', () => {
    const text = 'INDICATION: Rule out pneumonia, cough.\nFINDINGS: Lungs are clear.\nIMPRESSION: Normal chest.';
    expect(splitSections(text)['INDICATION']).toBe('Rule out pneumonia, cough.');
    expect(labeller.label(text).status).toBe('normal');
    expect(labeller.label('Lungs are clear. Small left effusion.').findings).toEqual(['effusion']);
  });
});

describe('rules', () => {
  it('takes a rules file of its own (terms, triggers, sections)', () => {
    const custom = createLabeller(
      parseRules(
        JSON.stringify({
          sections: ['IMPRESSION'],
          negation: { pre: ['kein'], post: [] },
          uncertainty: { pre: [], post: [] },
          terminators: [],
          findings: [{ label: 'erguss', terms: ['erguss'] }],
        }),
        'custom.json',
      ),
    );
    expect(custom.label({ FINDINGS: 'erguss', IMPRESSION: 'Kein Erguss.' }).status).toBe('normal');
    expect(custom.label({ IMPRESSION: 'Erguss rechts.' }).findings).toEqual(['erguss']);
  });

  it('rejects a bad pattern or key with the file named', () => {
    const bad = { negation: { pre: [], post: [] }, uncertainty: { pre: [], post: [] }, terminators: [], findings: [{ label: 'x', terms: ['(unclosed'] }] };
    expect(() => parseRules(JSON.stringify(bad), 'bad.json')).toThrow(/bad\.json: finding x: bad pattern/);
    expect(() => parseRules('window: 3\nfindings: []', 'r.yaml')).toThrow(/r\.yaml: invalid report rules/);
  });
});

describe('Open-i reports against their MeSH indexing', () => {
  const reports = readOpenIReports(OPENI);

  it('reads all 3,955 reports, 1,391 indexed normal', () => {
    expect(reports).toHaveLength(3955);
    expect(reports.filter((r) => r.major.length === 1 && r.major[0] === 'normal')).toHaveLength(1391);
  });

  it('labels abnormal vs normal with F1 >= 0.90', () => {
    const { scored } = scoreReports(labeller, reports);
    const c = confusion(scored);
    expect(c.tp + c.fn).toBeGreaterThan(2000);
    expect(c.tn + c.fp).toBe(1391);
    expect(METRICS.f1(c)).toBeGreaterThanOrEqual(0.9);
    expect(METRICS.specificity(c)).toBeGreaterThanOrEqual(0.9);
  });

  it('prints the table with intervals around the point figures', () => {
    const score = scoreOpenI(OPENI, reportRules(), { resamples: 40, seed: 3 });
    const abnormal = score.rows.find((r) => r.name === 'abnormal')!;
    const f1 = abnormal.values.f1!;
    expect(abnormal.intervals.f1!.lo).toBeLessThanOrEqual(f1);
    expect(abnormal.intervals.f1!.hi).toBeGreaterThanOrEqual(f1);
    expect(score.rows.map((r) => r.name)).toContain('pneumothorax');
    expect(scoreTable(score)).toMatch(/\| abnormal \| 2463 \| 1391 \| 0\.\d{3} \[/);
  });
});
