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

/**
 * A client under test handed us its authorization URL: open it in a fresh browser context, log in on
 * Keycloak's form and follow the redirect until `done` says the client's callback got the code. Screenshots
 * `<shots>/[<name>-]01-keycloak-login.png` and `[<name>-]02-<client>-callback.png`; the second is best
 * effort, because clients close their loopback listener the moment the code arrives and the page can be gone
 * before Chromium captures it (seen in CI as "Unable to capture screenshot").
 */
export async function logInAt(
  browser: Browser,
  authorizationUrl: URL,
  credentials: { username: string; password: string },
  options: { done: (url: URL) => boolean; shots: string; name: string; client: string },
): Promise<void> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(authorizationUrl.href);
    await page.locator('#kc-form-login').waitFor();
    const prefix = options.name ? `${options.name}-` : '';
    await page.screenshot({ path: join(options.shots, `${prefix}01-keycloak-login.png`) });
    await submitKeycloakLogin(page, credentials);
    await untilRedirected(page, options.done);
    await page
      .screenshot({ path: join(options.shots, `${prefix}02-${options.client}-callback.png`) })
      .catch(() => {}); // see above: the callback page may already be gone
  } finally {
    await context.close();
  }
}
