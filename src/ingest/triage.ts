// Which received objects we analyse: frontal chest radiographs only. Everything else is acknowledged
// (a PACS auto-routing a whole study must not see failures for its other objects) but not analysed.
import { SopClass } from '../dicom/uids.js';
import type { InstanceHeader, TriageResult } from '../shared/types.js';

// The SR classes a RIS or reporting system sends radiology reports in (TID 2000 and plain text trees).
// Our own similar-cases report is a Comprehensive 3D SR (.88.34): never one of these.
const REPORT_SR_CLASSES = new Set<string>([SopClass.BasicTextSRStorage, SopClass.EnhancedSRStorage, SopClass.ComprehensiveSRStorage]);

// Chest codes in Anatomic Region Sequence: SNOMED CT "Chest" and "Thoracic structure", and their
// legacy SNOMED-RT (SRT) equivalents.
const CHEST_CODES = new Set(['SCT:43799004', 'SCT:51185008', 'SRT:T-D3000', 'SNM3:T-D3000', 'SRT:T-D3100']);
const CHEST_BODY_PARTS = new Set(['CHEST', 'THORAX']);
const FRONTAL_VIEWS = new Set(['PA', 'AP', '']);
// A DERIVED Secondary Capture drawn on a workstation or synthesised is a picture about images: our own
// heatmaps and thumbnail pages (DERIVED\SECONDARY, WSD) carry the source's CHEST body part and would
// otherwise be analysed again when a PACS routes a study's new objects back to us, and other AI
// results look the same. ImageType decides, not Conversion Type alone: radiographs exported as SC
// (the public RSNA CXR set: Modality CR, WSD, no Image Type) must still be analysed.
const NON_RADIOGRAPH_CONVERSIONS = new Set(['WSD', 'SYN', 'DRW']);

export const isReportSr = (SOPClassUID: string): boolean => REPORT_SR_CLASSES.has(SOPClassUID);

export function isChest(h: InstanceHeader): boolean {
  return CHEST_BODY_PARTS.has(h.BodyPartExamined) || h.AnatomicRegionCodes.some((c) => CHEST_CODES.has(c));
}

export function triage(h: InstanceHeader): TriageResult {
  const ignore = (reason: string): TriageResult => ({ analyzable: false, reason });
  switch (h.SOPClassUID) {
    case SopClass.ComputedRadiographyImageStorage:
    case SopClass.DigitalXRayImageStorageForPresentation:
    case SopClass.SecondaryCaptureImageStorage:
      break;
    case SopClass.DigitalXRayImageStorageForProcessing:
      return ignore('DX For Processing image (raw detector data), not a presentation image');
    case SopClass.BasicTextSRStorage:
    case SopClass.EnhancedSRStorage:
    case SopClass.ComprehensiveSRStorage:
      return { analyzable: false, reason: "structured report: read as the study's radiology report, not analysed", report: true };
    default:
      return ignore(`SOP Class ${h.SOPClassUID} is not a radiograph we analyse`);
  }
  if (!h.hasPixelData) return ignore('no Pixel Data');
  if (h.SOPClassUID === SopClass.SecondaryCaptureImageStorage && h.ImageType[0] === 'DERIVED' && NON_RADIOGRAPH_CONVERSIONS.has(h.ConversionType)) {
    return ignore(`derived Secondary Capture with Conversion Type ${h.ConversionType} (a workstation or synthetic image, e.g. an AI result), not a radiograph`);
  }
  if (h.PresentationIntentType === 'FOR PROCESSING') return ignore('Presentation Intent Type is FOR PROCESSING');
  if (!isChest(h)) {
    const part = h.BodyPartExamined || 'none';
    return ignore(`body part ${part} is not chest (Body Part Examined / Anatomic Region Sequence)`);
  }
  if (!FRONTAL_VIEWS.has(h.ViewPosition)) return ignore(`View Position ${h.ViewPosition} is not frontal (PA/AP)`);
  return { analyzable: true };
}
