// Real-viewer tests: the node's SR and Secondary Captures, routed back into a real Orthanc (with
// Debian's DICOMweb plugin), opened as a radiologist would: in a real OHIF (the built @ohif/app served
// with Orthanc's DICOMweb root as its data source) and in Orthanc Explorer, in headless Chromium.
// Screenshots are kept under var/test-artifacts/viewer/ for a person to judge; the assertions are
// what the page shows (DOM text, rendered pixels), waited for by DOM conditions, never by sleeps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './fixtures/shared.js';
import { launchChromium, type TestBrowser } from './helpers/browser.js';
import { startOhif, type OhifServer } from './helpers/ohif.js';
import { pageErrors, readStudyInOhif, watch } from './helpers/ohif-page.js';
import { startPacsScenario, type OrthancInstance, type PacsScenario } from './helpers/pacs.js';

const ARTIFACTS = join(REPO_ROOT, 'var', 'test-artifacts', 'viewer');
// PRECEDENT_VIEWER_MODEL=models/default: the shipped model on a fresh install (reference archive only),
// as the screenshots in docs/images show it; otherwise the test model and a small imported archive.
const SHIPPED_MODEL = process.env.PRECEDENT_VIEWER_MODEL;
let pacs: PacsScenario;
let ohif: OhifServer;
let browser: TestBrowser;
let studyUID = '';
const results = new Map<string, { instance: OrthancInstance; tags: Record<string, string> }>();

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  pacs = await startPacsScenario({ dicomweb: true, ...(SHIPPED_MODEL ? { modelDir: join(REPO_ROOT, SHIPPED_MODEL) } : {}) });
  const routed = await pacs.routeCxr({ imageIndex: 1001, patientName: 'VIEWER^OHIF', patientID: 'VIEWER-0001' });
  if (routed.instances.length !== 4) throw new Error(`expected the CXR and 3 results in Orthanc, found ${routed.instances.length}`);
  studyUID = routed.source.studyInstanceUID;
  for (const instance of routed.instances) {
    const tags = await pacs.orthanc.get<Record<string, string>>(`/instances/${instance.ID}/simplified-tags`);
    results.set(tags.SeriesNumber ?? '', { instance, tags });
  }
  ohif = await startOhif(`${pacs.orthanc.url}/dicom-web`);
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await ohif?.stop();
  await pacs?.stop();
});

describe('OHIF (@ohif/app 3.13.2) reading Orthanc over DICOMweb', () => {
  it('lists the CXR and the three results, opens the SR with the vote on the image, and both Secondary Captures', async () => {
    const page = await browser.context.newPage();
    const problems = await readStudyInOhif(page, {
      viewerUrl: ohif.url,
      studyUID,
      imageDescription: results.get('1')?.tags.SeriesDescription ?? 'CHEST',
      artifacts: ARTIFACTS,
    });
    expect(problems).toEqual([]);
    await page.close();
  }, 300_000);
});

describe('Orthanc Explorer', () => {
  it("shows the SR's summary, vote and case sentences in full on the instance page", async () => {
    const sr = results.get('990');
    expect(sr?.tags.Modality).toBe('SR');
    const page = await browser.context.newPage();
    const problems = watch(page);
    await page.goto(`${pacs.orthanc.url}/app/explorer.html#instance?uuid=${sr?.instance.ID ?? ''}`);
    await page.getByText('(CurrentRequestedProcedureEvidenceSequence)').first().waitFor({ timeout: 60_000 });
    // Explorer folds sequences; open every fold, as a reader clicking through the content tree would
    // (clicked in the page: a hundred round trips would be slow on a small machine).
    const folded = page.locator('a.toggler.closed');
    while ((await folded.count()) > 0) await page.evaluate("document.querySelectorAll('a.toggler.closed').forEach((a) => a.click())");
    const texts = await page.locator('span.title', { hasText: '(TextValue)' }).locator('strong').allInnerTexts();
    expect(texts.some((t) => /^\d+ most similar prior cases: /.test(t))).toBe(true);
    expect(texts.some((t) => / \(similarity-weighted vote of \d+ cases\)$/.test(t))).toBe(true);
    expect(texts.filter((t) => /^#\d+( \(public reference case\))?: /.test(t)).length).toBeGreaterThan(0);
    const card = JSON.parse(readFileSync(join(pacs.node.config.model.dir, 'model.json'), 'utf8')) as { name: string; version: string };
    expect(texts).toContain(`Model ${card.name} ${card.version}. AI OUTPUT - NOT FOR DIAGNOSTIC USE`);
    // A fresh install compares with the public reference archive only, and the SR says so for each case.
    if (SHIPPED_MODEL) expect(texts.filter((t) => /^Public reference case \(.+\), not from this hospital$/.test(t)).length).toBeGreaterThan(0);
    expect(await page.getByText(/too long/i).count()).toBe(0);
    await page
      .getByText(/^\d+ most similar prior cases: /)
      .first()
      .scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'orthanc-explorer-sr.png') });
    expect(await pageErrors(page, problems)).toEqual([]);
    await page.close();
  });
});
