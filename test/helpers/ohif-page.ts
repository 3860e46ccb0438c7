// What the viewer tests do on an OHIF page as a reader would (open a series, skip the tour) and what they
// check on it (page errors, whether a viewport shows an image), shared by the OHIF-on-Orthanc and
// OHIF-on-Precedent tests.
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { expect } from 'vitest';
import type { Locator, Page } from 'playwright-core';

/** What went wrong on a page: uncaught errors and console errors. */
export function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  return problems;
}

/** Share of a screenshot's pixels that are not near-black, 0 when it is one or a few flat colours. */
export function drawnShare(png: Buffer): number {
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
export async function skipTour(page: Page): Promise<void> {
  await page
    .getByText('Skip all')
    .click({ timeout: 10_000 })
    .catch(() => undefined);
}

export async function openSeries(page: Page, seriesNumber: string): Promise<Locator> {
  await page.locator(`[data-series="${seriesNumber}"]`).dblclick();
  return page.locator('[data-cy="viewport-pane"]').first();
}

/** What a page must not show after a reader's session: OHIF's error boundary, an error toast, page errors. */
export async function pageErrors(page: Page, problems: string[]): Promise<string[]> {
  const shown: string[] = [...problems];
  if ((await page.getByText('Something went wrong').count()) > 0) shown.push('Something went wrong');
  if ((await page.locator('[data-sonner-toast][data-type="error"]').count()) > 0) shown.push('error toast');
  return shown;
}

/**
 * Opens a routed CXR study in OHIF as a reader would and checks what the node's results look like there:
 * the four series listed, the radiograph drawn, the SR opened with the vote over the image (on screen, not
 * as editable measurements), both Secondary Captures drawn; screenshots into `artifacts`. Returns what
 * went wrong on the page meanwhile (pageErrors), for the test to assert empty.
 */
export async function readStudyInOhif(
  page: Page,
  viewer: { viewerUrl: string; studyUID: string; imageDescription: string; artifacts: string },
): Promise<string[]> {
  const problems = watch(page);
  await page.goto(`${viewer.viewerUrl}/viewer?StudyInstanceUIDs=${viewer.studyUID}`);
  const srThumbnail = page.locator('[data-series="990"]');
  await srThumbnail.waitFor({ timeout: 120_000 });
  await skipTour(page);
  for (const series of ['1', '990', '991', '992']) await expect.poll(() => page.locator(`[data-series="${series}"]`).count()).toBe(1);
  await expect.poll(() => srThumbnail.innerText()).toContain('AI similar cases - NOT FOR DIAGNOSTIC USE');

  // The radiograph itself: its pixels reach the viewport (not a black or empty canvas).
  const image = await openSeries(page, '1');
  await image.locator('[data-cy="viewport-overlay-top-left"]', { hasText: viewer.imageDescription }).waitFor({ timeout: 60_000 });
  await expect.poll(async () => drawnShare(await image.screenshot()), { timeout: 60_000 }).toBeGreaterThan(0.05);
  await page.screenshot({ path: join(viewer.artifacts, 'ohif-image.png') });

  // The SR: OHIF shows the analysed image with the group's NUMs written over its top-left corner.
  const viewport = await openSeries(page, '990');
  await viewport.locator('[data-cy="viewport-overlay-top-left"]', { hasText: viewer.imageDescription }).waitFor({ timeout: 60_000 });
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
  await page.screenshot({ path: join(viewer.artifacts, 'ohif-sr.png') });

  // The heatmap and the similar-cases page: OHIF names the series over the image and draws it.
  for (const [series, description, name] of [
    ['991', 'AI attention heatmap - NOT FOR DIAGNOSTIC USE', 'ohif-heatmap-sc.png'],
    ['992', 'AI similar case images - NOT FOR DIAGNOSTIC USE', 'ohif-similar-cases-sc.png'],
  ] as const) {
    const pane = await openSeries(page, series);
    await pane.locator('[data-cy="viewport-overlay-top-left"]', { hasText: description }).waitFor({ timeout: 60_000 });
    await expect.poll(async () => drawnShare(await pane.screenshot()), { timeout: 60_000 }).toBeGreaterThan(0.05);
    await page.screenshot({ path: join(viewer.artifacts, name) });
  }

  return pageErrors(page, problems);
}
