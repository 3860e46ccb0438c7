// The Secondary Captures: the attention heatmap and the similar-cases thumbnail page. Written by
// report/, read back by dcmjs and dcmtk (dcmj2pnm renders them pixel for pixel, dcmdump parses),
// validated by dciodvfy; the burned-in text shows the model and the disclaimer, never the patient.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as jpeg from 'jpeg-js';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImageDecoder, createJpegBaselineEncoder, type JpegBaselineEncoder } from '../src/decode/index.js';
import { parseHeader, triage } from '../src/ingest/index.js';
import type { InstanceHeader } from '../src/shared/types.js';
import {
  buildHeatmapSC,
  buildSimilarCasesSC,
  captionLines,
  caseLabelLines,
  DISCLAIMER,
  HEATMAP_SERIES_DESCRIPTION,
  renderHeatmap,
  renderSimilarCases,
  sourceFromDataset,
  THUMBNAILS_SERIES_DESCRIPTION,
  type DicomObject,
  type RgbImage,
  type SourceImage,
} from '../src/report/index.js';
import type { DecodedImage } from '../src/shared/analysis.js';
import type { RetrievalResult } from '../src/shared/cases.js';
import { isValidUid } from '../src/shared/uid.js';
import { readPart10 } from './fixtures/dcmjs.js';
import { attentionMap, decodedImage, MODEL, retrievalFor, SOURCE_TYPE2, sourceFixture, type SourceFixture } from './helpers/report-fixtures.js';
import { dciodvfy, findText, renderWithDcmj2pnm } from './helpers/report-tools.js';
import { requireTool, run } from './helpers/tools.js';

const WHITE = [255, 255, 255];
const AMBER = [255, 210, 0];
const LABEL_BLUE = [170, 220, 255];
const DETAIL_GREY = [220, 220, 220];
const REFERENCE_AMBER = [240, 180, 60];

let dir = '';
const warnings = new Set<string>();
let encodeJpegBaseline: JpegBaselineEncoder;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'precedent-report-sc-'));
  encodeJpegBaseline = await createJpegBaselineEncoder();
});
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
  console.log(`dciodvfy warnings on the Secondary Captures:\n${[...warnings].join('\n')}`);
});

it.each(['dcmj2pnm', 'dcmdump', 'dciodvfy'])('the reader %s is installed', (tool) => {
  expect(requireTool(tool)).toMatch(new RegExp(`/${tool}$`));
});

/** Same patient pixels, another patient's identity: the burned-in pixels must not change. */
function otherPatient(source: SourceImage): SourceImage {
  return sourceFromDataset({
    ...source.patientStudy,
    SOPClassUID: source.SOPClassUID,
    SOPInstanceUID: source.SOPInstanceUID,
    SeriesInstanceUID: source.SeriesInstanceUID,
    PatientOrientation: source.PatientOrientation,
    PatientName: [{ Alphabetic: 'SOMEONE^ELSE' }],
    PatientID: 'OTHER-ID-9999',
    PatientBirthDate: '19700101',
    AccessionNumber: 'ACC999',
  });
}

/** The one JPEG Baseline frame, decoded by jpeg-js (an independent reader of the codestream). */
function decodedFrame(ds: Record<string, unknown>): RgbImage {
  const value = (ds['PixelData'] as ArrayBuffer[])[0] as ArrayBuffer;
  const frame = Buffer.from(value);
  // SOI, then a baseline SOF0 (0xFFC0) of 8 bits, 3 components, Y sampled 2x1 and Cb, Cr 1x1 (4:2:2).
  expect(frame.subarray(0, 2).toString('hex')).toBe('ffd8');
  const sof = frame.indexOf(Buffer.from([0xff, 0xc0]));
  expect(sof).toBeGreaterThan(0);
  expect([frame[sof + 4], frame[sof + 9], frame[sof + 11], frame[sof + 14], frame[sof + 17]]).toEqual([8, 3, 0x21, 0x11, 0x11]);
  const rgba = jpeg.decode(frame, { useTArray: true, formatAsRGBA: true });
  const data = new Uint8Array(rgba.width * rgba.height * 3);
  for (let i = 0, j = 0; j < data.length; i += 4, j += 3) data.set(rgba.data.subarray(i, i + 3), j);
  return { width: rgba.width, height: rgba.height, data };
}

/** Lossy but faithful: the mean absolute error per sample at JPEG quality 90 stays small. */
function expectClose(actual: RgbImage, expected: RgbImage, what: string): void {
  expect({ [what]: [actual.width, actual.height] }).toEqual({ [what]: [expected.width, expected.height] });
  let sum = 0;
  for (let i = 0; i < expected.data.length; i++) sum += Math.abs((actual.data[i] ?? 0) - (expected.data[i] ?? 0));
  expect(sum / expected.data.length, `${what}: mean absolute error`).toBeLessThan(2.5);
}

/** What every SC must carry, whatever its pixels. */
function expectSecondaryCapture(ds: Record<string, unknown>, page: RgbImage, src: SourceFixture, seriesDescription: string): void {
  expect(ds['SOPClassUID']).toBe('1.2.840.10008.5.1.4.1.1.7');
  expect(ds).toMatchObject({
    SamplesPerPixel: 3,
    PhotometricInterpretation: 'YBR_FULL_422',
    PlanarConfiguration: 0,
    BitsAllocated: 8,
    BitsStored: 8,
    HighBit: 7,
    PixelRepresentation: 0,
    Rows: page.height,
    Columns: page.width,
    ImageType: ['DERIVED', 'SECONDARY'],
    ConversionType: 'WSD',
    BurnedInAnnotation: 'YES',
    Modality: 'OT',
    LossyImageCompression: '01',
    LossyImageCompressionMethod: 'ISO_10918_1',
  });
  expect(Number(ds['LossyImageCompressionRatio'])).toBeGreaterThan(3);
  expectClose(decodedFrame(ds), page, 'jpeg-js decodes the page');
  expect(ds['StudyInstanceUID']).toBe(src.fixture.studyInstanceUID);
  expect(ds['SeriesInstanceUID']).not.toBe(src.fixture.seriesInstanceUID);
  expect(isValidUid(String(ds['SeriesInstanceUID']))).toBe(true);
  expect(ds['SeriesDescription']).toBe(seriesDescription);
  expect(String(ds['SeriesDescription'])).toContain('NOT FOR DIAGNOSTIC USE');
  const source = readPart10(src.bytes).dataset;
  for (const k of SOURCE_TYPE2) {
    expect({ [k]: ds[k] }).toEqual({ [k]: source[k] });
  }
  // Patient Orientation (Type 2C): the heatmap has the source's geometry; a grid of other patients has none.
  expect(source['PatientOrientation']).toEqual(['L', 'F']);
  const derived = ds['SourceImageSequence'] !== undefined;
  expect(ds['PatientOrientation'] ?? '').toEqual(derived ? source['PatientOrientation'] : '');
  expect(ds['ContributingEquipmentSequence']).toMatchObject([
    {
      PurposeOfReferenceCodeSequence: [{ CodeValue: 'Newcode1', CodingSchemeDesignator: '99IHE', CodeMeaning: 'Processing Algorithm' }],
      ManufacturerModelName: MODEL.name,
      SoftwareVersions: MODEL.version,
      DeviceUID: MODEL.deviceUID,
    },
  ]);
}

/** The caption names the model and carries the disclaimer; no identity of the patient is drawn. */
function expectCaptionWithoutIdentity(page: RgbImage, source: SourceImage): void {
  const [modelLine, disclaimer] = captionLines(MODEL);
  expect(disclaimer).toBe(DISCLAIMER);
  expect(findText(page, disclaimer, AMBER), 'disclaimer').not.toBeNull();
  expect(findText(page, modelLine, WHITE), 'model line').not.toBeNull();
  const identities = [String(source.patientStudy['PatientID']), 'PATIENT', String(source.patientStudy['AccessionNumber'])];
  expect(identities[0]).toBe('PRECEDENT-TEST-0001');
  for (const identity of identities) {
    for (const colour of [WHITE, AMBER, LABEL_BLUE]) expect(findText(page, identity, colour), `${identity} burned in`).toBeNull();
  }
}

async function expectReadersAgree(obj: DicomObject, page: RgbImage, name: string): Promise<void> {
  const file = path.join(dir, `${name}.dcm`);
  await writeFile(file, obj.bytes);
  const rendered = await renderWithDcmj2pnm(file, path.join(dir, `${name}.ppm`));
  expectClose(rendered, page, 'dcmj2pnm renders the page');
  const dump = await run('dcmdump', ['-q', file]);
  expect(dump.code === 0 ? '' : `exit ${dump.code}: ${dump.stderr}`).toBe('');
  expect(dump.stdout).toContain('(0028,0004) CS [YBR_FULL_422]');
  expect(dump.stdout).toContain('(0002,0010) UI =JPEGBaseline');
  const v = await dciodvfy(file);
  for (const w of v.warnings) warnings.add(w);
  // Any error line makes the assertion print dciodvfy's whole output.
  expect(v.errors.length > 0 ? v.output : '').toBe('');
  expect(v.output).toContain('SCImage');
}

describe.each(['dx12', 'cr12m1'] as const)('Secondary Captures for a %s source', (variant) => {
  let src: SourceFixture;
  let image: DecodedImage;
  let retrieval: RetrievalResult;
  let caseImages: Map<string, DecodedImage>;

  beforeAll(async () => {
    src = await sourceFixture(variant, dir);
    image = await createImageDecoder().decodeFile(src.fixture.path);
    retrieval = retrievalFor(src.source);
    caseImages = new Map();
    // Case 3 has no pixels at hand: it must show a placeholder, not shift the others.
    for (const [i, c] of retrieval.cases.entries()) if (i !== 2) caseImages.set(c.case.SOPInstanceUID, await decodedImage(10 + i));
  });

  describe('attention heatmap', () => {
    let obj: DicomObject;
    let ds: Record<string, unknown>;
    let page: RgbImage;

    beforeAll(() => {
      const input = { source: src.source, model: MODEL, image, attention: attentionMap(), encodeJpegBaseline };
      obj = buildHeatmapSC(input);
      page = renderHeatmap(input);
      ds = readPart10(obj.bytes).dataset;
    });

    it('is an 8-bit colour JPEG Baseline Secondary Capture in the source study, referencing the source image', () => {
      expectSecondaryCapture(ds, page, src, HEATMAP_SERIES_DESCRIPTION);
      expect(ds['SourceImageSequence']).toMatchObject([
        {
          ReferencedSOPClassUID: src.fixture.sopClassUID,
          ReferencedSOPInstanceUID: src.fixture.sopInstanceUID,
          PurposeOfReferenceCodeSequence: [{ CodeValue: '121322', CodingSchemeDesignator: 'DCM' }],
        },
      ]);
    });

    it('shows the radiograph, coloured where the model attends and grey where it does not', () => {
      const at = (x: number, y: number): number[] => Array.from(page.data.subarray((y * page.width + x) * 3, (y * page.width + x) * 3 + 3));
      // attentionMap() peaks at (0.32, 0.55) of the image and is ~0 in the top-left corner.
      const fitted = { w: Math.min(image.width, page.width), h: Math.min(image.height, page.height) };
      const [r0, g0, b0] = at(2, 2);
      expect(r0 === g0 && g0 === b0, 'no colour where attention is ~0').toBe(true);
      const [r, g, b] = at(Math.round(0.32 * fitted.w), Math.round(0.55 * fitted.h));
      expect(Math.max(r ?? 0, g ?? 0, b ?? 0) - Math.min(r ?? 0, g ?? 0, b ?? 0), 'colour at the peak').toBeGreaterThan(40);
    });

    it('carries a colour bar, says the colour is model attention and not a lesion map, and no patient identity', () => {
      expect(findText(page, 'HIGH', WHITE)).not.toBeNull();
      expect(findText(page, 'COLOUR: MODEL ATTENTION, NOT A LESION MAP', WHITE)).not.toBeNull();
      expect(findText(page, 'LOW', WHITE)).not.toBeNull();
      expectCaptionWithoutIdentity(page, src.source);
      const other = renderHeatmap({ source: otherPatient(src.source), model: MODEL, image, attention: attentionMap() });
      expect(Buffer.from(other.data).equals(Buffer.from(page.data)), 'pixels independent of patient identity').toBe(true);
    });

    it('is rendered by dcmj2pnm, parsed by dcmdump and passes dciodvfy', async () => {
      await expectReadersAgree(obj, page, `${variant}-heatmap`);
    });

    it('is acknowledged but not analysed when routed back to the node', () => {
      expectIgnoredWhenRoutedBack(obj);
    });
  });

  describe('similar-cases thumbnail page', () => {
    let obj: DicomObject;
    let ds: Record<string, unknown>;
    let page: RgbImage;

    beforeAll(() => {
      const input = { source: src.source, model: MODEL, retrieval, caseImages, encodeJpegBaseline };
      obj = buildSimilarCasesSC(input);
      page = renderSimilarCases(input);
      ds = readPart10(obj.bytes).dataset;
    });

    it('is an 8-bit colour JPEG Baseline Secondary Capture in the source study, related to the source image', () => {
      expectSecondaryCapture(ds, page, src, THUMBNAILS_SERIES_DESCRIPTION);
      expect(ds['ReferencedImageSequence']).toMatchObject([
        { ReferencedSOPClassUID: src.fixture.sopClassUID, ReferencedSOPInstanceUID: src.fixture.sopInstanceUID },
      ]);
    });

    it('labels every case with rank, cosine, full labels, age, sex and outcomes, gives the vote, and marks missing pixels', () => {
      expect(findText(page, '5 MOST SIMILAR PRIOR CASES: 4 COVID-19,', WHITE)).not.toBeNull();
      expect(findText(page, 'VOTE: COVID-19 80%, NORMAL 20%', LABEL_BLUE)).not.toBeNull();
      for (const c of retrieval.cases) {
        const { head, labels, details } = caseLabelLines(c);
        expect(findText(page, head, WHITE), `${head}`).not.toBeNull();
        expect(findText(page, labels, LABEL_BLUE), `${labels}`).not.toBeNull();
        expect(findText(page, details[0] ?? '', DETAIL_GREY), `${details[0]}`).not.toBeNull();
      }
      expect(caseLabelLines(retrieval.cases[0]!)).toEqual({
        head: '#1 COS 0.934',
        labels: 'COVID-19',
        details: ['52 Y F', 'INTUBATED Y, ICU Y, SURVIVED Y'],
        reference: null,
      });
      // No case of this retrieval is a public reference case: no tag anywhere.
      expect(findText(page, 'PUBLIC REF', REFERENCE_AMBER)).toBeNull();
      expect(findText(page, 'NO IMAGE', [200, 200, 200])).not.toBeNull();
      expectCaptionWithoutIdentity(page, src.source);
      const other = renderSimilarCases({ source: otherPatient(src.source), model: MODEL, retrieval, caseImages });
      expect(Buffer.from(other.data).equals(Buffer.from(page.data)), 'pixels independent of patient identity').toBe(true);
    });

    it('tags a public reference case PUBLIC REF under its details', () => {
      const [first, ...rest] = retrieval.cases;
      const reference = { ...retrieval, cases: [{ ...first!, case: { ...first!.case, publicCollection: 'NIH ChestX-ray14' } }, ...rest] };
      expect(caseLabelLines(reference.cases[0]!).reference).toBe('PUBLIC REF');
      const tagged = renderSimilarCases({ source: src.source, model: MODEL, retrieval: reference, caseImages });
      expect(findText(tagged, 'PUBLIC REF', REFERENCE_AMBER)).not.toBeNull();
    });

    it('is rendered by dcmj2pnm, parsed by dcmdump and passes dciodvfy', async () => {
      await expectReadersAgree(obj, page, `${variant}-thumbnails`);
    });

    it('is acknowledged but not analysed when routed back to the node', () => {
      expectIgnoredWhenRoutedBack(obj);
    });
  });
});

/** A PACS that routes a study's new objects back to the node must not make it analyse its own results. */
function expectIgnoredWhenRoutedBack(obj: DicomObject): void {
  const { meta } = readPart10(obj.bytes);
  const parsed = parseHeader(Buffer.from(obj.bytes), true, String(meta['TransferSyntaxUID']));
  expect(parsed?.header.BodyPartExamined).toBe('CHEST');
  const verdict = triage(parsed?.header ?? ({} as InstanceHeader));
  expect(verdict).toEqual({ analyzable: false, reason: expect.stringMatching(/derived Secondary Capture with Conversion Type WSD/) as string });
}

describe('Secondary Capture limits', () => {
  let src: SourceFixture;
  beforeAll(async () => {
    src = await sourceFixture('dx12', dir);
  });

  /** A large synthetic radiograph (a smooth gradient). */
  function bigImage(width: number, height: number): DecodedImage {
    const pixels = new Float32Array(width * height);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pixels[y * width + x] = (x + y) / (width + height);
    return { width, height, pixels, notes: [] };
  }

  it('caps a heatmap of a 2500 x 3000 radiograph at 1024 pixels on the long side', async () => {
    const input = { source: src.source, model: MODEL, image: bigImage(2500, 3000), attention: attentionMap(128, 128), encodeJpegBaseline };
    const ds = readPart10(buildHeatmapSC(input).bytes).dataset;
    expect(Math.max(Number(ds['Rows']), Number(ds['Columns']))).toBeLessThanOrEqual(1024);
    expect(Number(ds['Rows'])).toBeGreaterThan(900);
    const page = renderHeatmap(input);
    expect(findText(page, DISCLAIMER, AMBER, [3])).not.toBeNull();
    const file = path.join(dir, 'big-heatmap.dcm');
    await writeFile(file, buildHeatmapSC(input).bytes);
    expect((await dciodvfy(file)).errors).toEqual([]);
  });

  it('writes every line of every case of a default 10-case page in full, long labels wrapped, with the match score', () => {
    const five = retrievalFor(src.source);
    const cases = [...five.cases, ...five.cases].map((c, i) => ({
      ...c,
      rank: i + 1,
      case: { ...c.case, caseKey: String(2000 + i), labels: i === 1 ? ['OTHER PNEUMONIA', 'COVID-19'] : c.case.labels },
    }));
    const calibration = { kind: 'percentile' as const, cosines: [0.8, 0.95], scores: [0, 1] };
    const model = { ...MODEL, similarityCalibration: calibration };
    const page = renderSimilarCases({ source: src.source, model, retrieval: { ...five, k: 10, cases } });
    expect(Math.max(page.width, page.height)).toBeLessThanOrEqual(1024);
    for (const c of cases) {
      const { head, details } = caseLabelLines(c, calibration);
      expect(head).toMatch(/^#\d+ SCORE \d\.\d\d$/);
      expect(findText(page, head, WHITE), `${head}`).not.toBeNull();
      // Outcomes wrap in a narrow cell; each one is shown whole.
      for (const d of details.flatMap((line) => line.split(', '))) expect(findText(page, d, DETAIL_GREY), `${d}`).not.toBeNull();
    }
    expect(caseLabelLines(cases[0]!, calibration).details.slice(0, 2)).toEqual(['COS 0.934', '52 Y F']);
    // The label no longer fits one line of a 4-column page: it wraps instead of ending in "..".
    expect(findText(page, 'OTHER PNEUMONIA,', LABEL_BLUE)).not.toBeNull();
    expect(findText(page, 'COVID-19', LABEL_BLUE)).not.toBeNull();
  });

  it('shows a readable message, not an empty black page, when the archive has no cases', async () => {
    const retrieval = { ...retrievalFor(src.source), cases: [], vote: [] };
    const page = renderSimilarCases({ source: src.source, model: MODEL, retrieval });
    expect(findText(page, 'NO REFERENCE CASES IN THE ARCHIVE FROM OTHER PATIENTS:', WHITE)).not.toBeNull();
    expect(findText(page, 'IMPORT REFERENCE CASES (PRECEDENT IMPORT) TO GET SIMILAR-CASE RESULTS', LABEL_BLUE)).not.toBeNull();
    expect(page.height).toBeLessThan(400);
    const file = path.join(dir, 'empty-thumbnails.dcm');
    await writeFile(file, buildSimilarCasesSC({ source: src.source, model: MODEL, retrieval, encodeJpegBaseline }).bytes);
    expect((await dciodvfy(file)).errors).toEqual([]);
  });

  it('caps the thumbnail page at the requested size', () => {
    const retrieval = retrievalFor(src.source);
    const page = renderSimilarCases({ source: src.source, model: MODEL, retrieval, maxSize: 512 });
    expect(Math.max(page.width, page.height)).toBeLessThanOrEqual(512);
    expect(findText(page, 'NO IMAGE', [200, 200, 200])).not.toBeNull();
  });

  it('writes uncompressed RGB (Explicit VR Little Endian) when no JPEG encoder is given', () => {
    const page = renderSimilarCases({ source: src.source, model: MODEL, retrieval: retrievalFor(src.source), maxSize: 256 });
    const { meta, dataset } = readPart10(buildSimilarCasesSC({ source: src.source, model: MODEL, retrieval: retrievalFor(src.source), maxSize: 256 }).bytes);
    expect(meta['TransferSyntaxUID']).toBe('1.2.840.10008.1.2.1');
    expect(dataset).toMatchObject({ PhotometricInterpretation: 'RGB', LossyImageCompression: '00' });
    expect(Buffer.from((dataset['PixelData'] as ArrayBuffer[])[0] as ArrayBuffer).equals(Buffer.from(page.data))).toBe(true);
  });

  it('rejects an attention map whose data does not match its size', () => {
    const attention = { width: 10, height: 10, data: new Float32Array(5) };
    expect(() => buildHeatmapSC({ source: src.source, model: MODEL, image: bigImage(64, 64), attention })).toThrow(/attention map 10x10 has 5 values/);
  });

  it('rejects a retrieval result of another image', () => {
    const retrieval = { ...retrievalFor(src.source), StudyInstanceUID: '1.2.3' };
    expect(() => buildSimilarCasesSC({ source: src.source, model: MODEL, retrieval })).toThrow(/retrieval result is for/);
  });
});
