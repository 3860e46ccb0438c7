// The similar-cases report: a Comprehensive 3D SR whose root is a TID 1500 Measurement Report,
// the only SR root OHIF reads. Tree (relationship, value type, concept):
//
//   CONTAINER Imaging Measurement Report                              TID 1500
//     HAS CONCEPT MOD  CODE Language of Content = English              TID 1204
//     HAS OBS CONTEXT  CODE Observer Type = Device, UIDREF/TEXT ...    TID 1002 / 1004 (the model)
//     HAS CONCEPT MOD  CODE Procedure reported = Plain chest X-ray
//     CONTAINS         CONTAINER Image Library > Image Library Group > IMAGE source   TID 1600
//     CONTAINS         CONTAINER Imaging Measurements
//       CONTAINER Measurement Group                                    TID 1410, the analysed image
//         tracking id/uid, Algorithm Name/Version (TID 4019),
//         SCOORD Image Region (a corner mark on the image) > SELECTED FROM IMAGE source,
//         NUM "<label> (neighbour vote)" % per label, CODE Finding > NUM Certainty of Finding %
//     CONTAINS         CONTAINER Qualitative Evaluations               TID 1500 row 12
//       TEXT Summary, Neighbour vote, Outcomes, Similarity range, Comment (model, disclaimer)
//       CONTAINER Similar case (one per case): TEXT sentence, NUM rank / match score / cosine,
//         CODE Finding per label, TEXT Subject Age, CODE Subject Sex, CODE outcome = Yes/No,
//         UIDREF Study Instance UID, TEXT Accession, DATE, TEXT Retrieve AE
//
// What OHIF 3 needs (extensions/cornerstone-dicom-sr): a concept name on every item it searches
// (Image Library entries included), and in Imaging Measurements only groups with a SCOORD whose
// image is in the study; it shows that image, draws the region and writes up to five of the group's
// top-level NUMs beside it as "<concept meaning>: <value> <unit code>" (test/viewer-ohif.test.ts).
import { hashUid } from '../shared/uid.js';
import { SopClass } from '../dicom/uids.js';
import { checkRetrievalMatches, commonModules, sourceEvidence, writePart10, type NaturalDataset } from './common.js';
import { DCM, ENGLISH, labelCode, PLAIN_CHEST_XRAY, UCUM, voteConcept } from './codes.js';
import { qualitativeEvaluations } from './sr-cases.js';
import { codeItem, container, image, num, scoord, text, uidref, type ContentItem } from './sr-items.js';
import { NO_REFERENCE_CASES } from './summary.js';
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

/** The library entry carries a concept name: the standard allows none, OHIF reads every item's. */
function imageLibrary(source: SourceImage): ContentItem {
  const entry = image('CONTAINS', DCM.sourceOfMeasurement, source.SOPClassUID, source.SOPInstanceUID);
  return container('CONTAINS', DCM.imageLibrary, [container('CONTAINS', DCM.imageLibraryGroup, [entry])]);
}

/**
 * The vote is about the whole image (the SELECTED FROM reference says which). Its Image Region is a
 * small corner mark at the image's top-left, an open polyline (C.18.6.1.2) a tenth of the image's
 * smaller side long, because OHIF writes a group's NUMs to the right of the region's bounding box:
 * next to a whole-image outline they fall outside the viewport, next to the corner they read over the
 * image. Three points also keep OHIF from taking the group for one of its own Rectangle ROIs (a closed
 * 4- or 5-point Image Region), which it would offer to "track" and then fail to load.
 */
function cornerMark(source: Pick<SourceImage, 'Rows' | 'Columns'>): number[] {
  const { Rows: r, Columns: c } = source;
  const side = r === null || c === null ? 32 : Math.max(1, Math.round(Math.min(r, c) / 10));
  return [0, side, 0, 0, side, 0];
}

function imageRegion(source: SourceImage): ContentItem {
  const on = image('SELECTED FROM', undefined, source.SOPClassUID, source.SOPInstanceUID);
  return scoord('CONTAINS', DCM.imageRegion, 'POLYLINE', cornerMark(source), on);
}

/**
 * TID 1500 tracking: the Tracking Unique Identifier follows from the analysed image and the model, so
 * that writing the report again (a replay) tracks the same thing with the same UID. It is the group's
 * only UIDREF (OHIF takes the first UIDREF as the tracking UID).
 */
function trackingContext(input: SimilarCasesSRInput, identifier: string): ContentItem[] {
  const uid = hashUid('precedent-tracking', input.source.SOPInstanceUID, input.model.name, input.model.version, 'Neighbour vote');
  return [text('HAS OBS CONTEXT', DCM.trackingIdentifier, identifier), uidref('HAS OBS CONTEXT', DCM.trackingUniqueIdentifier, uid)];
}

/** TID 4019 Algorithm Identification. */
function algorithm(model: ModelIdentity): ContentItem {
  return text('HAS CONCEPT MOD', DCM.algorithmName, model.name, [text('HAS CONCEPT MOD', DCM.algorithmVersion, model.version)]);
}

function clampPercent(probability: number): number {
  return Math.round(Math.max(0, Math.min(1, probability)) * 1000) / 10;
}

/** The analysed image: its region, and the neighbour vote as NUMs (OHIF) and as coded findings. */
function voteGroup(input: SimilarCasesSRInput): ContentItem {
  const { retrieval, model, source } = input;
  const n = retrieval.cases.length;
  const identifier = n === 0 ? (NO_REFERENCE_CASES.split(':')[0] ?? '') : `AI similar-case vote of ${n} ${n === 1 ? 'case' : 'cases'}`;
  const shares = retrieval.vote.map((v) =>
    num('CONTAINS', voteConcept(v.label), clampPercent(v.probability), UCUM.percent, [codeItem('HAS CONCEPT MOD', DCM.finding, labelCode(v.label))]),
  );
  const findings = retrieval.vote.map((v) =>
    codeItem('CONTAINS', DCM.finding, labelCode(v.label), [num('HAS PROPERTIES', DCM.certaintyOfFinding, clampPercent(v.probability), UCUM.percent)]),
  );
  return container('CONTAINS', DCM.measurementGroup, [...trackingContext(input, identifier), algorithm(model), imageRegion(source), ...shares, ...findings]);
}

/** The content tree (root CONTAINER attributes and its ContentSequence). */
export function similarCasesContent(input: SimilarCasesSRInput): NaturalDataset {
  const { retrieval, model, source } = input;
  const manufacturer = input.producer?.manufacturer ?? 'Precedent';
  return {
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: [{ ...DCM.imagingMeasurementReport }],
    ContinuityOfContent: 'SEPARATE',
    ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '1500' }],
    ContentSequence: [
      codeItem('HAS CONCEPT MOD', DCM.languageOfContent, ENGLISH),
      ...observerContext(model, manufacturer),
      codeItem('HAS CONCEPT MOD', DCM.procedureReported, PLAIN_CHEST_XRAY),
      imageLibrary(source),
      container('CONTAINS', DCM.imagingMeasurements, [voteGroup(input)]),
      qualitativeEvaluations(retrieval, model),
    ],
  };
}

/** Part 10 bytes of the similar-cases Comprehensive 3D SR, in the source image's study. */
export function buildSimilarCasesSR(input: SimilarCasesSRInput): DicomObject {
  checkRetrievalMatches(input.retrieval, input);
  const dataset: NaturalDataset = {
    ...commonModules(input, {
      SOPClassUID: SopClass.Comprehensive3DSRStorage,
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
