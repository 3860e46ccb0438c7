// Secondary Capture Image IOD (PS3.3 A.8.1) around an 8-bit RGB raster: what every viewer shows,
// with the patient and study of the analysed image so it files into the same study. Written as JPEG
// Baseline when the caller hands an encoder (the node does: uncompressed captures were ~13x the
// received image); export transcodes to Little Endian for a destination that accepts only that.
import { SopClass, TransferSyntax } from '../dicom/uids.js';
import { commonModules, dicomDate, dicomTime, lo, writePart10, type NaturalDataset } from './common.js';
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
  const pixels = pixelModule(image, options.encodeJpegBaseline);
  const dataset: NaturalDataset = {
    ...commonModules(options, {
      SOPClassUID: SopClass.SecondaryCaptureImageStorage,
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
    ...pixels.attributes,
    // Image Pixel (C.7.6.3)
    SamplesPerPixel: 3,
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
    PixelData: [pixels.data],
    _vrMap: { PixelData: 'OB' },
  };
  return writePart10(dataset, pixels.transferSyntaxUID);
}

/** Pixel Data, its Photometric Interpretation and lossy compression attributes, and the transfer syntax. */
function pixelModule(
  image: RgbImage,
  encode: ObjectOptions['encodeJpegBaseline'],
): { data: ArrayBuffer; attributes: NaturalDataset; transferSyntaxUID: string } {
  if (!encode) {
    const data = image.data.buffer.slice(image.data.byteOffset, image.data.byteOffset + image.data.byteLength) as ArrayBuffer;
    return { data, attributes: { LossyImageCompression: '00', PhotometricInterpretation: 'RGB' }, transferSyntaxUID: TransferSyntax.ExplicitVRLittleEndian };
  }
  const frame = encode(image);
  return {
    data: frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength) as ArrayBuffer,
    attributes: {
      // Lossy compression is declared with its ratio and method (C.7.6.1.1.5).
      LossyImageCompression: '01',
      LossyImageCompressionRatio: [Number((image.data.length / frame.byteLength).toFixed(2))],
      LossyImageCompressionMethod: ['ISO_10918_1'],
      // A YCbCr codestream with 4:2:2 chrominance (PS3.5 8.2.1).
      PhotometricInterpretation: 'YBR_FULL_422',
    },
    transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit,
  };
}
