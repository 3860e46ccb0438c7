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
import { MODEL, retrievalFor, SOURCE_TYPE2, sourceFixture, type SourceFixture } from './helpers/report-fixtures.js';
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
    expect(sr).toMatchObject({
      SOPInstanceUID: ds['SOPInstanceUID'],
      SeriesInstanceUID: ds['SeriesInstanceUID'],
      StudyInstanceUID: src.fixture.studyInstanceUID,
    });
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
    for (const k of [...SOURCE_TYPE2, 'IssuerOfPatientID', 'StudyDescription', 'PatientAge']) {
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
        {
          SeriesInstanceUID: src.fixture.seriesInstanceUID,
          ReferencedSOPSequence: [{ ReferencedSOPClassUID: src.fixture.sopClassUID, ReferencedSOPInstanceUID: src.fixture.sopInstanceUID }],
        },
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

  /** The root's Qualitative Evaluations container (TID 1500 row 12). */
  const evaluations = (): Item =>
    only((ds['ContentSequence'] as Array<Record<string, unknown>>).map(simplify), code('C0034375', 'UMLS', 'Qualitative Evaluations'));

  it('orders the root as TID 1500 does: Image Library, Imaging Measurements, Qualitative Evaluations', () => {
    const root = (ds['ContentSequence'] as Array<Record<string, unknown>>).map(simplify);
    expect(root.slice(7).map((i) => [i.rel, i.type, i.concept])).toEqual([
      ['CONTAINS', 'CONTAINER', code('111028', 'DCM', 'Image Library')],
      ['CONTAINS', 'CONTAINER', code('126010', 'DCM', 'Imaging Measurements')],
      ['CONTAINS', 'CONTAINER', code('C0034375', 'UMLS', 'Qualitative Evaluations')],
    ]);
  });

  it('says it in short sentences first, each its own TEXT item', () => {
    const sentences = evaluations()
      .children.filter((i) => i.type === 'TEXT')
      .map((i) => [i.concept, i.value]);
    expect(sentences).toEqual([
      [code('121111', 'DCM', 'Summary'), '5 most similar prior cases: 4 COVID-19, 1 normal, 1 pneumonia'],
      [code('VOTE', '99PRECEDENT', 'Neighbour vote'), 'COVID-19 80%, normal 20% (similarity-weighted vote of 5 cases)'],
      [
        code('OUTCOMES', '99PRECEDENT', 'Outcomes of the similar cases'),
        '3 of 5 intubated; 1 of 3 went to ICU (2 unknown); 2 of 3 survived (2 unknown); 1 of 1 needed supplemental O2 (4 unknown)',
      ],
      [code('SIM_RANGE', '99PRECEDENT', 'Similarity range'), 'Cosine similarity 0.934 to 0.842'],
      [code('121106', 'DCM', 'Comment'), `Model ${MODEL.name} ${MODEL.version}. AI OUTPUT - NOT FOR DIAGNOSTIC USE`],
    ]);
  });

  it('gives every item a concept name (OHIF reads them all) except the image a SCOORD is selected from', () => {
    const unnamed: string[] = [];
    const walk = (items: Item[]): void => {
      for (const i of items) {
        if (i.concept === '' && !(i.rel === 'SELECTED FROM' && i.type === 'IMAGE')) unnamed.push(`${i.rel} ${i.type}`);
        walk(i.children);
      }
    };
    walk((ds['ContentSequence'] as Array<Record<string, unknown>>).map(simplify));
    expect(unnamed).toEqual([]);
  });

  it('keeps every TEXT under 256 characters (Orthanc Explorer hides longer strings) and no NUM in unit "1"', () => {
    const texts: string[] = [];
    const units: string[] = [];
    const walk = (items: Item[]): void => {
      for (const i of items) {
        if (i.type === 'TEXT') texts.push(i.value);
        if (i.type === 'NUM') units.push(i.value.split(' ')[1] ?? '');
        walk(i.children);
      }
    };
    walk((ds['ContentSequence'] as Array<Record<string, unknown>>).map(simplify));
    expect(texts.length).toBeGreaterThan(10);
    expect(texts.filter((t) => t.length >= 256)).toEqual([]);
    expect(new Set(units.map((u) => u.split('^')[0]))).toEqual(new Set(['%', '{rank}', '{cosine}']));
  });

  it('has an Image Library whose entry, the source image, has a concept name', () => {
    const library = only((ds['ContentSequence'] as Array<Record<string, unknown>>).map(simplify), code('111028', 'DCM', 'Image Library'));
    const group = only(library.children, code('126200', 'DCM', 'Image Library Group'));
    expect(group.children).toEqual([
      {
        rel: 'CONTAINS',
        type: 'IMAGE',
        concept: code('121112', 'DCM', 'Source of Measurement'),
        value: `${src.fixture.sopClassUID}/${src.fixture.sopInstanceUID}`,
        children: [],
      },
    ]);
  });

  it('outlines the analysed image in its one measurement group and gives the vote as NUMs and as coded findings', () => {
    const root = (ds['ContentSequence'] as Array<Record<string, unknown>>).map(simplify);
    const measurements = only(root, code('126010', 'DCM', 'Imaging Measurements'));
    expect(measurements.children).toHaveLength(1);
    const vote = only(measurements.children, code('125007', 'DCM', 'Measurement Group'));
    expect(only(vote.children, code('112039', 'DCM', 'Tracking Identifier')).value).toBe('AI similar-case vote of 5 cases');
    // OHIF takes the group's first UIDREF as its tracking UID: it must be the only one.
    expect(vote.children.filter((i) => i.type === 'UIDREF').map((i) => i.concept)).toEqual([code('112040', 'DCM', 'Tracking Unique Identifier')]);
    expect(isValidUid(only(vote.children, code('112040', 'DCM', 'Tracking Unique Identifier')).value)).toBe(true);
    const algorithm = only(vote.children, code('111001', 'DCM', 'Algorithm Name'));
    expect([algorithm.rel, algorithm.value, algorithm.children[0]?.concept, algorithm.children[0]?.value]).toEqual([
      'HAS CONCEPT MOD',
      MODEL.name,
      code('111003', 'DCM', 'Algorithm Version'),
      MODEL.version,
    ]);
    const region = only(vote.children, code('111030', 'DCM', 'Image Region'));
    const { Rows: rows, Columns: cols } = src.source;
    expect(rows).toBeGreaterThan(0);
    // A corner mark a tenth of the smaller side long (OHIF writes the vote beside it, over the image).
    const side = Math.round(Math.min(rows ?? 0, cols ?? 0) / 10);
    expect([region.type, region.value]).toEqual(['SCOORD', `POLYLINE 0,${side},0,0,${side},0`]);
    expect(region.children).toEqual([
      { rel: 'SELECTED FROM', type: 'IMAGE', concept: '', value: `${src.fixture.sopClassUID}/${src.fixture.sopInstanceUID}`, children: [] },
    ]);
    const shares = vote.children.filter((i) => i.type === 'NUM');
    expect(shares.map((n) => [n.concept, n.value, n.children.map((c) => [c.rel, c.concept, c.value])])).toEqual([
      [
        code('V_COVID_19', '99PRECEDENT', 'COVID-19 (neighbour vote)'),
        `80 ${PERCENT}`,
        [['HAS CONCEPT MOD', code('121071', 'DCM', 'Finding'), code('840539006', 'SCT', 'COVID-19')]],
      ],
      [
        code('V_NORMAL', '99PRECEDENT', 'normal (neighbour vote)'),
        `20 ${PERCENT}`,
        [['HAS CONCEPT MOD', code('121071', 'DCM', 'Finding'), code('17621005', 'SCT', 'Normal')]],
      ],
    ]);
    const findings = byConcept(vote.children, code('121071', 'DCM', 'Finding'));
    expect(findings.map((f) => [f.type, f.value, f.children.map((c) => [c.rel, c.type, c.concept, c.value])])).toEqual([
      ['CODE', code('840539006', 'SCT', 'COVID-19'), [['HAS PROPERTIES', 'NUM', code('111012', 'DCM', 'Certainty of Finding'), `80 ${PERCENT}`]]],
      ['CODE', code('17621005', 'SCT', 'Normal'), [['HAS PROPERTIES', 'NUM', code('111012', 'DCM', 'Certainty of Finding'), `20 ${PERCENT}`]]],
    ]);
  });

  it('lists each similar case with a sentence, rank, cosine, labels, age, sex, outcomes, its study and the archive to retrieve it from', () => {
    const groups = byConcept(evaluations().children, code('SIMILAR_CASE', '99PRECEDENT', 'Similar case'));
    const yes = code('373066001', 'SCT', 'Yes');
    const no = code('373067005', 'SCT', 'No');
    const sentences = [
      '#1: COVID-19; 52 years, female; intubated yes, went to ICU yes, survived yes. Cosine similarity 0.934',
      '#2: COVID-19, pneumonia; 74 years, male; intubated yes, went to ICU no, survived no. Cosine similarity 0.911',
      '#3: normal; 35 years, female; intubated no, went to ICU no. Cosine similarity 0.887',
      '#4: COVID-19; 61 years, male; intubated yes, survived yes. Cosine similarity 0.861',
      '#5: COVID-19; age unknown, sex unknown; intubated no, needed supplemental O2 yes. Cosine similarity 0.842',
    ];
    const outcomeCodes: Record<string, string> = {
      intubated: code('O_INTUBATED', '99PRECEDENT', 'Intubated'),
      went_icu: code('O_WENT_ICU', '99PRECEDENT', 'Went to ICU'),
      survival: code('O_SURVIVAL', '99PRECEDENT', 'Survived'),
      needed_supplemental_O2: code('O_NEEDED__*', '99PRECEDENT', 'Needed supplemental O2'),
    };
    const order = ['intubated', 'went_icu', 'survival', 'needed_supplemental_O2'];
    const expected = retrieval.cases.map((c, i) => {
      const r = c.case;
      const rows: Array<[string, string]> = [
        [code('121111', 'DCM', 'Summary'), sentences[i] ?? ''],
        [code('RANK', '99PRECEDENT', 'Similarity rank'), `${c.rank} ${code('{rank}', 'UCUM', 'rank')}`],
        [code('COSINE_SIM', '99PRECEDENT', 'Cosine similarity'), `${c.similarity} ${code('{cosine}', 'UCUM', 'cosine similarity')}`],
        ...r.labels.map((l): [string, string] => [
          code('121071', 'DCM', 'Finding'),
          { 'COVID-19': code('840539006', 'SCT', 'COVID-19'), normal: code('17621005', 'SCT', 'Normal'), pneumonia: code('233604007', 'SCT', 'Pneumonia') }[
            l
          ] ?? '?',
        ]),
        ...(r.age === null ? [] : [[code('121033', 'DCM', 'Subject Age'), `${r.age} years`] as [string, string]]),
        [
          code('121032', 'DCM', 'Subject Sex'),
          ({ F: code('F', 'DCM', 'Female'), M: code('M', 'DCM', 'Male') } as Record<string, string>)[r.sex ?? 'U'] ?? code('U', 'DCM', 'Unknown sex'),
        ],
        ...Object.entries(r.outcomes)
          .sort(([a], [b]) => order.indexOf(a) - order.indexOf(b))
          .map(([k, v]): [string, string] => [outcomeCodes[k] ?? '?', v === 'Y' ? yes : no]),
        [code('110180', 'DCM', 'Study Instance UID'), r.StudyInstanceUID],
        ...(r.AccessionNumber === '' ? [] : [[code('121022', 'DCM', 'Accession Number'), r.AccessionNumber] as [string, string]]),
        ...(r.StudyDate === '' ? [] : [[code('111060', 'DCM', 'Study Date'), r.StudyDate] as [string, string]]),
        ...(r.retrieveAETitle === '' ? [] : [[code('RETRIEVE_AE', '99PRECEDENT', 'Retrieve AE Title'), r.retrieveAETitle] as [string, string]]),
      ];
      return rows;
    });
    // A local Code Value longer than SH's 16 characters keeps a readable prefix and a hash suffix.
    const actual = groups.map((g) => g.children.map((i): [string, string] => [i.concept.replace(/^O_NEEDED__[0-9A-F]{6}\^/, 'O_NEEDED__*^'), i.value]));
    expect(actual).toEqual(expected);
    // Every case's study is referenced by UID (the acceptance check counts them in dsrdump's output).
    expect(new Set(groups.map((g) => only(g.children, code('110180', 'DCM', 'Study Instance UID')).value)).size).toBe(5);
  });

  it('is read by dsrdump, which shows the sentences, the region and the codes', async () => {
    const r = await run('dsrdump', ['+Pl', '+Pc', '+Pt', file]);
    expect(r.code === 0 ? '' : `exit ${r.code}: ${r.stderr}`).toBe('');
    expect(r.stderr).not.toMatch(/^[EFW]:/m);
    expect(r.stdout).toContain('Verification Flag   : UNVERIFIED');
    expect(r.stdout).toContain('<CONTAINER:(126000,DCM,"Imaging Measurement Report")=SEPARATE>  # TID 1500 (DCMR)');
    expect(r.stdout).toContain('<contains TEXT:(121111,DCM,"Summary")="5 most similar prior cases: 4 COVID-19, 1 normal, 1 pneumonia">');
    expect(r.stdout).toContain('<has obs context UIDREF:(121012,DCM,"Device Observer UID")="2.25.300912212870129548305186237811932485651">');
    const side = Math.round(Math.min(src.source.Rows ?? 0, src.source.Columns ?? 0) / 10);
    expect(r.stdout).toContain(`<contains SCOORD:(111030,DCM,"Image Region")=(POLYLINE,0/${side},0/0,${side}/0)>`);
    expect(r.stdout).toContain('<contains NUM:(V_COVID_19,99PRECEDENT,"COVID-19 (neighbour vote)")="80" (%,UCUM,"Percent")>');
    expect(r.stdout).toContain('<has properties NUM:(111012,DCM,"Certainty of Finding")="80" (%,UCUM,"Percent")>');
    expect(r.stdout).toContain('<contains TEXT:(121033,DCM,"Subject Age")="52 years">');
    expect(r.stdout).toContain('<contains NUM:(RANK,99PRECEDENT,"Similarity rank")="1" ({rank},UCUM,"rank")>');
    for (const c of retrieval.cases) expect(r.stdout).toContain(`<contains UIDREF:(110180,DCM,"Study Instance UID")="${c.case.StudyInstanceUID}">`);
  });

  it('is rendered by dsr2html with units that read as words and cosines to three decimals', async () => {
    const r = await run('dsr2html', [file]);
    expect(r.code === 0 ? '' : `exit ${r.code}: ${r.stderr}`).toBe('');
    const html = r.stdout.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(html).toContain('Similarity rank: 1 {rank}');
    expect(html).toContain('Cosine similarity: 0.934 {cosine}');
    expect(html).toContain('Subject Age: 52 years');
    expect(html).not.toMatch(/ 1 1 | \d+ a /);
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
    const source = sourceFromDataset({
      ...src.source.patientStudy,
      SOPClassUID: src.source.SOPClassUID,
      SOPInstanceUID: src.source.SOPInstanceUID,
      SeriesInstanceUID: src.source.SeriesInstanceUID,
      PatientName: [{ Alphabetic: 'MÜLLER^JÖRG' }],
    });
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
    const base = {
      SOPClassUID: src.source.SOPClassUID,
      SOPInstanceUID: src.source.SOPInstanceUID,
      SeriesInstanceUID: src.source.SeriesInstanceUID,
      StudyInstanceUID: src.source.StudyInstanceUID,
    };
    const source = sourceFromDataset({
      ...base,
      PatientAge: '7',
      StudyDate: '2020-01-31',
      StudyTime: '1230',
      PatientSex: 'female',
      PatientBirthDate: '19700101',
    });
    expect(source.patientStudy).toMatchObject({ PatientAge: '007Y', StudyDate: '', StudyTime: '1230', PatientSex: '', PatientBirthDate: '19700101' });
    expect(sourceFromDataset({ ...base, PatientAge: 'about 70' }).patientStudy['PatientAge']).toBeUndefined();
    expect(sourceFromDataset({ ...base, PatientAge: '052Y' }).patientStudy['PatientAge']).toBe('052Y');
  });

  it('writes no Specific Character Set for plain ASCII content', () => {
    const sr = buildSimilarCasesSR({ source: src.source, model: MODEL, retrieval: retrievalFor(src.source) });
    expect(readPart10(sr.bytes).dataset['SpecificCharacterSet']).toBeUndefined();
  });

  it('says in words that the archive has no reference cases, and still outlines the analysed image', async () => {
    const retrieval = { ...retrievalFor(src.source), cases: [], vote: [] };
    const sr = buildSimilarCasesSR({ source: src.source, model: MODEL, retrieval });
    const root = (readPart10(sr.bytes).dataset['ContentSequence'] as Array<Record<string, unknown>>).map(simplify);
    const evaluations = only(root, code('C0034375', 'UMLS', 'Qualitative Evaluations'));
    expect(evaluations.children.map((i) => i.value)).toEqual([
      'No reference cases in the archive from other patients: nothing to compare this image with',
      'Import reference cases (precedent import) to get similar-case results',
      `Model ${MODEL.name} ${MODEL.version}. AI OUTPUT - NOT FOR DIAGNOSTIC USE`,
    ]);
    const group = only(only(root, code('126010', 'DCM', 'Imaging Measurements')).children, code('125007', 'DCM', 'Measurement Group'));
    expect(only(group.children, code('112039', 'DCM', 'Tracking Identifier')).value).toBe('No reference cases in the archive from other patients');
    expect(only(group.children, code('111030', 'DCM', 'Image Region')).type).toBe('SCOORD');
    const file = path.join(dir, 'empty-sr.dcm');
    await writeFile(file, sr.bytes);
    expect((await dciodvfy(file)).errors).toEqual([]);
  });

  it('shows the calibrated match score beside the raw cosine when the model card has a calibration', async () => {
    const calibration = { kind: 'percentile' as const, cosines: [0.8, 0.9, 0.95], scores: [0, 0.5, 1] };
    const retrieval = retrievalFor(src.source);
    const sr = buildSimilarCasesSR({ source: src.source, model: { ...MODEL, similarityCalibration: calibration }, retrieval });
    const root = (readPart10(sr.bytes).dataset['ContentSequence'] as Array<Record<string, unknown>>).map(simplify);
    const evaluations = only(root, code('C0034375', 'UMLS', 'Qualitative Evaluations'));
    expect(only(evaluations.children, code('SIM_RANGE', '99PRECEDENT', 'Similarity range')).value).toBe('Match score 0.84 to 0.21 (raw cosine 0.934 to 0.842)');
    const first = byConcept(evaluations.children, code('SIMILAR_CASE', '99PRECEDENT', 'Similar case'))[0] as Item;
    expect(only(first.children, code('121111', 'DCM', 'Summary')).value).toMatch(/Match score 0\.84 \(raw cosine 0\.934\)$/);
    expect(only(first.children, code('MATCH_SCORE', '99PRECEDENT', 'Match score')).value).toBe(`0.84 ${code('{score}', 'UCUM', 'match score')}`);
    expect(only(first.children, code('COSINE_SIM', '99PRECEDENT', 'Cosine similarity')).value).toBe(`0.934 ${code('{cosine}', 'UCUM', 'cosine similarity')}`);
    const file = path.join(dir, 'calibrated-sr.dcm');
    await writeFile(file, sr.bytes);
    expect((await dciodvfy(file)).errors).toEqual([]);
  });
});
