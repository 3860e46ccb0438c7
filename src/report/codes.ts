// Coded concepts the results use. Standard codes are cited with their source; anything without a
// standard code (our labels, outcomes, rank) uses the local scheme 99PRECEDENT, which PS3.3 C.12.1
// requires to be declared in Coding Scheme Identification Sequence (see localSchemes()).
import { createHash } from 'node:crypto';

export interface Code {
  CodeValue: string;
  CodingSchemeDesignator: string;
  CodeMeaning: string;
}

const code = (CodeValue: string, CodingSchemeDesignator: string, CodeMeaning: string): Code => ({ CodeValue, CodingSchemeDesignator, CodeMeaning });

/** Private coding scheme designators start with "99" (PS3.16 8.2). */
export const LOCAL_SCHEME = '99PRECEDENT';

// PS3.16 Annex D (DCM), unless noted.
export const DCM = {
  imagingMeasurementReport: code('126000', 'DCM', 'Imaging Measurement Report'), // CID 7021, TID 1500 title
  languageOfContent: code('121049', 'DCM', 'Language of Content Item and Descendants'), // TID 1204
  observerType: code('121005', 'DCM', 'Observer Type'), // TID 1002
  device: code('121007', 'DCM', 'Device'), // CID 270
  deviceObserverUID: code('121012', 'DCM', 'Device Observer UID'), // TID 1004
  deviceObserverName: code('121013', 'DCM', 'Device Observer Name'),
  deviceObserverManufacturer: code('121014', 'DCM', 'Device Observer Manufacturer'),
  deviceObserverModelName: code('121015', 'DCM', 'Device Observer Model Name'),
  procedureReported: code('121058', 'DCM', 'Procedure reported'), // TID 1500 row 4
  summary: code('121111', 'DCM', 'Summary'), // CID 7002
  imageLibrary: code('111028', 'DCM', 'Image Library'), // TID 1600
  imageLibraryGroup: code('126200', 'DCM', 'Image Library Group'),
  imagingMeasurements: code('126010', 'DCM', 'Imaging Measurements'), // TID 1500 row 6
  measurementGroup: code('125007', 'DCM', 'Measurement Group'), // TID 1501
  trackingIdentifier: code('112039', 'DCM', 'Tracking Identifier'),
  trackingUniqueIdentifier: code('112040', 'DCM', 'Tracking Unique Identifier'),
  algorithmName: code('111001', 'DCM', 'Algorithm Name'), // TID 4019
  algorithmVersion: code('111003', 'DCM', 'Algorithm Version'),
  sourceOfMeasurement: code('121112', 'DCM', 'Source of Measurement'),
  imageRegion: code('111030', 'DCM', 'Image Region'), // TID 1410 row 7
  finding: code('121071', 'DCM', 'Finding'), // CID 7002
  // TID 4104 (Chest CAD) row 12 uses it for a finding's likelihood, in percent 0-100: our vote.
  certaintyOfFinding: code('111012', 'DCM', 'Certainty of Finding'),
  comment: code('121106', 'DCM', 'Comment'),
  subjectAge: code('121033', 'DCM', 'Subject Age'), // TID 1007
  subjectSex: code('121032', 'DCM', 'Subject Sex'),
  studyInstanceUID: code('110180', 'DCM', 'Study Instance UID'),
  accessionNumber: code('121022', 'DCM', 'Accession Number'),
  studyDate: code('111060', 'DCM', 'Study Date'),
  sourceImageForProcessing: code('121322', 'DCM', 'Source image for image processing operation'), // CID 7202
} as const;

/**
 * IHE Radiology AI Results (AIR) supplement, Contributing Equipment Sequence: the algorithm's item has
 * Purpose of Reference (Newcode1, 99IHE, "Processing Algorithm"), an interim code IHE defined pending
 * a DICOM one. (109103, DCM) is "Modifying Equipment" in CID 7005 and would mislabel the algorithm.
 */
export const PROCESSING_ALGORITHM = code('Newcode1', '99IHE', 'Processing Algorithm');

/** SNOMED CT 399208008 |Plain chest X-ray (procedure)|: any projection, single or multiple views. */
export const PLAIN_CHEST_XRAY = code('399208008', 'SCT', 'Plain chest X-ray');

/** RFC 5646 language tag (TID 1204, CID 5000). */
export const ENGLISH = code('en', 'RFC5646', 'English');

/** TID 1500 row 12 (UMLS is a PS3.16 Table 8-1 scheme: no Coding Scheme Identification needed). */
export const QUALITATIVE_EVALUATIONS = code('C0034375', 'UMLS', 'Qualitative Evaluations');

/**
 * Units. Viewers print a unit's Code Value after the number (dsr2html, OHIF), so dimensionless values
 * use UCUM annotations ("{rank}") that read as words, never "1", which printed "rank 1 1".
 */
export const UCUM = {
  percent: code('%', 'UCUM', 'Percent'),
  rank: code('{rank}', 'UCUM', 'rank'),
  cosine: code('{cosine}', 'UCUM', 'cosine similarity'),
  score: code('{score}', 'UCUM', 'match score'),
} as const;

/** CID 230 Yes-No (SNOMED CT). */
export const YES = code('373066001', 'SCT', 'Yes');
export const NO = code('373067005', 'SCT', 'No');

/** CID 7455 Sex. */
export function sexCode(sex: 'M' | 'F' | 'O' | null): Code {
  if (sex === 'M') return code('M', 'DCM', 'Male');
  if (sex === 'F') return code('F', 'DCM', 'Female');
  if (sex === 'O') return code('121102', 'DCM', 'Other sex');
  return code('U', 'DCM', 'Unknown sex');
}

/** Archive labels with an unambiguous SNOMED CT concept; everything else is a local code. */
const LABEL_CODES: Record<string, Code> = {
  'covid-19': code('840539006', 'SCT', 'COVID-19'), // Disease caused by SARS-CoV-2
  normal: code('17621005', 'SCT', 'Normal'),
  pneumonia: code('233604007', 'SCT', 'Pneumonia'),
};

/** Code Value is SH (16 characters): longer keys keep a readable prefix and a hash suffix. */
function localValue(key: string): string {
  const clean =
    key
      .trim()
      .toUpperCase()
      .replace(/[^A-Z0-9]+/g, '_')
      .replace(/^_|_$/g, '') || 'EMPTY';
  if (clean.length <= 16) return clean;
  return `${clean.slice(0, 9)}_${createHash('sha1').update(key).digest('hex').slice(0, 6).toUpperCase()}`;
}

/** Code Meaning is LO (64 characters). */
function meaning(text: string): string {
  const t = text.trim();
  return t.length <= 64 ? t : `${t.slice(0, 61)}...`;
}

export function localCode(key: string, text: string = key): Code {
  return code(localValue(key), LOCAL_SCHEME, meaning(text));
}

export function labelCode(label: string): Code {
  return LABEL_CODES[label.trim().toLowerCase()] ?? localCode(label);
}

/** Readable names of the archive's outcome columns (labels.csv); others show their key. */
export const OUTCOME_NAMES: Record<string, { concept: string; summary: string }> = {
  intubated: { concept: 'Intubated', summary: 'intubated' },
  went_icu: { concept: 'Went to ICU', summary: 'went to ICU' },
  in_icu: { concept: 'In ICU', summary: 'in ICU' },
  survival: { concept: 'Survived', summary: 'survived' },
  needed_supplemental_o2: { concept: 'Needed supplemental O2', summary: 'needed supplemental O2' },
};

export function outcomeName(key: string): { concept: string; summary: string } {
  const known = OUTCOME_NAMES[key.toLowerCase()];
  if (known) return known;
  const text = key.replace(/_/g, ' ').trim();
  return { concept: text, summary: text };
}

export function outcomeConcept(key: string): Code {
  // "O_" keeps outcome codes apart from label codes in the one local scheme.
  return localCode(`O_${key}`, outcomeName(key).concept);
}

export const RANK = localCode('RANK', 'Similarity rank');
export const SIMILARITY = localCode('COSINE_SIM', 'Cosine similarity');
export const MATCH_SCORE = localCode('MATCH_SCORE', 'Match score');
export const SIMILAR_CASE = localCode('SIMILAR_CASE', 'Similar case');
export const OUTCOMES = localCode('OUTCOMES', 'Outcomes of the similar cases');
export const VOTE = localCode('VOTE', 'Neighbour vote');
export const SIMILARITY_RANGE = localCode('SIM_RANGE', 'Similarity range');

/** A label's share of the neighbour vote as a top-level NUM: OHIF lists only NUMs, by concept meaning. */
export function voteConcept(label: string): Code {
  return localCode(`V_${label}`, `${label} (neighbour vote)`);
}
/** No DCM concept names an AE title in a content tree; the case's archive, where to retrieve it from. */
export const RETRIEVE_AE = localCode('RETRIEVE_AE', 'Retrieve AE Title');
export const CASE_SOURCE = localCode('CASE_SOURCE', 'Source');

/** Coding Scheme Identification Sequence items for the non-standard schemes a data set uses. */
export function localSchemes(designators: ReadonlySet<string>): Array<Record<string, unknown>> {
  const items: Array<Record<string, unknown>> = [];
  if (designators.has(LOCAL_SCHEME)) {
    items.push({ CodingSchemeDesignator: LOCAL_SCHEME, CodingSchemeName: 'Precedent local codes', CodingSchemeResponsibleOrganization: 'Precedent' });
  }
  if (designators.has('99IHE')) {
    items.push({ CodingSchemeDesignator: '99IHE', CodingSchemeName: 'IHE interim codes', CodingSchemeResponsibleOrganization: 'IHE International' });
  }
  return items;
}

/** Every Coding Scheme Designator used anywhere in a naturalized data set. */
export function designatorsIn(value: unknown, found: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) designatorsIn(v, found);
  } else if (value !== null && typeof value === 'object' && !(value instanceof ArrayBuffer) && !ArrayBuffer.isView(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'CodingSchemeDesignator' && typeof v === 'string') found.add(v);
      else designatorsIn(v, found);
    }
  }
  return found;
}
