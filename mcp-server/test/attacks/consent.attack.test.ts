// Attack replay: the silent admin grant. A client anybody registered (anonymous DCR) with `mcp:admin` in its
// scope sends alice — signed in to Keycloak in her browser — an authorization request; without a consent
// screen Keycloak hands that client an admin token without her noticing. Real login in headless Chromium.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { launchChromium, submitKeycloakLogin, untilRedirected } from '../clients/support/browser.ts';
import { ensureConsoleClient } from '../clients/support/consoleClient.ts';
import { CookieJar } from '../e2e/support/cookieJar.ts';
import { authorizationCodeUrl, createPkcePair } from '../e2e/support/keycloakLogin.ts';
import { startLoopbackCallback, type LoopbackCallback } from '../e2e/support/loopbackCallback.ts';
import { decodeJwtPayload, loadStack, user } from '../e2e/support/stack.ts';
import { createAdminCapableClient } from '../integration/support/realmAdmin.ts';
import {
  Cleanup,
  NETWORK_TIMEOUT_MS,
  TEST_TIMEOUT_MS,
  callTool,
  described,
  endpoints,
  keycloakAdmin,
  loginWithCode,
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

// The same silent admin grant without registering anything: the seeded presets are public clients (their
// client_id is no secret), skip the consent screen, may ask for mcp:admin, and some register port-less loopback
// redirect URIs, for which Keycloak accepts any port (RFC 8252 §7.3). So whatever could receive a code on a
// loopback port of alice's machine — the only place a self-registered client can send codes to — gets an admin
// token (and a 30-day offline token) by naming `vscode` or `claude-code` instead of its own client id. RFC 8252
// §8.6: a public native client's identity cannot be assured, so its requests must not be approved silently.
describe(
  'attack: silent admin grant through a preset client id (no registration, no consent)',
  { concurrency: false, timeout: 900_000 },
  () => {
    let card: StackCard;
    let callback: LoopbackCallback;
    let firstParty: { clientId: string; remove(): Promise<void> } | undefined;
    const jar = new CookieJar();

    before(async () => {
      card = await loadStack();
      callback = await startLoopbackCallback();
      // A consent alice gave these presets earlier (other suites log her in through them) is hers to give;
      // the attack is a grant she never saw, so start from none.
      const admin = await keycloakAdmin(card);
      const [alice] = await admin.users.find({ username: 'alice', exact: true });
      assert.ok(alice?.id);
      for (const clientId of ['vscode', 'claude-code']) {
        await admin.users.revokeConsent({ id: alice.id, clientId }).catch(() => {}); // none given: fine
      }
      // alice is signed in to Keycloak (any earlier login in her browser; here: a first-party test client).
      firstParty = await createAdminCapableClient(card, callback.redirectUri);
      await loginWithCode(card, {
        clientId: firstParty.clientId,
        callback,
        credentials: user(card, 'alice'),
        scope: 'openid',
        jar,
      });
    });
    after(async () => {
      await firstParty?.remove().catch(() => {});
      await callback?.close();
    });

    /** Presets with a loopback redirect URI without a port: Keycloak lets the request pick any port. */
    function anyPortLoopbackPresets(): [string, string][] {
      const found: [string, string][] = [];
      for (const [name, preset] of Object.entries(card.clients.presets ?? {})) {
        const uri = preset.redirectUris.find((u) => /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])\//.test(u));
        if (uri) found.push([name, uri]);
      }
      return found;
    }

    it('the stack card lists presets with port-less loopback redirect URIs (precondition)', () => {
      assert.ok(anyPortLoopbackPresets().length > 0, 'no such preset: nothing to test below');
    });

    for (const name of ['vscode', 'claude-code']) {
      it(
        `prompt=none with the \`${name}\` preset on an attacker-chosen loopback port → no code for mcp:admin`,
        { timeout: TEST_TIMEOUT_MS },
        async () => {
          const preset = anyPortLoopbackPresets().find(([n]) => n === name);
          if (!preset) return; // the preset has no port-less loopback URI any more: nothing to pick a port on
          const registered = new URL(preset[1]);
          const attackerPort = new URL(callback.redirectUri).port;
          const redirectUri = `${registered.protocol}//${registered.hostname}:${attackerPort}${registered.pathname}`;
          const clientId = card.clients.presets?.[name]?.clientId ?? name;
          const pkce = createPkcePair();
          const url = authorizationCodeUrl(endpoints(card).auth, {
            clientId,
            redirectUri,
            scope: 'openid mcp:tools mcp:admin offline_access',
            challenge: pkce.challenge,
            state: crypto.randomUUID(),
          });
          url.searchParams.set('prompt', 'none');
          const answer = await fetch(url, {
            redirect: 'manual',
            headers: { cookie: jar.header() },
            signal: AbortSignal.timeout(NETWORK_TIMEOUT_MS),
          });
          await answer.body?.cancel();
          const location = answer.headers.get('location');
          if (!location) return; // Keycloak refused the request on its own page: no code left Keycloak
          const query = new URL(location).searchParams;
          const code = query.get('code');
          if (code) {
            const tokens = await tokenRequest(card, {
              grant_type: 'authorization_code',
              code,
              redirect_uri: redirectUri,
              client_id: clientId,
              code_verifier: pkce.verifier,
            });
            const token = String(tokens.body.access_token ?? '');
            const reset = token
              ? await callTool(card, token, 'reset_usage', { subject: 'nobody' })
              : undefined;
            if (typeof tokens.body.refresh_token === 'string') {
              // Do not leave alice a 30-day offline session behind.
              await fetch(`${card.issuer}/protocol/openid-connect/revoke`, {
                method: 'POST',
                headers: { 'content-type': 'application/x-www-form-urlencoded' },
                body: new URLSearchParams({ token: tokens.body.refresh_token, client_id: clientId }),
                signal: AbortSignal.timeout(NETWORK_TIMEOUT_MS),
              }).then((r) => r.body?.cancel());
            }
            assert.fail(
              `${clientId} got alice's code silently on ${redirectUri}: token scope "${
                token ? String(decodeJwtPayload(token).scope) : '-'
              }", refresh token typ ${
                typeof tokens.body.refresh_token === 'string'
                  ? String(decodeJwtPayload(tokens.body.refresh_token).typ)
                  : '-'
              }, reset_usage HTTP ${reset?.status ?? '-'}`,
            );
          }
          assert.ok(
            ['consent_required', 'interaction_required', 'login_required'].includes(query.get('error') ?? ''),
            `prompt=none answered ${query.toString()}`,
          );
        },
      );
    }
  },
);
