// Reading the analysed image's header: results must carry the same Patient and Study modules as
// the image so the PACS files them into the same study (PS3.3 C.7.1.1, C.7.2.1, C.7.2.2).
import { readNaturalHeader } from '../dicom/header.js';
import { PrecedentError } from '../shared/errors.js';
import type { SourceImage } from './types.js';

/** Patient, Clinical Trial Subject, General Study, Patient Study and Clinical Trial Study attributes. */
const PATIENT_STUDY_KEYWORDS = [
  // Patient (C.7.1.1)
  'PatientName',
  'PatientID',
  'IssuerOfPatientID',
  'IssuerOfPatientIDQualifiersSequence',
  'TypeOfPatientID',
  'PatientBirthDate',
  'PatientBirthTime',
  'PatientSex',
  'OtherPatientIDsSequence',
  'OtherPatientNames',
  'EthnicGroup',
  'PatientComments',
  'PatientSpeciesDescription',
  'PatientSpeciesCodeSequence',
  'PatientBreedDescription',
  'PatientBreedCodeSequence',
  'BreedRegistrationSequence',
  'ResponsiblePerson',
  'ResponsiblePersonRole',
  'ResponsibleOrganization',
  'PatientIdentityRemoved',
  'DeidentificationMethod',
  'DeidentificationMethodCodeSequence',
  'QualityControlSubject',
  'StrainDescription',
  // Clinical Trial Subject (C.7.1.3): copied only when the source has them, so the module stays whole.
  'ClinicalTrialSponsorName',
  'ClinicalTrialProtocolID',
  'ClinicalTrialProtocolName',
  'ClinicalTrialSiteID',
  'ClinicalTrialSiteName',
  'ClinicalTrialSubjectID',
  'ClinicalTrialSubjectReadingID',
  // General Study (C.7.2.1)
  'StudyInstanceUID',
  'StudyDate',
  'StudyTime',
  'ReferringPhysicianName',
  'ReferringPhysicianIdentificationSequence',
  'StudyID',
  'AccessionNumber',
  'IssuerOfAccessionNumberSequence',
  'StudyDescription',
  'PhysiciansOfRecord',
  'NameOfPhysiciansReadingStudy',
  'ReferencedStudySequence',
  'ProcedureCodeSequence',
  'ReasonForPerformedProcedureCodeSequence',
  'RequestingService',
  // Patient Study (C.7.2.2)
  'AdmittingDiagnosesDescription',
  'AdmittingDiagnosesCodeSequence',
  'PatientAge',
  'PatientSize',
  'PatientWeight',
  'Occupation',
  'AdditionalPatientHistory',
  'AdmissionID',
  'PregnancyStatus',
  'SmokingStatus',
  // Clinical Trial Study (C.7.2.3)
  'ClinicalTrialTimePointID',
  'ClinicalTrialTimePointDescription',
] as const;

/** Type 2 attributes of Patient and General Study: present, possibly empty, in every result. */
const TYPE2 = [
  'PatientName',
  'PatientID',
  'PatientBirthDate',
  'PatientSex',
  'StudyDate',
  'StudyTime',
  'ReferringPhysicianName',
  'StudyID',
  'AccessionNumber',
] as const;

function str(value: unknown): string {
  if (Array.isArray(value)) return str(value[0]);
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

function strings(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  return (Array.isArray(value) ? value : [value]).map((v) => str(v));
}

/**
 * Extracts what the results copy from a source image's Part 10 bytes. Parsing stops before Pixel
 * Data, so any transfer syntax works and the pixels are never touched.
 */
export function readSourceImage(part10: Uint8Array): SourceImage {
  let natural: Record<string, unknown>;
  try {
    natural = readNaturalHeader(part10);
  } catch (err) {
    throw new PrecedentError('DATASET_MALFORMED', 'source image cannot be parsed for its patient and study attributes', { cause: err });
  }
  return sourceFromDataset(natural);
}

/** Instance Number (IS) as a positive integer, else null (absent, empty, malformed or out of range). */
function instanceNumber(value: unknown): number | null {
  const n = Number(str(value).trim());
  return Number.isInteger(n) && n > 0 && n < 2 ** 31 ? n : null;
}

/** Rows / Columns (US) as a positive integer, else null. */
function dimension(value: unknown): number | null {
  const n = Number(str(value));
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : null;
}

const DA = /^\d{8}$/;
const TM = /^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$/;
const FORMATS: Partial<Record<(typeof PATIENT_STUDY_KEYWORDS)[number], RegExp>> = {
  PatientBirthDate: DA,
  StudyDate: DA,
  PatientBirthTime: TM,
  StudyTime: TM,
  PatientSex: /^[MFO]$/,
};

/**
 * A copied value our objects can carry. What we write must pass dciodvfy even when the source does
 * not (real archives hold e.g. Patient's Age "68", or dates with separators): a malformed Patient's
 * Age that is a plain number of years becomes AS ("068Y"); any other malformed value of these
 * attributes is left out (Type 2 ones then go out empty). Filing in the PACS rests on the UIDs and
 * Patient ID, which are copied as they are.
 */
function repaired(keyword: (typeof PATIENT_STUDY_KEYWORDS)[number], value: unknown): unknown {
  if (value === undefined || value === null || value === '') return value;
  if (keyword === 'PatientAge') {
    const text = str(value).trim();
    if (/^\d{3}[DWMY]$/.test(text)) return text;
    return /^\d{1,3}$/.test(text) ? `${text.padStart(3, '0')}Y` : undefined;
  }
  const format = FORMATS[keyword];
  if (!format) return value;
  return format.test(str(value).trim()) ? value : undefined;
}

/** The same from an already naturalized data set (keyword -> value). */
export function sourceFromDataset(natural: Record<string, unknown>): SourceImage {
  const uid = (keyword: string): string => str(natural[keyword]).trim();
  const missing = ['SOPClassUID', 'SOPInstanceUID', 'SeriesInstanceUID', 'StudyInstanceUID'].filter((k) => uid(k) === '');
  if (missing.length > 0) {
    throw new PrecedentError('DATASET_INCOMPLETE', `source image lacks ${missing.join(', ')}`, { details: missing });
  }
  const patientStudy: Record<string, unknown> = {};
  for (const keyword of PATIENT_STUDY_KEYWORDS) {
    const value = repaired(keyword, natural[keyword]);
    if (value !== undefined && value !== null) patientStudy[keyword] = value;
  }
  for (const keyword of TYPE2) if (!(keyword in patientStudy)) patientStudy[keyword] = '';
  return {
    SOPClassUID: uid('SOPClassUID'),
    SOPInstanceUID: uid('SOPInstanceUID'),
    SeriesInstanceUID: uid('SeriesInstanceUID'),
    StudyInstanceUID: uid('StudyInstanceUID'),
    Modality: uid('Modality'),
    InstanceNumber: instanceNumber(natural['InstanceNumber']),
    PatientOrientation: strings(natural['PatientOrientation']),
    Rows: dimension(natural['Rows']),
    Columns: dimension(natural['Columns']),
    patientStudy,
  };
}
