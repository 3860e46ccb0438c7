// TID 1500's Qualitative Evaluations container of the similar-cases SR: the summary as short TEXT
// items (what Orthanc Explorer, dsr2html and any text reader show), then one container per similar
// case. Cases are not Measurement Groups: they are other patients' images, so they have no
// coordinates on the analysed image, and OHIF 3 fails on a measurement group without any.
import type { CaseRecord, RetrievalResult, SimilarCase } from '../shared/cases.js';
import { displayScore, formatScore, similarityPhrase, type SimilarityCalibration } from '../shared/similarity.js';
import { DISCLAIMER } from './common.js';
import {
  CASE_SOURCE,
  DCM,
  labelCode,
  MATCH_SCORE,
  NO,
  OUTCOMES,
  outcomeConcept,
  QUALITATIVE_EVALUATIONS,
  RANK,
  RETRIEVE_AE,
  sexCode,
  SIMILAR_CASE,
  SIMILARITY,
  SIMILARITY_RANGE,
  UCUM,
  VOTE,
  YES,
} from './codes.js';
import { codeItem, container, date, num, text, uidref, type ContentItem } from './sr-items.js';
import { ageSex, ageText, caseOutcomes, NO_REFERENCE_HINT, outcomeKeys, summarySentences } from './summary.js';
import type { ModelIdentity } from './types.js';

const isDA = (value: string): boolean => /^\d{8}$/.test(value);

/** Three decimals: enough to tell neighbours apart, not the ten digits a double prints. */
const round3 = (n: number): number => Math.round(n * 1000) / 1000;

function outcomeItems(record: CaseRecord): ContentItem[] {
  return outcomeKeys([record]).flatMap((key) => {
    const raw = (record.outcomes[key] ?? '').trim();
    const value = raw.toUpperCase();
    if (value === 'Y') return [codeItem('CONTAINS', outcomeConcept(key), YES)];
    if (value === 'N') return [codeItem('CONTAINS', outcomeConcept(key), NO)];
    return raw === '' ? [] : [text('CONTAINS', outcomeConcept(key), raw)];
  });
}

/** "#1: COVID-19; 52 years, female; intubated yes, survived yes. Match score 0.83 (raw cosine 0.934)". */
export function caseSentence(similar: SimilarCase, calibration: SimilarityCalibration | undefined): string {
  const r = similar.case;
  const labels = r.labels.length > 0 ? r.labels.join(', ') : 'unlabelled';
  const outcomes = caseOutcomes(r);
  const reference = r.publicCollection ? ' (public reference case)' : '';
  return `#${similar.rank}${reference}: ${labels}; ${ageSex(r)}${outcomes === '' ? '' : `; ${outcomes}`}. ${similarityPhrase(similar.similarity, calibration)}`;
}

/** Where a public reference case comes from: never to be read as one of this hospital's patients. */
export function caseSourceText(collection: string): string {
  return `Public reference case (${collection}), not from this hospital`;
}

/** One similar case: the sentence first, then the same facts coded, then where to find the study. */
function caseContainer(similar: SimilarCase, calibration: SimilarityCalibration | undefined): ContentItem {
  const record = similar.case;
  const score = displayScore(similar.similarity, calibration);
  const items: ContentItem[] = [
    text('CONTAINS', DCM.summary, caseSentence(similar, calibration)),
    num('CONTAINS', RANK, similar.rank, UCUM.rank),
    ...(score === null ? [] : [num('CONTAINS', MATCH_SCORE, Number(formatScore(score)), UCUM.score)]),
    num('CONTAINS', SIMILARITY, round3(similar.similarity), UCUM.cosine),
    ...record.labels.map((label) => codeItem('CONTAINS', DCM.finding, labelCode(label))),
  ];
  // TEXT, not NUM in UCUM "a": viewers print the unit's code, and "52 a" is not how anyone writes an age.
  const age = ageText(record);
  if (age !== null) items.push(text('CONTAINS', DCM.subjectAge, age));
  items.push(codeItem('CONTAINS', DCM.subjectSex, sexCode(record.sex)));
  items.push(...outcomeItems(record));
  items.push(uidref('CONTAINS', DCM.studyInstanceUID, record.StudyInstanceUID));
  if (record.AccessionNumber.trim() !== '') items.push(text('CONTAINS', DCM.accessionNumber, record.AccessionNumber.trim()));
  if (isDA(record.StudyDate)) items.push(date('CONTAINS', DCM.studyDate, record.StudyDate));
  // Truthy test: results stored before the field existed have none.
  if (record.retrieveAETitle) items.push(text('CONTAINS', RETRIEVE_AE, record.retrieveAETitle));
  if (record.publicCollection) items.push(text('CONTAINS', CASE_SOURCE, caseSourceText(record.publicCollection)));
  return container('CONTAINS', SIMILAR_CASE, items);
}

/** The Qualitative Evaluations container (TID 1500 row 12): summary sentences, then the cases. */
export function qualitativeEvaluations(retrieval: RetrievalResult, model: ModelIdentity): ContentItem {
  const calibration = model.similarityCalibration;
  const s = summarySentences(retrieval, calibration);
  const cases = [...retrieval.cases].sort((a, b) => a.rank - b.rank);
  const items: ContentItem[] = [text('CONTAINS', DCM.summary, s.cases)];
  if (cases.length === 0) items.push(text('CONTAINS', DCM.comment, NO_REFERENCE_HINT));
  if (s.vote !== '') items.push(text('CONTAINS', VOTE, s.vote));
  if (s.outcomes !== '') items.push(text('CONTAINS', OUTCOMES, s.outcomes));
  if (s.similarity !== '') items.push(text('CONTAINS', SIMILARITY_RANGE, s.similarity));
  items.push(text('CONTAINS', DCM.comment, `Model ${model.name} ${model.version}. ${DISCLAIMER}`));
  items.push(...cases.map((c) => caseContainer(c, calibration)));
  return container('CONTAINS', QUALITATIVE_EVALUATIONS, items);
}
