// Inputs for the report/ tests: a real source image (buildFixture from the shared radiographs), a
// synthetic retrieval result of five labelled cases, and a model identity.
import { readFile } from 'node:fs/promises';
import type { DecodedImage, AttentionMap } from '../../src/shared/analysis.js';
import type { CaseRecord, RetrievalResult } from '../../src/shared/cases.js';
import { readSourceImage, type ModelIdentity, type SourceImage } from '../../src/report/index.js';
import type { RenderRequest } from '../../src/render/index.js';
import { buildFixture, loadSharedImage, newUid, type Fixture, type PixelVariant } from '../fixtures/build.js';

export const MODEL: ModelIdentity = { name: 'cxr-msl-attn', version: '2.1.0', deviceUID: '2.25.300912212870129548305186237811932485651' };

export interface SourceFixture {
  fixture: Fixture;
  bytes: Buffer;
  source: SourceImage;
}

export async function sourceFixture(variant: PixelVariant, dir: string, extra: { patientName?: string; patientID?: string } = {}): Promise<SourceFixture> {
  const fixture = await buildFixture({ variant, syntax: 'ele', maxSize: 384, ...extra }, dir);
  const bytes = await readFile(fixture.path);
  return { fixture, bytes, source: readSourceImage(bytes) };
}

function caseRecord(i: number, labels: string[], age: number | null, sex: CaseRecord['sex'], outcomes: Record<string, string>): CaseRecord {
  return {
    caseKey: String(1000 + i),
    SOPInstanceUID: newUid(),
    StudyInstanceUID: newUid(),
    AccessionNumber: i === 4 ? '' : `ACC${String(i).padStart(4, '0')}`,
    StudyDate: i === 4 ? '' : `2020040${i + 1}`,
    patientKey: `pk${i}`,
    labels,
    age,
    sex,
    outcomes,
    clinical: {},
    source: 'import',
    retrieveAETitle: i === 4 ? '' : 'ARCHIVE_PACS',
    modelVersion: MODEL.version,
  };
}

/** Five cases: 4 COVID-19 (one also labelled pneumonia), 1 normal; mixed outcomes; one with unknown age and sex. */
export function retrievalFor(source: SourceImage): RetrievalResult {
  const records = [
    caseRecord(0, ['COVID-19'], 52, 'F', { intubated: 'Y', went_icu: 'Y', survival: 'Y' }),
    caseRecord(1, ['COVID-19', 'pneumonia'], 74, 'M', { intubated: 'Y', went_icu: 'N', survival: 'N' }),
    caseRecord(2, ['normal'], 35, 'F', { intubated: 'N', went_icu: 'N' }),
    caseRecord(3, ['COVID-19'], 61, 'M', { intubated: 'Y', survival: 'Y' }),
    caseRecord(4, ['COVID-19'], null, null, { intubated: 'N', needed_supplemental_O2: 'Y' }),
  ];
  const similarities = [0.934, 0.911, 0.887, 0.861, 0.842];
  return {
    SOPInstanceUID: source.SOPInstanceUID,
    StudyInstanceUID: source.StudyInstanceUID,
    modelName: MODEL.name,
    modelVersion: MODEL.version,
    k: 5,
    cases: records.map((record, i) => ({ rank: i + 1, similarity: similarities[i] ?? 0, case: record })),
    vote: [
      { label: 'COVID-19', probability: 0.8 },
      { label: 'normal', probability: 0.2 },
    ],
  };
}

/** A shared radiograph (labels.csv row) as [0, 1] grey, the way decode/ hands images over. */
export async function decodedImage(imageIndex: number, maxSize = 384): Promise<DecodedImage> {
  const img = await loadSharedImage(imageIndex, maxSize);
  const pixels = new Float32Array(img.width * img.height);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (img.data[i] ?? 0) / 255;
  return { width: img.width, height: img.height, pixels, notes: [] };
}

/** A smooth blob of attention (two lung-like lobes), at a low resolution as the catalog stores it. */
export function attentionMap(width = 96, height = 80): AttentionMap {
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const lobe = (cx: number, cy: number, s: number): number => Math.exp(-(((x / width - cx) ** 2 + (y / height - cy) ** 2) / (2 * s * s)));
      data[y * width + x] = Math.min(1, lobe(0.32, 0.55, 0.12) + 0.7 * lobe(0.7, 0.45, 0.09));
    }
  }
  return { width, height, data };
}

/** A render request for `sourcePath` with the standard attention map, model and result UIDs. */
export function renderRequestFor(sourcePath: string, retrieval: RetrievalResult, casePaths: Record<string, string>, softwareVersion: string): RenderRequest {
  const uid = (n: number) => ({ sr: `2.25.${n}1`, heatmap: `2.25.${n}2`, cases: `2.25.${n}3` });
  return {
    sourcePath,
    casePaths,
    caseThumbnails: {},
    retrieval,
    attention: attentionMap(),
    SeriesInstanceUID: uid(11),
    SOPInstanceUID: uid(22),
    model: MODEL,
    producer: { softwareVersion },
    now: Date.UTC(2026, 10, 22, 9, 30),
  };
}

/**
 * The Type 2 Patient and General Study attributes every result copies from its source (PS3.3 C.7.1.1,
 * C.7.2.1). Written out here on purpose rather than imported from src/report/source.ts: a test that
 * took the list it checks from the code under test could not notice an attribute dropped from it.
 */
export const SOURCE_TYPE2 = [
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
