// Secondary Capture Image IOD (PS3.3 A.8.1) around an 8-bit RGB raster: what every viewer shows,
// with the patient and study of the analysed image so it files into the same study.
import { commonModules, dicomDate, dicomTime, lo, SOP_CLASS, writePart10, type NaturalDataset } from './common.js';
import { DCM } from './codes.js';
import type { RgbImage } from './raster.js';
import type { DicomObject, ObjectOptions } from './types.js';

export interface SecondaryCaptureSpec {
  /** LO: at most 64 characters; must say the image is AI output. */
  SeriesDescription: string;
  defaultSeriesNumber: number;
  /** ST: how the pixels were made (no patient data). */
  DerivationDescription: string;
  /**
   * 'derived': the pixels are computed from the source image (Source Image Sequence);
   * 'related': they only relate to it (Referenced Image Sequence), e.g. other cases' thumbnails.
   */
  sourceRelation: 'derived' | 'related';
}

export function writeSecondaryCapture(options: ObjectOptions, image: RgbImage, spec: SecondaryCaptureSpec): DicomObject {
  const { source, model } = options;
  if ((image.width * image.height * 3) % 2 !== 0) throw new RangeError('RGB pixel data must have an even length (use an even width)');
  const now = options.now ?? new Date();
  const reference = { ReferencedSOPClassUID: source.SOPClassUID, ReferencedSOPInstanceUID: source.SOPInstanceUID };
  const pixels = image.data.buffer.slice(image.data.byteOffset, image.data.byteOffset + image.data.byteLength);
  const dataset: NaturalDataset = {
    ...commonModules(options, {
      SOPClassUID: SOP_CLASS.secondaryCapture,
      // OT: the SC is neither the acquisition modality nor any other listed one (C.7.3.1.1.1).
      Modality: 'OT',
      SeriesDescription: spec.SeriesDescription,
      defaultSeriesNumber: spec.defaultSeriesNumber,
    }),
    // General Series: the node only analyses chest radiographs. Naming the (unpaired) body part is
    // also what makes Laterality (Type 2C) correctly absent.
    BodyPartExamined: 'CHEST',
    // SC Equipment (C.8.6.1): WSD, a workstation made these pixels; the model is the "device".
    ConversionType: 'WSD',
    SecondaryCaptureDeviceManufacturer: lo(options.producer?.manufacturer ?? 'Precedent'),
    SecondaryCaptureDeviceManufacturerModelName: lo(model.name),
    SecondaryCaptureDeviceSoftwareVersions: lo(model.version),
    // General Image (C.7.6.1). Patient Orientation is Type 2C: the heatmap has the source's geometry
    // and keeps its value; a page of other patients' thumbnails has no orientation: present, empty.
    PatientOrientation: spec.sourceRelation === 'derived' ? source.PatientOrientation : [],
    ImageType: ['DERIVED', 'SECONDARY'],
    DerivationDescription: spec.DerivationDescription,
    ...(spec.sourceRelation === 'derived'
      ? { SourceImageSequence: [{ ...reference, PurposeOfReferenceCodeSequence: [{ ...DCM.sourceImageForProcessing }] }] }
      : { ReferencedImageSequence: [reference] }),
    // The caption is burned in; it names the model and the disclaimer, never the patient.
    BurnedInAnnotation: 'YES',
    RecognizableVisualFeatures: 'NO',
    LossyImageCompression: '00',
    // Image Pixel (C.7.6.3)
    SamplesPerPixel: 3,
    PhotometricInterpretation: 'RGB',
    PlanarConfiguration: 0,
    Rows: image.height,
    Columns: image.width,
    BitsAllocated: 8,
    BitsStored: 8,
    HighBit: 7,
    PixelRepresentation: 0,
    // SC Image (C.8.6.2)
    DateOfSecondaryCapture: dicomDate(now),
    TimeOfSecondaryCapture: dicomTime(now),
    PixelData: [pixels],
    _vrMap: { PixelData: 'OB' },
  };
  return writePart10(dataset);
}
