// What every object we write shares: SOP Common, Patient / Study copied from the source, a new
// series, General (and, for SR, Enhanced General) Equipment for the node, the IHE AIR Contributing
// Equipment item for the model, and the Part 10 writing itself.
import { randomUUID } from 'node:crypto';
import dcmjs from 'dcmjs';
import { TransferSyntax } from '../dicom/uids.js';
import type { RetrievalResult } from '../shared/cases.js';
import { PrecedentError } from '../shared/errors.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../shared/implementation.js';
import { isValidUid, uuidUid } from '../shared/uid.js';
import { designatorsIn, localSchemes, PROCESSING_ALGORITHM } from './codes.js';
import type { DicomObject, ObjectOptions } from './types.js';

/** What a reader must know before it trusts any of our output; also burned into the images. */
export const DISCLAIMER = 'AI OUTPUT - NOT FOR DIAGNOSTIC USE';

export type NaturalDataset = Record<string, unknown>;

export function newUid(): string {
  return uuidUid(randomUUID());
}

/** DS is at most 16 characters (PS3.5 6.2); dcmjs would truncate silently with a console warning. */
export function ds(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite number: ${n}`);
  for (let digits = 10; digits >= 1; digits--) {
    const s = String(Number(n.toPrecision(digits)));
    if (s.length <= 16) return s;
  }
  return n.toExponential(6);
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** DA in the node's local time, as the rest of the study's dates are. */
export function dicomDate(d: Date): string {
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}`;
}

export function dicomTime(d: Date): string {
  return `${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
}

/** Timezone Offset From UTC (SH, "+HHMM") for the local date and time above. */
export function timezoneOffset(d: Date): string {
  const minutes = -d.getTimezoneOffset();
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}

/** LO values (Manufacturer's Model Name, Software Versions, ...) hold at most 64 characters. */
export function lo(value: string): string {
  return value.length <= 64 ? value : value.slice(0, 64);
}

/** Invalid UIDs would make every object invalid; they come from the model card or the caller. */
function checkUids(options: ObjectOptions): void {
  if (!isValidUid(options.model.deviceUID)) {
    throw new PrecedentError('MODEL_INVALID', `model ${options.model.name} ${options.model.version} has an invalid Device UID "${options.model.deviceUID}"`);
  }
  for (const [name, uid] of [
    ['SeriesInstanceUID', options.SeriesInstanceUID],
    ['SOPInstanceUID', options.SOPInstanceUID],
  ] as const) {
    if (uid !== undefined && !isValidUid(uid)) throw new RangeError(`${name} "${uid}" is not a valid UID`);
  }
}

export interface SeriesSpec {
  SOPClassUID: string;
  Modality: string;
  /** LO: at most 64 characters. */
  SeriesDescription: string;
  defaultSeriesNumber: number;
}

/**
 * SOP Common, Patient, General Study, Patient Study (copied), General Series (new), General and
 * Enhanced General Equipment and the Contributing Equipment item of IHE AIR.
 */
export function commonModules(options: ObjectOptions, spec: SeriesSpec): NaturalDataset {
  checkUids(options);
  const { source, model } = options;
  const now = options.now ?? new Date();
  const producer = options.producer ?? {};
  const manufacturer = lo(producer.manufacturer ?? 'Precedent');
  const date = dicomDate(now);
  const time = dicomTime(now);
  const dataset: NaturalDataset = {
    // SOP Common (C.12.1); Specific Character Set is decided by writePart10 from the values.
    SOPClassUID: spec.SOPClassUID,
    SOPInstanceUID: options.SOPInstanceUID ?? newUid(),
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    TimezoneOffsetFromUTC: timezoneOffset(now),
    // Patient, General Study, Patient Study: the source's, verbatim, so the PACS files us with it.
    ...source.patientStudy,
    StudyInstanceUID: source.StudyInstanceUID,
    // General Series / SR Document Series: a new series in the same study.
    Modality: spec.Modality,
    SeriesInstanceUID: options.SeriesInstanceUID ?? newUid(),
    SeriesNumber: String(options.SeriesNumber ?? spec.defaultSeriesNumber),
    SeriesDate: date,
    SeriesTime: time,
    SeriesDescription: spec.SeriesDescription,
    // General Equipment (C.7.5.1) and Enhanced General Equipment (C.7.5.2): the node.
    Manufacturer: manufacturer,
    ManufacturerModelName: lo(producer.modelName ?? 'Precedent'),
    DeviceSerialNumber: lo(producer.deviceSerialNumber ?? '0'),
    SoftwareVersions: lo(producer.softwareVersion ?? IMPLEMENTATION_VERSION_NAME),
    InstanceNumber: String(options.InstanceNumber ?? 1),
    ContentDate: date,
    ContentTime: time,
    // IHE AIR: the algorithm, with a Device UID that changes whenever the model changes.
    ContributingEquipmentSequence: [
      {
        PurposeOfReferenceCodeSequence: [{ ...PROCESSING_ALGORITHM }],
        Manufacturer: manufacturer,
        ManufacturerModelName: lo(model.name),
        SoftwareVersions: lo(model.version),
        DeviceUID: model.deviceUID,
        ContributionDateTime: `${date}${time}${timezoneOffset(now)}`,
        ContributionDescription: 'Similar-case retrieval (deep metric learning) and neighbour vote',
      },
    ],
  };
  if (producer.institutionName !== undefined) dataset['InstitutionName'] = lo(producer.institutionName);
  return dataset;
}

/** True when some string value anywhere in the data set has a character outside ASCII. */
export function hasNonAscii(value: unknown): boolean {
  if (typeof value === 'string') return [...value].some((ch) => (ch.codePointAt(0) ?? 0) > 0x7f);
  if (Array.isArray(value)) return value.some(hasNonAscii);
  if (value !== null && typeof value === 'object' && !(value instanceof ArrayBuffer) && !ArrayBuffer.isView(value)) {
    return Object.values(value).some(hasNonAscii);
  }
  return false;
}

/** Writes a naturalized data set as a Part 10 file (Explicit VR Little Endian). */
/**
 * Writes a Part 10 file in `transferSyntaxUID`. For an encapsulated syntax PixelData holds one
 * compressed frame, written as one fragment (some readers mishandle a frame split across fragments).
 */
export function writePart10(dataset: NaturalDataset, transferSyntaxUID: string = TransferSyntax.ExplicitVRLittleEndian): DicomObject {
  const schemes = localSchemes(designatorsIn(dataset));
  const full: NaturalDataset = { ...dataset };
  // Required (Type 1C) whenever a coding scheme outside PS3.16 Table 8-1 is used.
  if (schemes.length > 0) full['CodingSchemeIdentificationSequence'] = schemes;
  // dcmjs encodes every string as UTF-8. Plain ASCII is the default repertoire and needs no
  // Specific Character Set (Type 1C); anything else is declared as UTF-8 (ISO_IR 192).
  if (hasNonAscii(full)) full['SpecificCharacterSet'] = 'ISO_IR 192';
  else delete full['SpecificCharacterSet'];
  const SOPClassUID = String(full['SOPClassUID']);
  const SOPInstanceUID = String(full['SOPInstanceUID']);
  const meta = dcmjs.data.DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: SOPClassUID,
    MediaStorageSOPInstanceUID: SOPInstanceUID,
    TransferSyntaxUID: transferSyntaxUID,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION_NAME,
  });
  const dict = new dcmjs.data.DicomDict(meta);
  dict.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(full);
  return {
    bytes: Buffer.from(dict.write({ fragmentMultiframe: false })),
    SOPClassUID,
    SOPInstanceUID,
    SeriesInstanceUID: String(full['SeriesInstanceUID']),
    StudyInstanceUID: String(full['StudyInstanceUID']),
    TransferSyntaxUID: transferSyntaxUID,
  };
}

/** A retrieval result must be about the image whose patient and study the object copies. */
export function checkRetrievalMatches(retrieval: RetrievalResult, options: ObjectOptions): void {
  const { source } = options;
  if (retrieval.SOPInstanceUID !== source.SOPInstanceUID || retrieval.StudyInstanceUID !== source.StudyInstanceUID) {
    throw new PrecedentError('DATASET_MISMATCH', `retrieval result is for ${retrieval.SOPInstanceUID}, the source image is ${source.SOPInstanceUID}`);
  }
}

/** The source image as a Hierarchical SOP Instance Reference (evidence sequences, C.17.2.1). */
export function sourceEvidence(options: ObjectOptions): NaturalDataset[] {
  const { source } = options;
  return [
    {
      StudyInstanceUID: source.StudyInstanceUID,
      ReferencedSeriesSequence: [
        {
          SeriesInstanceUID: source.SeriesInstanceUID,
          ReferencedSOPSequence: [{ ReferencedSOPClassUID: source.SOPClassUID, ReferencedSOPInstanceUID: source.SOPInstanceUID }],
        },
      ],
    },
  ];
}
