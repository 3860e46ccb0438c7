import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseHeader } from '../src/ingest/index.js';
import { SopClass } from '../src/dicom/uids.js';
import { triage } from '../src/ingest/triage.js';
import { sharedDir } from './fixtures/build.js';
import type { InstanceHeader } from '../src/shared/types.js';

const cxr: InstanceHeader = {
  SOPClassUID: SopClass.DigitalXRayImageStorageForPresentation,
  SOPInstanceUID: '1.2.3',
  StudyInstanceUID: '1.2',
  SeriesInstanceUID: '1.2.4',
  Modality: 'DX',
  BodyPartExamined: 'CHEST',
  AnatomicRegionCodes: [],
  ViewPosition: 'PA',
  PresentationIntentType: 'FOR PRESENTATION',
  ImageType: ['ORIGINAL', 'PRIMARY'],
  ConversionType: '',
  hasPixelData: true,
};

describe('triage: frontal chest radiographs only', () => {
  it.each([
    ['DX PA', {}],
    ['DX AP', { ViewPosition: 'AP' }],
    ['no view position', { ViewPosition: '' }],
    ['CR', { SOPClassUID: SopClass.ComputedRadiographyImageStorage, Modality: 'CR' }],
    ['SC with chest body part', { SOPClassUID: SopClass.SecondaryCaptureImageStorage, Modality: 'OT' }],
    ['SC of a digitised film', { SOPClassUID: SopClass.SecondaryCaptureImageStorage, Modality: 'OT', ConversionType: 'DF' }],
    [
      'radiograph exported as SC by a workstation, no Image Type',
      { SOPClassUID: SopClass.SecondaryCaptureImageStorage, Modality: 'CR', ConversionType: 'WSD', ImageType: [] },
    ],
    ['chest code instead of body part', { BodyPartExamined: '', AnatomicRegionCodes: ['SCT:51185008'] }],
  ])('analyses %s', (_name, change) => {
    expect(triage({ ...cxr, ...change })).toEqual({ analyzable: true });
  });

  it.each([
    ['lateral', { ViewPosition: 'LL' }, /View Position LL/],
    ['hand', { BodyPartExamined: 'HAND' }, /body part HAND/],
    ['no body part', { BodyPartExamined: '' }, /body part none/],
    ['CT', { SOPClassUID: '1.2.840.10008.5.1.4.1.1.2', Modality: 'CT' }, /SOP Class 1\.2\.840\.10008\.5\.1\.4\.1\.1\.2 /],
    [
      'a Basic Text SR (read as a report instead)',
      { SOPClassUID: '1.2.840.10008.5.1.4.1.1.88.11', hasPixelData: false },
      /structured report: read as the study's radiology report/,
    ],
    ['a Comprehensive 3D SR (our own results)', { SOPClassUID: '1.2.840.10008.5.1.4.1.1.88.34', hasPixelData: false }, /not a radiograph/],
    ['DX for processing', { SOPClassUID: SopClass.DigitalXRayImageStorageForProcessing }, /For Processing/],
    ['no pixel data', { hasPixelData: false }, /no Pixel Data/],
    ['SC of another body part', { SOPClassUID: SopClass.SecondaryCaptureImageStorage, BodyPartExamined: 'ABDOMEN' }, /ABDOMEN/],
    [
      'derived SC made on a workstation (e.g. an AI heatmap)',
      { SOPClassUID: SopClass.SecondaryCaptureImageStorage, ConversionType: 'WSD', ImageType: ['DERIVED', 'SECONDARY'] },
      /derived Secondary Capture with Conversion Type WSD/,
    ],
  ])('ignores %s with a reason', (_name, change, reason) => {
    const verdict = triage({ ...cxr, ...change });
    expect(verdict.analyzable).toBe(false);
    expect(verdict.analyzable ? '' : verdict.reason).toMatch(reason);
  });
});

describe('triage of the real shared CR chest file', () => {
  it('analyses it: an RSNA radiograph stored as a Secondary Capture (Modality CR, Conversion Type WSD)', () => {
    const bytes = readFileSync(join(sharedDir(), 'data', 'dicom', 'rsna-cr-chest-ap-jpeg-baseline.dcm'));
    const parsed = parseHeader(bytes, true, '1.2.840.10008.1.2.4.50');
    expect(parsed?.header).toMatchObject({ SOPClassUID: SopClass.SecondaryCaptureImageStorage, Modality: 'CR', ConversionType: 'WSD', ImageType: [] });
    expect(triage(parsed?.header ?? cxr)).toEqual({ analyzable: true });
  });
});
