/**
 * A real browser for the dashboard's tests: Debian's Chromium (`apt-get install chromium`; .ci/run
 * installs it when missing) driven by playwright-core, headless, on a fresh profile per launch.
 * Every page records its console errors and uncaught exceptions: a test asserts there are none.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env['ZGAS_CHROMIUM'] ?? '/usr/bin/chromium';
/** Flags known to work headless in a container: no sandbox, no GPU, nothing fetched in the background. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Where screenshots go (gitignored). */
export const ARTIFACTS_DIR = path.join(import.meta.dirname, '..', 'browser', 'artifacts');

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium`);
  // playwright launches on a fresh temporary user-data-dir of its own and removes it on close.
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/** Console errors and uncaught exceptions of a page, as they happen. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`exception: ${error.message}`));
  // The console names only the status of a failed request: the request and the answer say which and why.
  page.on('response', (response) => {
    if (response.status() < 400) return;
    const what = `response: ${response.status()} ${response.request().method()} ${response.url()}`;
    errors.push(what);
    void response.text().then((body) => errors.push(`${what} answered ${body.slice(0, 500)}`), () => undefined);
  });
  return errors;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
