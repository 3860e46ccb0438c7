// OHIF pointed directly at Precedent's own DICOMweb root (no PACS in between for reading): a CXR study
// received over C-STORE (routed by a real Orthanc) and analysed, then opened in the built @ohif/app in
// headless Chromium as a reader would. It shows the radiograph, the SR and both Secondary Captures from
// the node's QIDO-RS/WADO-RS alone, and a patient-filtered search from the page never returns another
// patient's study (issue 13's mix-up: OHIF asks /studies?00100020=<patient> for a patient's priors).
// Screenshots are kept under var/test-artifacts/viewer-direct/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildFixture } from './fixtures/build.js';
import { REPO_ROOT } from './fixtures/shared.js';
import { launchChromium, type TestBrowser } from './helpers/browser.js';
import { startOhif, type OhifServer } from './helpers/ohif.js';
import { readStudyInOhif } from './helpers/ohif-page.js';
import { startPacsScenario, type PacsScenario } from './helpers/pacs.js';
import { tempDir } from './helpers/node.js';
import { run } from './helpers/tools.js';

const ARTIFACTS = join(REPO_ROOT, 'var', 'test-artifacts', 'viewer-direct');
const PATIENT = 'DIRECT-0001';
const OTHER_PATIENT = 'DIRECT-0002';
type DicomJson = Record<string, { Value?: unknown[] }>;
let pacs: PacsScenario;
let ohif: OhifServer;
let browser: TestBrowser;
let dicomweb = '';
let studyUID = '';
let otherStudyUID = '';

async function qido(path: string): Promise<DicomJson[]> {
  const r = await fetch(`${dicomweb}${path}`, { headers: { accept: 'application/dicom+json' } });
  if (r.status === 204) return [];
  if (!r.ok) throw new Error(`QIDO ${path}: HTTP ${r.status}`);
  return (await r.json()) as DicomJson[];
}

const value = (d: DicomJson, tag: string): unknown => d[tag]?.Value?.[0];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  pacs = await startPacsScenario({ precedentDicomweb: true });
  dicomweb = pacs.precedentDicomweb ?? '';
  const routed = await pacs.routeCxr({ imageIndex: 1001, patientName: 'DIRECT^OHIF', patientID: PATIENT });
  if (routed.instances.length !== 4) throw new Error(`expected the CXR and 3 results, found ${routed.instances.length}`);
  studyUID = routed.source.studyInstanceUID;
  // Another patient's study on the same node, sent straight to it over C-STORE.
  const other = await buildFixture({ variant: 'dx12', syntax: 'ele', imageIndex: 1002, patientName: 'OTHER^PATIENT', patientID: OTHER_PATIENT }, tempDir());
  const sent = await run('storescu', ['-aet', 'MODALITY', '-aec', 'PRECEDENT', '127.0.0.1', String(pacs.node.port), other.path]);
  if (sent.code !== 0) throw new Error(`storescu to the node failed: ${sent.stderr}`);
  otherStudyUID = other.studyInstanceUID;
  ohif = await startOhif(dicomweb);
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await ohif?.stop();
  await pacs?.stop();
});

describe("OHIF (@ohif/app 3.13.2) reading Precedent's own DICOMweb", () => {
  it('serves the study with its SR and both Secondary Captures over QIDO-RS', async () => {
    const series = await qido(`/studies/${studyUID}/series`);
    const numbers = series.map((s) => Number(value(s, '00200011'))).sort((a, b) => a - b);
    expect(numbers).toEqual([1, 990, 991, 992]);
    expect(series.filter((s) => value(s, '00080060') === 'SR')).toHaveLength(1);
  });

  it('shows the radiograph, opens the SR with the vote on the image, and draws both Secondary Captures', async () => {
    const image = (await qido(`/studies/${studyUID}/series?SeriesNumber=1`))[0];
    const page = await browser.context.newPage();
    const problems = await readStudyInOhif(page, {
      viewerUrl: ohif.url,
      studyUID,
      imageDescription: String(image ? (value(image, '0008103E') ?? 'CHEST') : 'CHEST'),
      artifacts: ARTIFACTS,
    });
    expect(problems).toEqual([]);
    await page.close();
  }, 300_000);

  it("a patient-filtered study search from the viewer's page returns that patient's study only", async () => {
    await expect.poll(async () => (await qido(`/studies?StudyInstanceUID=${otherStudyUID}`)).length, { timeout: 60_000 }).toBe(1);
    const page = await browser.context.newPage();
    await page.goto(`${ohif.url}/`);
    // The query OHIF makes for a patient's other studies, from the viewer's own origin.
    const search = (patientID: string) =>
      page.evaluate(
        async (url) => {
          const r = await fetch(url, { headers: { accept: 'application/dicom+json' } });
          return r.status === 204 ? [] : ((await r.json()) as Array<Record<string, { Value?: unknown[] }>>);
        },
        `${new URL(dicomweb).pathname}/studies?00100020=${patientID}`,
      );
    const studies = (found: DicomJson[]) => found.map((s) => value(s, '0020000D'));
    const patients = (found: DicomJson[]) => [...new Set(found.map((s) => value(s, '00100020')))];
    const other = await search(OTHER_PATIENT);
    expect(studies(other)).toEqual([otherStudyUID]);
    expect(patients(other)).toEqual([OTHER_PATIENT]);
    const own = await search(PATIENT);
    expect(studies(own)).toEqual([studyUID]);
    expect(patients(own)).toEqual([PATIENT]);
    expect(await search('NO-SUCH-PATIENT')).toEqual([]);
    await page.close();
  });
});
