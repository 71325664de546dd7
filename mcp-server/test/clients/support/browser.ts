// Real headless Chromium (Debian's `chromium`) driven by playwright-core. The background-networking flags
// matter on a closed network: without them Chromium's own update/sync connections get refused and stall it.
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { stackCardPath } from '../../e2e/support/stack.ts';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Screenshots go beside the stack card (git-ignored), one folder per test file. */
export async function screenshotDir(name: string): Promise<string> {
  const dir = join(dirname(stackCardPath()), 'screenshots', name);
  await rm(dir, { recursive: true, force: true }); // only this run's steps
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Fills Keycloak's own login form (ids from its default theme) and submits it. */
export async function submitKeycloakLogin(
  page: Page,
  credentials: { username: string; password: string },
): Promise<void> {
  await page.locator('#username').fill(credentials.username);
  await page.locator('#password').fill(credentials.password);
  await page.locator('#kc-login').click();
}

/** After the login form: approves Keycloak's consent screen when one is shown, until the page reaches `done`. */
export async function untilRedirected(page: Page, done: (url: URL) => boolean): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt += 1) {
    if (done(new URL(page.url()))) return;
    const accept = page.locator('[name=accept]');
    if ((await accept.count()) > 0) await accept.first().click();
    else await page.waitForTimeout(200);
  }
  throw new Error(`the browser never left Keycloak; it is at ${page.url()}`);
}
