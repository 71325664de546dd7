// The browser console (/console/, keycloak-js) in real headless Chromium against the real stack: Keycloak's own
// login form, PKCE S256, a tool call with the bearer token, usage, refresh, logout, and the scope step-up case.
// Screenshots of every step: <stack dir>/screenshots/console/.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { loadStack, user } from '../e2e/support/stack.ts';
import { launchChromium, screenshotDir, submitKeycloakLogin } from './support/browser.ts';
import { ensureConsoleClient } from './support/consoleClient.ts';

const ADMIN_TOOL = 'reset_usage';

describe('browser console (keycloak-js) in headless Chromium', { concurrency: false }, () => {
  let card: StackCard;
  let consoleClient: Awaited<ReturnType<typeof ensureConsoleClient>>;
  let browser: Browser;
  let shots: string;
  let step = 0;

  const shot = async (page: Page, name: string) => {
    step += 1;
    await page.screenshot({
      path: join(shots, `${String(step).padStart(2, '0')}-${name}.png`),
      fullPage: true,
    });
  };
  const text = async (page: Page, selector: string) => (await page.locator(selector).textContent()) ?? '';
  const exactly = (value: string) => new RegExp(`^${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  const waitStatus = (page: Page, status: string) =>
    page.locator('#status', { hasText: exactly(status) }).waitFor();
  const toolNames = async (page: Page) =>
    Promise.all((await page.locator('#tools li').all()).map((li) => li.getAttribute('data-tool')));

  /** From the console's "Log in" button through Keycloak's form back to a console with its tools listed. */
  async function logIn(page: Page, who: string, scopes: string[], screenshotName: string) {
    await page.goto(consoleClient.consoleUrl);
    await page.locator('#signed-out').waitFor();
    for (const box of await page.locator('input[name=scope]').all()) {
      if (await box.isDisabled()) continue; // mcp:tools: always asked for
      await box.setChecked(scopes.includes((await box.getAttribute('value')) ?? ''));
    }
    await page.locator('#login').click();
    await page.locator('#kc-form-login').waitFor();
    await shot(page, screenshotName);
    await submitKeycloakLogin(page, user(card, who));
    await page.locator('#signed-in').waitFor();
    await waitStatus(page, 'Connecting to the MCP server: done.');
  }

  async function callTool(page: Page, name: string, args = '{}') {
    await page.locator(`li[data-tool="${name}"] button`).click();
    await page.locator('#call-args').fill(args);
    await page.locator('#call').click();
    await page.locator('#call-name', { hasText: exactly(name) }).waitFor();
    await page.locator('#status', { hasText: /^Calling .*: (done|failed)\.$/ }).waitFor();
  }

  before(async () => {
    card = await loadStack();
    consoleClient = await ensureConsoleClient(card);
    browser = await launchChromium();
    shots = await screenshotDir('console');
  });
  after(async () => {
    await browser?.close();
    await consoleClient?.remove();
  });

  describe('alice (mcp-admin)', { concurrency: false }, () => {
    let context: BrowserContext;
    let page: Page;
    const requests: Request[] = [];
    before(async () => {
      context = await browser.newContext();
      page = await context.newPage();
      page.on('request', (r) => requests.push(r));
    });
    after(async () => context?.close());

    it('serves the console page and keycloak-js itself, not from a CDN', async () => {
      await page.goto(consoleClient.consoleUrl);
      await page.locator('#signed-out').waitFor();
      await shot(page, 'signed-out');
      assert.equal(await text(page, '#status'), 'Not logged in.');
      const origins = new Set(requests.map((r) => new URL(r.url()).origin));
      assert.deepEqual(
        [...origins].sort(),
        [new URL(card.mcpUrl).origin, new URL(card.keycloakUrl).origin].sort().filter((o) => origins.has(o)),
      );
      assert.ok(requests.some((r) => r.url().endsWith('/console/vendor/keycloak.js')));
    });

    it("logs in through Keycloak's login form with authorization code + PKCE S256", async () => {
      requests.length = 0;
      await logIn(page, 'alice', ['mcp:tools'], 'keycloak-login-form');
      await shot(page, 'signed-in-claims-and-tools');
      const authorize = requests.find((r) => r.url().includes('/protocol/openid-connect/auth?'));
      assert.ok(authorize, 'no authorization request was made');
      const query = new URL(authorize.url()).searchParams;
      assert.equal(query.get('response_type'), 'code');
      assert.equal(query.get('code_challenge_method'), 'S256');
      assert.match(query.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.equal(query.get('client_id'), consoleClient.clientId);
      // mcp:tools is an optional scope of the console's client: without asking, the token would not be for /mcp.
      assert.deepEqual(query.get('scope')?.split(' ').sort(), ['mcp:tools', 'openid']);
      const tokenRequest = requests.find(
        (r) => r.url().endsWith('/protocol/openid-connect/token') && r.method() === 'POST',
      );
      const form = new URLSearchParams(tokenRequest?.postData() ?? '');
      assert.equal(form.get('grant_type'), 'authorization_code');
      assert.ok(form.get('code_verifier'), 'the code exchange carried no PKCE code_verifier');
    });

    it('shows the token claims and expiry', async () => {
      assert.equal(await text(page, '#username'), 'alice');
      assert.match(await text(page, '#scopes'), /(^| )mcp:tools( |$)/);
      assert.match(await text(page, '#expiry'), /\(in \d+ s\)/);
      const claims = JSON.parse(await text(page, '#claims-json')) as { aud: string | string[]; azp: string };
      assert.ok([claims.aud].flat().includes(card.mcpUrl), `aud ${String(claims.aud)} lacks ${card.mcpUrl}`);
      assert.equal(claims.azp, consoleClient.clientId);
    });

    it('lists the tools and calls whoami with the bearer token', async () => {
      const tools = await toolNames(page);
      assert.ok(tools.includes('whoami') && tools.includes('usage'), `tools: ${tools.join(', ')}`);
      await callTool(page, 'whoami');
      await shot(page, 'tool-call-whoami');
      assert.equal(await text(page, '#status'), 'Calling whoami: done.');
      const result = JSON.parse(await text(page, '#result')) as { username: string; clientId: string };
      assert.equal(result.username, 'alice');
      assert.equal(result.clientId, consoleClient.clientId);
    });

    it('shows the usage count, which counts every call', async () => {
      await page.locator('#usage-refresh').click();
      await waitStatus(page, 'Updating usage: done.');
      const first = Number(await text(page, '#usage-count'));
      assert.ok(Number.isInteger(first) && first >= 2, `usage count ${first}`);
      await page.locator('#usage-refresh').click();
      await page.locator('#usage-count', { hasText: exactly(String(first + 1)) }).waitFor();
      await shot(page, 'usage-count');
    });

    it('refreshes the token with Keycloak (refresh_token grant)', async () => {
      const refreshed = page.waitForResponse(
        (r) =>
          r.url().endsWith('/protocol/openid-connect/token') &&
          new URLSearchParams(r.request().postData() ?? '').get('grant_type') === 'refresh_token',
      );
      await page.locator('#refresh').click();
      assert.equal((await refreshed).status(), 200);
      await waitStatus(page, 'Refreshing the token: done.');
      await shot(page, 'token-refreshed');
      assert.equal(await text(page, '#username'), 'alice');
    });

    it(`step-up: ${ADMIN_TOOL} without mcp:admin → 403 insufficient_scope in words → log in again with it`, async () => {
      const tools = await toolNames(page);
      assert.ok(
        tools.includes(ADMIN_TOOL),
        `the server lists no ${ADMIN_TOOL} tool (tools: ${tools.join(', ')})`,
      );
      await callTool(page, ADMIN_TOOL);
      assert.match(await text(page, '#error-text'), /your access token lacks mcp:admin/);
      assert.equal(await page.locator('#step-up').isVisible(), true);
      await shot(page, 'admin-tool-403');
      await page.locator('#step-up').click();
      // Keycloak's session is still there: no form, straight back with a token that now carries mcp:admin.
      await waitStatus(page, 'Connecting to the MCP server: done.');
      assert.match(await text(page, '#scopes'), /(^| )mcp:admin( |$)/);
      const { sub } = JSON.parse(await text(page, '#claims-json')) as { sub: string };
      await callTool(page, ADMIN_TOOL, JSON.stringify({ subject: sub }));
      assert.equal(
        await text(page, '#status'),
        `Calling ${ADMIN_TOOL}: done.`,
        `${await text(page, '#error-text')} ${await text(page, '#claims-json')}`,
      );
      await shot(page, 'admin-tool-after-step-up');
    });

    it('logs out: the console forgets the token and Keycloak asks for the password again', async () => {
      await page.locator('#logout').click();
      await page.locator('#signed-out').waitFor();
      await waitStatus(page, 'Not logged in.');
      await shot(page, 'logged-out');
      await page.locator('#login').click();
      await page.locator('#kc-form-login').waitFor(); // no SSO session left at Keycloak
      await shot(page, 'login-form-again-after-logout');
    });
  });

  describe('bob (no mcp-admin role)', { concurrency: false }, () => {
    let context: BrowserContext;
    let page: Page;
    before(async () => {
      context = await browser.newContext();
      page = await context.newPage();
    });
    after(async () => context?.close());

    it('asks for mcp:admin at login; Keycloak leaves it out and the console says why', async () => {
      await logIn(page, 'bob', ['mcp:tools', 'mcp:admin'], 'bob-keycloak-login-form');
      await shot(page, 'bob-signed-in-without-admin');
      assert.equal(await text(page, '#username'), 'bob');
      assert.doesNotMatch(await text(page, '#scopes'), /mcp:admin/);
      assert.match(await text(page, '#notice'), /Keycloak did not grant mcp:admin to bob/);
    });

    it(`${ADMIN_TOOL} → 403 insufficient_scope shown in words; step-up cannot get bob mcp:admin`, async () => {
      const tools = await toolNames(page);
      assert.ok(
        tools.includes(ADMIN_TOOL),
        `the server lists no ${ADMIN_TOOL} tool (tools: ${tools.join(', ')})`,
      );
      await callTool(page, ADMIN_TOOL);
      assert.equal(await text(page, '#status'), `Calling ${ADMIN_TOOL}: failed.`);
      const error = await text(page, '#error-text');
      assert.match(error, /^Not allowed: your access token lacks mcp:admin \(this needs [^)]+\)/);
      assert.deepEqual(/this needs ([^)]+)\)/.exec(error)?.[1]?.split(' ').sort(), [
        'mcp:admin',
        'mcp:tools',
      ]);
      await shot(page, 'bob-admin-tool-403');
      await page.locator('#step-up').click();
      await waitStatus(page, 'Connecting to the MCP server: done.');
      assert.match(await text(page, '#notice'), /Keycloak did not grant mcp:admin to bob/);
      await callTool(page, ADMIN_TOOL);
      assert.match(await text(page, '#error-text'), /your access token lacks mcp:admin/);
      await shot(page, 'bob-step-up-refused');
    });

    it('an ordinary tool still works for bob', async () => {
      await callTool(page, 'whoami');
      assert.equal(await text(page, '#status'), 'Calling whoami: done.');
      assert.equal((JSON.parse(await text(page, '#result')) as { username: string }).username, 'bob');
    });
  });
});
