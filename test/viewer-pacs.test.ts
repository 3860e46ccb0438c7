// Real-viewer tests: the node's SR and Secondary Captures, routed back into a real Orthanc (with
// Debian's DICOMweb plugin), opened as a radiologist would: in a real OHIF (the built @ohif/app served
// with Orthanc's DICOMweb root as its data source) and in Orthanc Explorer, in headless Chromium.
// Screenshots are kept under var/test-artifacts/viewer/ for a person to judge; the assertions are
// what the page shows (DOM text, rendered pixels), waited for by DOM conditions, never by sleeps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import type { Locator, Page } from 'playwright-core';
import { REPO_ROOT } from './fixtures/shared.js';
import { launchChromium, type TestBrowser } from './helpers/browser.js';
import { startOhif, type OhifServer } from './helpers/ohif.js';
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
  ohif = await startOhif(pacs.orthanc.url);
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await ohif?.stop();
  await pacs?.stop();
});

/** What went wrong on a page: uncaught errors and console errors. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  return problems;
}

/** Share of a screenshot's pixels that are not near-black, 0 when it is one or a few flat colours. */
function drawnShare(png: Buffer): number {
  const img = PNG.sync.read(png);
  const histogram = new Map<number, number>();
  let bright = 0;
  for (let i = 0; i < img.data.length; i += 4) {
    const [r, g, b] = [img.data[i] ?? 0, img.data[i + 1] ?? 0, img.data[i + 2] ?? 0];
    if (r + g + b > 90) bright++;
    const key = ((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4);
    histogram.set(key, (histogram.get(key) ?? 0) + 1);
  }
  const pixels = img.data.length / 4;
  return histogram.size < 16 ? 0 : bright / pixels;
}

/** OHIF's first-visit tour covers the study browser; a user skips it. */
async function skipTour(page: Page): Promise<void> {
  await page
    .getByText('Skip all')
    .click({ timeout: 10_000 })
    .catch(() => undefined);
}

async function openSeries(page: Page, seriesNumber: string): Promise<Locator> {
  await page.locator(`[data-series="${seriesNumber}"]`).dblclick();
  return page.locator('[data-cy="viewport-pane"]').first();
}

describe('OHIF (@ohif/app 3.13.2) reading Orthanc over DICOMweb', () => {
  it('lists the CXR and the three results, opens the SR with the vote on the image, and both Secondary Captures', async () => {
    const page = await browser.context.newPage();
    const problems = watch(page);
    await page.goto(`${ohif.url}/viewer?StudyInstanceUIDs=${studyUID}`);
    const srThumbnail = page.locator('[data-series="990"]');
    await srThumbnail.waitFor({ timeout: 120_000 });
    await skipTour(page);
    for (const series of ['1', '990', '991', '992']) await expect.poll(() => page.locator(`[data-series="${series}"]`).count()).toBe(1);
    await expect.poll(() => srThumbnail.innerText()).toContain('AI similar cases - NOT FOR DIAGNOSTIC USE');

    // The SR: OHIF shows the analysed image with the group's NUMs written over its top-left corner.
    const viewport = await openSeries(page, '990');
    await viewport.locator('[data-cy="viewport-overlay-top-left"]', { hasText: results.get('1')?.tags.SeriesDescription ?? 'CHEST' }).waitFor({ timeout: 60_000 });
    // OHIF draws SR annotations when the viewport renders; on a busy machine its first render can come
    // before the SR's annotations are registered. A reader's first touch (here a small window-level
    // drag) renders again, as any interaction does.
    const box = await viewport.boundingBox();
    if (box) {
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width / 2 + 4, box.y + box.height / 2 + 4);
      await page.mouse.up();
    }
    const vote = page.locator('#svg-layer-default tspan', { hasText: '(neighbour vote)' });
    await vote.first().waitFor({ state: 'attached', timeout: 60_000 });
    const lines = await vote.allTextContents();
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^.+ \(neighbour vote\): \d+\.\d\d %$/);
    // On screen, not beside the image where a wide viewport would cut it off.
    const pane = await viewport.boundingBox();
    const first = await vote.first().boundingBox();
    expect(pane && first && first.x >= pane.x && first.x + first.width <= pane.x + pane.width && first.y >= pane.y && first.y < pane.y + pane.height).toBe(true);
    // Not offered as editable measurements ("track?"), which OHIF could not load.
    expect(await page.locator('[data-cy="yes-hydrate-btn"]').count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'ohif-sr.png') });

    // The heatmap and the similar-cases page: OHIF names the series over the image and draws it.
    for (const [series, description, name] of [
      ['991', 'AI attention heatmap - NOT FOR DIAGNOSTIC USE', 'ohif-heatmap-sc.png'],
      ['992', 'AI similar case images - NOT FOR DIAGNOSTIC USE', 'ohif-similar-cases-sc.png'],
    ] as const) {
      const pane = await openSeries(page, series);
      await pane.locator('[data-cy="viewport-overlay-top-left"]', { hasText: description }).waitFor({ timeout: 60_000 });
      await expect.poll(async () => drawnShare(await pane.screenshot()), { timeout: 60_000 }).toBeGreaterThan(0.05);
      await page.screenshot({ path: join(ARTIFACTS, name) });
    }

    expect(await page.getByText('Something went wrong').count()).toBe(0);
    expect(await page.locator('[data-sonner-toast][data-type="error"]').count()).toBe(0);
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
    await page.getByText(/^\d+ most similar prior cases: /).first().scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'orthanc-explorer-sr.png') });
    expect(problems).toEqual([]);
    await page.close();
  });
});
