// Attack replay: the silent admin grant. A client anybody registered (anonymous DCR) with `mcp:admin` in its
// scope sends alice — signed in to Keycloak in her browser — an authorization request; without a consent
// screen Keycloak hands that client an admin token without her noticing. Real login in headless Chromium.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { StackCard } from '../../../seed/src/stackCard.ts';
import { launchChromium, submitKeycloakLogin, untilRedirected } from '../clients/support/browser.ts';
import { ensureConsoleClient } from '../clients/support/consoleClient.ts';
import { authorizationCodeUrl, createPkcePair } from '../e2e/support/keycloakLogin.ts';
import { startLoopbackCallback, type LoopbackCallback } from '../e2e/support/loopbackCallback.ts';
import { loadStack, user } from '../e2e/support/stack.ts';
import {
  Cleanup,
  NETWORK_TIMEOUT_MS,
  TEST_TIMEOUT_MS,
  callTool,
  described,
  endpoints,
  keycloakAdmin,
  registerAnonymously,
  tokenRequest,
  within,
} from './support/attackKit.ts';

const SCOPE = 'openid mcp:tools mcp:admin';

describe(
  'attack: silent admin grant to a self-registered client',
  { concurrency: false, timeout: 900_000 },
  () => {
    let card: StackCard;
    let callback: LoopbackCallback;
    let browser: Browser | undefined;
    let context: BrowserContext;
    let page: Page;
    let clientId: string;
    let consoleClient: { remove(): Promise<void> } | undefined;
    const cleanup = new Cleanup(() => card);

    before(async () => {
      card = await loadStack();
      callback = await startLoopbackCallback();
      const reg = await registerAnonymously(
        card,
        'openid-connect',
        {
          client_name: 'attack: innocent-looking MCP host',
          redirect_uris: [callback.redirectUri],
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          scope: 'openid mcp:tools mcp:admin',
        },
        cleanup,
      );
      if (!reg.clientId) throw new Error(`the attack's registration was refused: ${described(reg)}`);
      clientId = reg.clientId;

      // alice signs in to Keycloak for real, through a first-party client (the browser console).
      const consoleApp = await ensureConsoleClient(card);
      consoleClient = consoleApp;
      browser = await launchChromium();
      context = await browser.newContext();
      page = await context.newPage();
      page.setDefaultTimeout(NETWORK_TIMEOUT_MS);
      const pkce = createPkcePair();
      const consoleLogin = authorizationCodeUrl(endpoints(card).auth, {
        clientId: consoleApp.clientId,
        redirectUri: consoleApp.consoleUrl,
        scope: 'openid mcp:tools',
        challenge: pkce.challenge,
        state: crypto.randomUUID(),
      });
      await page.goto(consoleLogin.href);
      await page.locator('#kc-form-login').waitFor();
      await submitKeycloakLogin(page, user(card, 'alice'));
      await untilRedirected(page, (url) => url.href.startsWith(consoleApp.consoleUrl));
    });
    after(async () => {
      await browser?.close().catch(() => {});
      await consoleClient?.remove().catch(() => {});
      await cleanup.run();
      await callback?.close();
    });

    function authorizationRequest(prompt?: string): { url: URL; verifier: string } {
      const pkce = createPkcePair();
      const url = authorizationCodeUrl(endpoints(card).auth, {
        clientId,
        redirectUri: callback.redirectUri,
        scope: SCOPE,
        challenge: pkce.challenge,
        state: crypto.randomUUID(),
        resource: card.mcpUrl,
      });
      if (prompt) url.searchParams.set('prompt', prompt);
      return { url, verifier: pkce.verifier };
    }

    /** Opens the request in alice's browser; resolves with the consent page, or the callback's query. */
    async function open(url: URL): Promise<{ consent: true } | { consent: false; query: URLSearchParams }> {
      const received = callback.next();
      await page.goto(url.href).catch(() => {}); // the callback may answer before the navigation settles
      const consentShown = page
        .locator('[name=accept]')
        .first()
        .waitFor({ timeout: NETWORK_TIMEOUT_MS })
        .then(() => ({ consent: true as const }));
      return within(
        Promise.race([consentShown, received.then((query) => ({ consent: false as const, query }))]),
        NETWORK_TIMEOUT_MS + 1_000,
        'authorization request',
      );
    }

    it(
      'prompt=none for mcp:admin → consent_required or interaction_required, no code',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const { url } = authorizationRequest('none');
        const received = callback.next();
        await page.goto(url.href).catch(() => {});
        const query = await within(received, NETWORK_TIMEOUT_MS, 'callback of the prompt=none request');
        assert.equal(query.get('code'), null, 'a code was issued silently to a self-registered client');
        // OIDC Core §3.1.2.6 allows either; Keycloak 26.7 answers interaction_required when consent is missing.
        assert.ok(
          ['consent_required', 'interaction_required'].includes(query.get('error') ?? ''),
          `prompt=none without consent answered ${query.toString()}`,
        );
      },
    );

    it(
      'without prompt=none Keycloak shows a consent screen naming the scopes',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const { url } = authorizationRequest();
        const outcome = await open(url);
        assert.ok(outcome.consent, 'no consent screen: Keycloak redirected straight back with a code');
        const admin = await keycloakAdmin(card);
        const scopes = await admin.clientScopes.find();
        const text = await page.locator('body').innerText();
        for (const name of ['mcp:tools', 'mcp:admin']) {
          const scope = scopes.find((s) => s.name === name);
          const shown = String(scope?.attributes?.['consent.screen.text'] || name);
          assert.ok(text.includes(shown), `the consent screen does not name ${name} ("${shown}"):\n${text}`);
        }
      },
    );

    it(
      'deny on the consent screen → redirect with error=access_denied',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const { url } = authorizationRequest();
        const outcome = await open(url);
        assert.ok(outcome.consent, 'no consent screen to deny');
        const received = callback.next();
        await page.locator('[name=cancel]').first().click();
        const query = await within(received, NETWORK_TIMEOUT_MS, 'callback after deny');
        assert.equal(query.get('code'), null);
        assert.equal(query.get('error'), 'access_denied');
      },
    );

    it(
      'accept on the consent screen → code → the token works on the MCP server',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const { url, verifier } = authorizationRequest();
        const outcome = await open(url);
        let query: URLSearchParams;
        if (outcome.consent) {
          const received = callback.next();
          await page.locator('[name=accept]').first().click();
          query = await within(received, NETWORK_TIMEOUT_MS, 'callback after accept');
        } else {
          query = outcome.query;
        }
        const code = query.get('code');
        assert.ok(code, `no code: ${query.toString()}`);
        const tokens = await tokenRequest(card, {
          grant_type: 'authorization_code',
          code,
          redirect_uri: callback.redirectUri,
          client_id: clientId,
          code_verifier: verifier,
        });
        assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
        const whoami = await callTool(card, String(tokens.body.access_token), 'whoami');
        assert.equal(whoami.status, 200, JSON.stringify(whoami.body));
        assert.equal(whoami.body.result?.structuredContent?.username, 'alice');
      },
    );
  },
);
