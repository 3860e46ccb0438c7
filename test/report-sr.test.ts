// The similar-cases SR: written by report/, read back by dcmjs (item by item against the input),
// by dcmtk (dsrdump, dcmdump) and validated by dciodvfy, for a DX and a CR source image.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSimilarCasesSR, readSourceImage, sourceFromDataset, SR_SERIES_DESCRIPTION, type DicomObject } from '../src/report/index.js';
import type { RetrievalResult } from '../src/shared/cases.js';
import { isValidUid } from '../src/shared/uid.js';
import { IMPLEMENTATION_CLASS_UID } from '../src/shared/implementation.js';
import { readPart10 } from './fixtures/dcmjs.js';
import { sharedDir } from './fixtures/build.js';
import { dciodvfy, simplify, type Item } from './helpers/report-tools.js';
import { MODEL, retrievalFor, sourceFixture, type SourceFixture } from './helpers/report-fixtures.js';
import { dcmdumpValue, requireTool, run } from './helpers/tools.js';

let dir = '';
const warnings = new Set<string>();

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'precedent-report-sr-'));
});
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
  console.log(`dciodvfy warnings on the SR:\n${[...warnings].join('\n')}`);
});

it.each(['dsrdump', 'dcmdump', 'dciodvfy'])('the reader %s is installed', (tool) => {
  expect(requireTool(tool)).toMatch(new RegExp(`/${tool}$`));
});

const code = (value: string, scheme: string, meaning: string): string => `${value}^${scheme}^${meaning}`;
const PERCENT = code('%', 'UCUM', 'Percent');
const NO_UNITS = code('1', 'UCUM', 'no units');

function byConcept(items: Item[], concept: string): Item[] {
  return items.filter((i) => i.concept === concept);
}

function only(items: Item[], concept: string): Item {
  const found = byConcept(items, concept);
  expect(found, `${concept}`).toHaveLength(1);
  return found[0] as Item;
}

describe.each(['dx12', 'cr12m1'] as const)('Comprehensive 3D SR for a %s source', (variant) => {
  let src: SourceFixture;
  let retrieval: RetrievalResult;
  let sr: DicomObject;
  let file = '';
  let meta: Record<string, unknown>;
  let ds: Record<string, unknown>;

  beforeAll(async () => {
    src = await sourceFixture(variant, dir);
    retrieval = retrievalFor(src.source);
    sr = buildSimilarCasesSR({ source: src.source, model: MODEL, retrieval });
    file = path.join(dir, `${variant}-sr.dcm`);
    await writeFile(file, sr.bytes);
    ({ meta, dataset: ds } = readPart10(sr.bytes));
  });

  it('is a Part 10 Comprehensive 3D SR in Explicit VR Little Endian with our File Meta', () => {
    expect(sr.bytes.subarray(128, 132).toString('latin1')).toBe('DICM');
    expect(meta['TransferSyntaxUID']).toBe('1.2.840.10008.1.2.1');
    expect(meta['MediaStorageSOPClassUID']).toBe('1.2.840.10008.5.1.4.1.1.88.34');
    expect(meta['MediaStorageSOPInstanceUID']).toBe(ds['SOPInstanceUID']);
    expect(meta['ImplementationClassUID']).toBe(IMPLEMENTATION_CLASS_UID);
    expect(ds['SOPClassUID']).toBe('1.2.840.10008.5.1.4.1.1.88.34');
    expect(sr).toMatchObject({ SOPInstanceUID: ds['SOPInstanceUID'], SeriesInstanceUID: ds['SeriesInstanceUID'], StudyInstanceUID: src.fixture.studyInstanceUID });
  });

  it('joins the source study in a new SR series marked as unverified AI output', () => {
    expect(ds['StudyInstanceUID']).toBe(src.fixture.studyInstanceUID);
    expect(ds['SeriesInstanceUID']).not.toBe(src.fixture.seriesInstanceUID);
    expect(isValidUid(String(ds['SeriesInstanceUID']))).toBe(true);
    expect(isValidUid(String(ds['SOPInstanceUID']))).toBe(true);
    expect(ds['Modality']).toBe('SR');
    expect(ds['SeriesNumber']).toBeDefined();
    expect(ds['SeriesDescription']).toBe(SR_SERIES_DESCRIPTION);
    expect(String(ds['SeriesDescription'])).toContain('NOT FOR DIAGNOSTIC USE');
    expect(ds['VerificationFlag']).toBe('UNVERIFIED');
    expect(ds['CompletionFlag']).toBe('COMPLETE');
  });

  it('copies the Patient and General Study modules from the source image', () => {
    const source = readPart10(src.bytes).dataset;
    for (const k of ['PatientName', 'PatientID', 'IssuerOfPatientID', 'PatientBirthDate', 'PatientSex', 'StudyDate', 'StudyTime', 'ReferringPhysicianName', 'StudyID', 'AccessionNumber', 'StudyDescription', 'PatientAge']) {
      expect({ [k]: ds[k] }).toEqual({ [k]: source[k] });
    }
    expect(ds['PatientID']).toBe('PRECEDENT-TEST-0001');
  });

  it('lists the source image as evidence', () => {
    const evidence = ds['CurrentRequestedProcedureEvidenceSequence'] as Array<Record<string, unknown>>;
    expect(evidence).toHaveLength(1);
    expect(evidence[0]).toMatchObject({
      StudyInstanceUID: src.fixture.studyInstanceUID,
      ReferencedSeriesSequence: [
        { SeriesInstanceUID: src.fixture.seriesInstanceUID, ReferencedSOPSequence: [{ ReferencedSOPClassUID: src.fixture.sopClassUID, ReferencedSOPInstanceUID: src.fixture.sopInstanceUID }] },
      ],
    });
  });

  it('names the algorithm as IHE AIR Contributing Equipment and the node as Enhanced General Equipment', () => {
    const equipment = ds['ContributingEquipmentSequence'] as Array<Record<string, unknown>>;
    expect(equipment).toHaveLength(1);
    expect(equipment[0]).toMatchObject({
      PurposeOfReferenceCodeSequence: [{ CodeValue: 'Newcode1', CodingSchemeDesignator: '99IHE', CodeMeaning: 'Processing Algorithm' }],
      Manufacturer: 'Precedent',
      ManufacturerModelName: MODEL.name,
      SoftwareVersions: MODEL.version,
      DeviceUID: MODEL.deviceUID,
    });
    for (const k of ['Manufacturer', 'ManufacturerModelName', 'DeviceSerialNumber', 'SoftwareVersions']) expect(String(ds[k] ?? ''), `${k}`).not.toBe('');
    const schemes = (ds['CodingSchemeIdentificationSequence'] as Array<Record<string, unknown>>).map((s) => s['CodingSchemeDesignator']);
    expect(schemes.sort()).toEqual(['99IHE', '99PRECEDENT']);
  });

  it('has a TID 1500 root with language, the model as device observer and the procedure reported', () => {
    expect(ds['ValueType']).toBe('CONTAINER');
    expect(ds['ConceptNameCodeSequence']).toMatchObject([{ CodeValue: '126000', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Imaging Measurement Report' }]);
    expect(ds['ContentTemplateSequence']).toMatchObject([{ MappingResource: 'DCMR', TemplateIdentifier: '1500' }]);
    const root = (ds['ContentSequence'] as Array<Record<string, unknown>>).map(simplify);
    expect(root.slice(0, 7).map((i) => [i.rel, i.type, i.concept, i.value])).toEqual([
      ['HAS CONCEPT MOD', 'CODE', code('121049', 'DCM', 'Language of Content Item and Descendants'), code('en', 'RFC5646', 'English')],
      ['HAS OBS CONTEXT', 'CODE', code('121005', 'DCM', 'Observer Type'), code('121007', 'DCM', 'Device')],
      ['HAS OBS CONTEXT', 'UIDREF', code('121012', 'DCM', 'Device Observer UID'), MODEL.deviceUID],
      ['HAS OBS CONTEXT', 'TEXT', code('121013', 'DCM', 'Device Observer Name'), `${MODEL.name} ${MODEL.version}`],
      ['HAS OBS CONTEXT', 'TEXT', code('121014', 'DCM', 'Device Observer Manufacturer'), 'Precedent'],
      ['HAS OBS CONTEXT', 'TEXT', code('121015', 'DCM', 'Device Observer Model Name'), MODEL.name],
      ['HAS CONCEPT MOD', 'CODE', code('121058', 'DCM', 'Procedure reported'), code('399208008', 'SCT', 'Plain chest X-ray')],
    ]);
  });

  it('puts the plain-text summary right after the context, before any container', () => {
    const root = (ds['ContentSequence'] as Array<Record<string, unknown>>).map(simplify);
    const summary = root[7] as Item;
    expect([summary.rel, summary.type, summary.concept]).toEqual(['CONTAINS', 'TEXT', code('121111', 'DCM', 'Summary')]);
    expect(summary.value).toBe(
      '5 most similar prior cases: 4 COVID-19, 1 normal, 1 pneumonia; 3 of 5 intubated; 1 of 3 went to ICU (2 unknown); ' +
        '2 of 3 survived (2 unknown); 1 of 1 needed supplemental O2 (4 unknown). Neighbour vote: COVID-19 80%, normal 20%. ' +
        `Similarity 0.93 to 0.84. Model ${MODEL.name} ${MODEL.version}. AI OUTPUT - NOT FOR DIAGNOSTIC USE.`,
    );
  });

  it('has an Image Library with the source image', () => {
    const root = (ds['ContentSequence'] as Array<Record<string, unknown>>).map(simplify);
    const library = only(root, code('111028', 'DCM', 'Image Library'));
    const group = only(library.children, code('126200', 'DCM', 'Image Library Group'));
    expect(group.children).toEqual([{ rel: 'CONTAINS', type: 'IMAGE', concept: '', value: `${src.fixture.sopClassUID}/${src.fixture.sopInstanceUID}`, children: [] }]);
  });

  it('evaluates each label for the analysed image with its neighbour-vote probability', () => {
    const root = (ds['ContentSequence'] as Array<Record<string, unknown>>).map(simplify);
    const measurements = only(root, code('126010', 'DCM', 'Imaging Measurements'));
    const groups = byConcept(measurements.children, code('125007', 'DCM', 'Measurement Group'));
    expect(groups).toHaveLength(1 + retrieval.cases.length);
    const vote = groups[0] as Item;
    expect(only(vote.children, code('112039', 'DCM', 'Tracking Identifier')).value).toBe('Neighbour vote');
    expect(isValidUid(only(vote.children, code('112040', 'DCM', 'Tracking Unique Identifier')).value)).toBe(true);
    const algorithm = only(vote.children, code('111001', 'DCM', 'Algorithm Name'));
    expect([algorithm.rel, algorithm.value, algorithm.children[0]?.concept, algorithm.children[0]?.value]).toEqual([
      'HAS CONCEPT MOD', MODEL.name, code('111003', 'DCM', 'Algorithm Version'), MODEL.version,
    ]);
    expect(only(vote.children, code('121112', 'DCM', 'Source of Measurement')).value).toBe(`${src.fixture.sopClassUID}/${src.fixture.sopInstanceUID}`);
    const findings = byConcept(vote.children, code('121071', 'DCM', 'Finding'));
    expect(findings.map((f) => [f.type, f.value, f.children.map((c) => [c.rel, c.type, c.concept, c.value])])).toEqual([
      ['CODE', code('840539006', 'SCT', 'COVID-19'), [['HAS PROPERTIES', 'NUM', code('111012', 'DCM', 'Certainty of Finding'), `80 ${PERCENT}`]]],
      ['CODE', code('17621005', 'SCT', 'Normal'), [['HAS PROPERTIES', 'NUM', code('111012', 'DCM', 'Certainty of Finding'), `20 ${PERCENT}`]]],
    ]);
  });

  it('lists each similar case with rank, similarity, labels, age, sex, outcomes, its study and the archive to retrieve it from', () => {
    const root = (ds['ContentSequence'] as Array<Record<string, unknown>>).map(simplify);
    const groups = byConcept(only(root, code('126010', 'DCM', 'Imaging Measurements')).children, code('125007', 'DCM', 'Measurement Group')).slice(1);
    const yes = code('373066001', 'SCT', 'Yes');
    const no = code('373067005', 'SCT', 'No');
    const expected = retrieval.cases.map((c) => {
      const r = c.case;
      const rows: Array<[string, string]> = [
        [code('112039', 'DCM', 'Tracking Identifier'), `Similar case ${c.rank}`],
        [code('RANK', '99PRECEDENT', 'Similarity rank'), `${c.rank} ${NO_UNITS}`],
        [code('COSINE_SIM', '99PRECEDENT', 'Cosine similarity'), `${c.similarity} ${NO_UNITS}`],
        ...r.labels.map((l): [string, string] => [code('121071', 'DCM', 'Finding'), { 'COVID-19': code('840539006', 'SCT', 'COVID-19'), normal: code('17621005', 'SCT', 'Normal'), pneumonia: code('233604007', 'SCT', 'Pneumonia') }[l] ?? '?']),
        ...(r.age === null ? [] : [[code('121033', 'DCM', 'Subject Age'), `${r.age} ${code('a', 'UCUM', 'year')}`] as [string, string]]),
        [code('121032', 'DCM', 'Subject Sex'), ({ F: code('F', 'DCM', 'Female'), M: code('M', 'DCM', 'Male') } as Record<string, string>)[r.sex ?? 'U'] ?? code('U', 'DCM', 'Unknown sex')],
        ...Object.entries(r.outcomes)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]): [string, string] => [
            {
              intubated: code('O_INTUBATED', '99PRECEDENT', 'Intubated'),
              went_icu: code('O_WENT_ICU', '99PRECEDENT', 'Went to ICU'),
              survival: code('O_SURVIVAL', '99PRECEDENT', 'Survived'),
              needed_supplemental_O2: code('O_NEEDED__*', '99PRECEDENT', 'Needed supplemental O2'),
            }[k] ?? '?',
            v === 'Y' ? yes : no,
          ]),
        [code('110180', 'DCM', 'Study Instance UID'), r.StudyInstanceUID],
        ...(r.AccessionNumber === '' ? [] : [[code('121022', 'DCM', 'Accession Number'), r.AccessionNumber] as [string, string]]),
        ...(r.StudyDate === '' ? [] : [[code('111060', 'DCM', 'Study Date'), r.StudyDate] as [string, string]]),
        ...(r.retrieveAETitle === '' ? [] : [[code('RETRIEVE_AE', '99PRECEDENT', 'Retrieve AE Title'), r.retrieveAETitle] as [string, string]]),
      ];
      return rows;
    });
    const actual = groups.map((g) =>
      g.children
        .filter((i) => i.concept !== code('112040', 'DCM', 'Tracking Unique Identifier'))
        // A local Code Value longer than SH's 16 characters keeps a readable prefix and a hash suffix.
        .map((i): [string, string] => [i.concept.replace(/^O_NEEDED__[0-9A-F]{6}\^/, 'O_NEEDED__*^'), i.value]),
    );
    expect(actual).toEqual(expected);
    // Every case's study is referenced by UID (the acceptance check counts them in dsrdump's output).
    expect(new Set(groups.map((g) => only(g.children, code('110180', 'DCM', 'Study Instance UID')).value)).size).toBe(5);
  });

  it('is read by dsrdump, which shows the summary text and the codes', async () => {
    const r = await run('dsrdump', ['+Pl', '+Pc', '+Pt', file]);
    expect(r.code === 0 ? '' : `exit ${r.code}: ${r.stderr}`).toBe('');
    expect(r.stderr).not.toMatch(/^[EF]:/m);
    expect(r.stdout).toContain('Verification Flag   : UNVERIFIED');
    expect(r.stdout).toContain('<CONTAINER:(126000,DCM,"Imaging Measurement Report")=SEPARATE>  # TID 1500 (DCMR)');
    expect(r.stdout).toContain('<contains TEXT:(121111,DCM,"Summary")="5 most similar prior cases: 4 COVID-19, 1 normal, 1 pneumonia; 3 of 5 intubated;');
    expect(r.stdout).toContain('<has obs context UIDREF:(121012,DCM,"Device Observer UID")="2.25.300912212870129548305186237811932485651">');
    expect(r.stdout).toContain('<contains CODE:(121071,DCM,"Finding")=(840539006,SCT,"COVID-19")>');
    expect(r.stdout).toContain('<has properties NUM:(111012,DCM,"Certainty of Finding")="80" (%,UCUM,"Percent")>');
    expect(r.stdout).toContain('<contains NUM:(121033,DCM,"Subject Age")="52" (a,UCUM,"year")>');
    for (const c of retrieval.cases) expect(r.stdout).toContain(`<contains UIDREF:(110180,DCM,"Study Instance UID")="${c.case.StudyInstanceUID}">`);
  });

  it('is parsed by dcmdump', async () => {
    const r = await run('dcmdump', ['-q', file]);
    expect(r.code === 0 ? '' : `exit ${r.code}: ${r.stderr}`).toBe('');
    expect(await dcmdumpValue(file, '0040,a493')).toBe('UNVERIFIED');
    expect(await dcmdumpValue(file, '0020,000d')).toBe(src.fixture.studyInstanceUID);
  });

  it('passes dciodvfy with zero errors', async () => {
    const v = await dciodvfy(file);
    for (const w of v.warnings) warnings.add(w);
    // Any error line makes the assertion print dciodvfy's whole output.
    expect(v.errors.length > 0 ? v.output : '').toBe('');
    expect(v.output).toContain('Comprehensive3DSR');
  });
});

describe('SR edge cases', () => {
  let src: SourceFixture;
  beforeAll(async () => {
    src = await sourceFixture('dx12', dir);
  });

  it('refuses a retrieval result of another image', () => {
    const retrieval = { ...retrievalFor(src.source), SOPInstanceUID: '1.2.3' };
    expect(() => buildSimilarCasesSR({ source: src.source, model: MODEL, retrieval })).toThrow(/retrieval result is for 1\.2\.3/);
  });

  it('refuses a model card with an invalid Device UID, and unparseable source bytes', () => {
    const model = { ...MODEL, deviceUID: '2.25.01' };
    expect(() => buildSimilarCasesSR({ source: src.source, model, retrieval: retrievalFor(src.source) })).toThrow(/invalid Device UID/);
    expect(() => readSourceImage(Buffer.from('not a DICOM file at all'))).toThrow(/cannot be parsed/);
  });

  it('keeps UIDs the caller pins, so a re-run replaces rather than duplicates', () => {
    const pinned = { SeriesInstanceUID: '2.25.1', SOPInstanceUID: '2.25.2', SeriesNumber: 77 };
    const sr = buildSimilarCasesSR({ source: src.source, model: MODEL, retrieval: retrievalFor(src.source), ...pinned });
    const { dataset } = readPart10(sr.bytes);
    expect([dataset['SeriesInstanceUID'], dataset['SOPInstanceUID'], dataset['SeriesNumber']]).toEqual(['2.25.1', '2.25.2', 77]);
  });

  it('declares UTF-8 when a copied value is not ASCII, and dcmtk reads the name back', async () => {
    const source = sourceFromDataset({ ...src.source.patientStudy, SOPClassUID: src.source.SOPClassUID, SOPInstanceUID: src.source.SOPInstanceUID, SeriesInstanceUID: src.source.SeriesInstanceUID, PatientName: [{ Alphabetic: 'MÜLLER^JÖRG' }] });
    const sr = buildSimilarCasesSR({ source, model: MODEL, retrieval: retrievalFor(source) });
    const { dataset } = readPart10(sr.bytes);
    expect(dataset['SpecificCharacterSet']).toBe('ISO_IR 192');
    expect(dataset['PatientName']).toEqual([{ Alphabetic: 'MÜLLER^JÖRG' }]);
    const file = path.join(dir, 'utf8-sr.dcm');
    await writeFile(file, sr.bytes);
    const r = await run('dsrdump', ['+U8', file]);
    expect(r.code === 0 ? '' : `exit ${r.code}: ${r.stderr}`).toBe('');
    expect(r.stdout).toContain('MÜLLER^JÖRG');
    expect((await dciodvfy(file)).errors).toEqual([]);
  });

  it('passes dciodvfy for the real RSNA CR file, whose own Patient\'s Age "68" is malformed', async () => {
    const real = readSourceImage(await readFile(path.join(sharedDir(), 'data', 'dicom', 'rsna-cr-chest-ap-jpeg-baseline.dcm')));
    expect(real.patientStudy['PatientAge']).toBe('068Y');
    const sr = buildSimilarCasesSR({ source: real, model: MODEL, retrieval: retrievalFor(real) });
    const file = path.join(dir, 'rsna-sr.dcm');
    await writeFile(file, sr.bytes);
    expect((await dciodvfy(file)).errors).toEqual([]);
  });

  it('repairs or leaves out malformed copied values instead of writing them', () => {
    const base = { SOPClassUID: src.source.SOPClassUID, SOPInstanceUID: src.source.SOPInstanceUID, SeriesInstanceUID: src.source.SeriesInstanceUID, StudyInstanceUID: src.source.StudyInstanceUID };
    const source = sourceFromDataset({ ...base, PatientAge: '7', StudyDate: '2020-01-31', StudyTime: '1230', PatientSex: 'female', PatientBirthDate: '19700101' });
    expect(source.patientStudy).toMatchObject({ PatientAge: '007Y', StudyDate: '', StudyTime: '1230', PatientSex: '', PatientBirthDate: '19700101' });
    expect(sourceFromDataset({ ...base, PatientAge: 'about 70' }).patientStudy['PatientAge']).toBeUndefined();
    expect(sourceFromDataset({ ...base, PatientAge: '052Y' }).patientStudy['PatientAge']).toBe('052Y');
  });

  it('writes no Specific Character Set for plain ASCII content', () => {
    const sr = buildSimilarCasesSR({ source: src.source, model: MODEL, retrieval: retrievalFor(src.source) });
    expect(readPart10(sr.bytes).dataset['SpecificCharacterSet']).toBeUndefined();
  });

  it('reports an empty neighbourhood in words', () => {
    const retrieval = { ...retrievalFor(src.source), cases: [], vote: [] };
    const { dataset } = readPart10(buildSimilarCasesSR({ source: src.source, model: MODEL, retrieval }).bytes);
    const summary = (dataset['ContentSequence'] as Array<Record<string, unknown>>).map(simplify).find((i) => i.concept === code('121111', 'DCM', 'Summary'));
    expect(summary?.value).toBe(`No similar prior cases found in the archive. Model ${MODEL.name} ${MODEL.version}. AI OUTPUT - NOT FOR DIAGNOSTIC USE.`);
  });
});
