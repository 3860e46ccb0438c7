// The similar-cases report: a Comprehensive 3D SR whose root is a TID 1500 Measurement Report,
// the only SR root OHIF reads. Tree (relationship, value type, concept):
//
//   CONTAINER Imaging Measurement Report                              TID 1500
//     HAS CONCEPT MOD  CODE Language of Content = English              TID 1204
//     HAS OBS CONTEXT  CODE Observer Type = Device, UIDREF/TEXT ...    TID 1002 / 1004 (the model)
//     HAS CONCEPT MOD  CODE Procedure reported = Plain chest X-ray
//     CONTAINS         TEXT Summary                                    (extension: first thing read)
//     CONTAINS         CONTAINER Image Library > Image Library Group > IMAGE source   TID 1600
//     CONTAINS         CONTAINER Imaging Measurements
//       CONTAINER Measurement Group "Neighbour vote"                   TID 1501, the analysed image
//         tracking id/uid, Algorithm Name/Version (TID 4019), IMAGE Source of Measurement,
//         CODE Finding = label > HAS PROPERTIES NUM Certainty of Finding (%)   one per label
//       CONTAINER Measurement Group "Similar case <rank>"               one per case
//         NUM rank, NUM cosine similarity, CODE Finding per label, NUM Subject Age (a),
//         CODE Subject Sex, CODE outcome = Yes/No, UIDREF Study Instance UID, TEXT Accession, DATE
import type { CaseRecord, SimilarCase } from '../shared/cases.js';
import { hashUid } from '../shared/uid.js';
import { checkRetrievalMatches, commonModules, DISCLAIMER, SOP_CLASS, sourceEvidence, writePart10, type NaturalDataset } from './common.js';
import {
  DCM, ENGLISH, labelCode, NEIGHBOURS, NO, outcomeConcept, PLAIN_CHEST_XRAY, RANK, RETRIEVE_AE, sexCode, SIMILARITY, UCUM, YES,
} from './codes.js';
import { codeItem, container, date, image, num, text, uidref, type ContentItem } from './sr-items.js';
import { similarCasesSummary } from './summary.js';
import type { DicomObject, ModelIdentity, SimilarCasesSRInput, SourceImage } from './types.js';

export const SR_SERIES_DESCRIPTION = `AI similar cases - NOT FOR DIAGNOSTIC USE`;
export const SR_DEFAULT_SERIES_NUMBER = 990;

function observerContext(model: ModelIdentity, manufacturer: string): ContentItem[] {
  return [
    codeItem('HAS OBS CONTEXT', DCM.observerType, DCM.device),
    uidref('HAS OBS CONTEXT', DCM.deviceObserverUID, model.deviceUID),
    text('HAS OBS CONTEXT', DCM.deviceObserverName, `${model.name} ${model.version}`),
    text('HAS OBS CONTEXT', DCM.deviceObserverManufacturer, manufacturer),
    text('HAS OBS CONTEXT', DCM.deviceObserverModelName, model.name),
  ];
}

function sourceImage(source: SourceImage, name = DCM.sourceOfMeasurement): ContentItem {
  return image('CONTAINS', name, source.SOPClassUID, source.SOPInstanceUID);
}

function imageLibrary(source: SourceImage): ContentItem {
  const entry = image('CONTAINS', undefined, source.SOPClassUID, source.SOPInstanceUID);
  return container('CONTAINS', DCM.imageLibrary, [container('CONTAINS', DCM.imageLibraryGroup, [entry])]);
}

/**
 * TID 1500 tracking: the Tracking Unique Identifier follows from the analysed image, the model and the
 * label, so that writing the report again (a replay) tracks the same things with the same UIDs.
 */
function trackingContext(input: SimilarCasesSRInput, label: string): ContentItem[] {
  const uid = hashUid('precedent-tracking', input.source.SOPInstanceUID, input.model.name, input.model.version, label);
  return [text('HAS OBS CONTEXT', DCM.trackingIdentifier, label), uidref('HAS OBS CONTEXT', DCM.trackingUniqueIdentifier, uid)];
}

/** TID 4019 Algorithm Identification. */
function algorithm(model: ModelIdentity): ContentItem {
  return text('HAS CONCEPT MOD', DCM.algorithmName, model.name, [text('HAS CONCEPT MOD', DCM.algorithmVersion, model.version)]);
}

/** The analysed image: one qualitative evaluation per label with its neighbour-vote probability. */
function voteGroup(input: SimilarCasesSRInput): ContentItem {
  const { retrieval, model, source } = input;
  const evaluations = retrieval.vote.map((v) =>
    codeItem('CONTAINS', DCM.finding, labelCode(v.label), [num('HAS PROPERTIES', DCM.certaintyOfFinding, clampPercent(v.probability), UCUM.percent)]),
  );
  return container('CONTAINS', DCM.measurementGroup, [
    ...trackingContext(input, 'Neighbour vote'),
    algorithm(model),
    sourceImage(source),
    num('CONTAINS', NEIGHBOURS, retrieval.cases.length, UCUM.noUnits),
    ...evaluations,
    text('CONTAINS', DCM.comment, `Similarity-weighted vote of the ${retrieval.cases.length} most similar archived cases. ${DISCLAIMER}.`),
  ]);
}

function clampPercent(probability: number): number {
  return Math.round(Math.max(0, Math.min(1, probability)) * 1000) / 10;
}

const isDA = (value: string): boolean => /^\d{8}$/.test(value);

function outcomeItems(record: CaseRecord): ContentItem[] {
  return Object.entries(record.outcomes)
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([key, raw]) => {
      const value = raw.trim().toUpperCase();
      if (value === 'Y') return [codeItem('CONTAINS', outcomeConcept(key), YES)];
      if (value === 'N') return [codeItem('CONTAINS', outcomeConcept(key), NO)];
      return raw.trim() === '' ? [] : [text('CONTAINS', outcomeConcept(key), raw.trim())];
    });
}

/** One similar case: what a radiologist compares, and where to find the prior study. */
function caseGroup(input: SimilarCasesSRInput, similar: SimilarCase): ContentItem {
  const record = similar.case;
  const items: ContentItem[] = [
    ...trackingContext(input, `Similar case ${similar.rank}`),
    num('CONTAINS', RANK, similar.rank, UCUM.noUnits),
    num('CONTAINS', SIMILARITY, similar.similarity, UCUM.noUnits),
    ...record.labels.map((label) => codeItem('CONTAINS', DCM.finding, labelCode(label))),
  ];
  if (record.age !== null && Number.isFinite(record.age)) items.push(num('CONTAINS', DCM.subjectAge, record.age, UCUM.year));
  items.push(codeItem('CONTAINS', DCM.subjectSex, sexCode(record.sex)));
  items.push(...outcomeItems(record));
  items.push(uidref('CONTAINS', DCM.studyInstanceUID, record.StudyInstanceUID));
  if (record.AccessionNumber.trim() !== '') items.push(text('CONTAINS', DCM.accessionNumber, record.AccessionNumber.trim()));
  if (isDA(record.StudyDate)) items.push(date('CONTAINS', DCM.studyDate, record.StudyDate));
  // Truthy test: results stored before the field existed have none.
  if (record.retrieveAETitle) items.push(text('CONTAINS', RETRIEVE_AE, record.retrieveAETitle));
  return container('CONTAINS', DCM.measurementGroup, items);
}

/** The content tree (root CONTAINER attributes and its ContentSequence). */
export function similarCasesContent(input: SimilarCasesSRInput): NaturalDataset {
  const { retrieval, model, source } = input;
  const manufacturer = input.producer?.manufacturer ?? 'Precedent';
  const cases = [...retrieval.cases].sort((a, b) => a.rank - b.rank);
  return {
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: [{ ...DCM.imagingMeasurementReport }],
    ContinuityOfContent: 'SEPARATE',
    ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '1500' }],
    ContentSequence: [
      codeItem('HAS CONCEPT MOD', DCM.languageOfContent, ENGLISH),
      ...observerContext(model, manufacturer),
      codeItem('HAS CONCEPT MOD', DCM.procedureReported, PLAIN_CHEST_XRAY),
      text('CONTAINS', DCM.summary, similarCasesSummary(retrieval)),
      imageLibrary(source),
      container('CONTAINS', DCM.imagingMeasurements, [voteGroup(input), ...cases.map((c) => caseGroup(input, c))]),
    ],
  };
}

/** Part 10 bytes of the similar-cases Comprehensive 3D SR, in the source image's study. */
export function buildSimilarCasesSR(input: SimilarCasesSRInput): DicomObject {
  checkRetrievalMatches(input.retrieval, input);
  const dataset: NaturalDataset = {
    ...commonModules(input, {
      SOPClassUID: SOP_CLASS.comprehensive3DSR,
      Modality: 'SR',
      SeriesDescription: SR_SERIES_DESCRIPTION,
      defaultSeriesNumber: SR_DEFAULT_SERIES_NUMBER,
    }),
    // SR Document Series (C.17.1): Type 2, empty: no MPPS for an AI result.
    ReferencedPerformedProcedureStepSequence: [],
    // SR Document General (C.17.2)
    CompletionFlag: 'COMPLETE',
    VerificationFlag: 'UNVERIFIED',
    PerformedProcedureCodeSequence: [],
    CurrentRequestedProcedureEvidenceSequence: sourceEvidence(input),
    // SR Document Content (C.17.3)
    ...similarCasesContent(input),
  };
  return writePart10(dataset);
}
