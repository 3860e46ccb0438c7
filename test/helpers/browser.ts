// Debian's chromium, headless, driven by playwright-core (which never downloads a browser itself):
// one browser per test file, a fresh profile, no network services of its own.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { requireTool } from './tools.js';

export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<TestBrowser> {
  const executablePath = requireTool('chromium');
  const profile = mkdtempSync(join(tmpdir(), 'precedent-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ];
  // A persistent context is how playwright takes an explicit (here: fresh, temporary) user-data-dir.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    args,
    headless: true,
    timeout: 60_000,
    viewport: { width: 1600, height: 1000 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
