import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/**
 * A real headless browser for tests: Debian's chromium (`make chromium` installs it), driven by
 * playwright-core over the DevTools protocol, nothing downloaded. Each launch gets a fresh
 * profile directory, removed on close.
 */

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Headless, and nothing that reaches out: without the background-networking, component-update
 * and sync switches Chromium dials Google's services at start, which a closed network refuses
 * (slowly). --no-sandbox because tests run as root in CI; --disable-gpu: no GPU here.
 */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(viewport = { width: 1280, height: 800 }): Promise<TestBrowser> {
  try {
    await access(CHROMIUM_PATH);
  } catch {
    throw new Error(`no browser at ${CHROMIUM_PATH}: run \`make chromium\` (as root: apt-get install chromium), or set CHROMIUM_PATH`);
  }
  const profile = await mkdtemp(path.join(tmpdir(), 'wsm-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport,
    // One clock for the page and the assertions: instants in the page read as UTC.
    timezoneId: 'UTC',
    locale: 'en-GB',
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
