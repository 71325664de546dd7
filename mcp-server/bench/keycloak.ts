// Keycloak-side figures (issue 16, informational, no targets): measured at the end of `npm run bench` against
// the Keycloak of a running stack (its card: STACK_CARD_PATH or .stack/stack.json, status ready), so operators
// see where a deployment's time goes besides the MCP server:
//   client credentials  token requests/s, p50/p99 (the card's M2M client; autocannon, form POST)
//   login               sequential PKCE logins of a demo user through the real login form (authorize → form →
//                       code → token) with the seeded console client (no consent screen): the whole login and
//                       the form POST alone (where the password is checked), p50/p99
//   DCR                 sequential anonymous registrations (public client, loopback redirect, code + PKCE, as
//                       the registration policy wants), p50/p99; each deleted again with its registration
//                       access token, so nothing piles up
//   JWKS                the realm's key set, requests/s, p50/p99 (autocannon)
// Every login's session is ended afterwards (logout with its refresh token), outside the timing.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { CookieJar, passKeycloakForms, pkcePair } from '@mcp-keycloak-stack/seed/keycloakLogin';
import { readStackCard, type StackCard } from '@mcp-keycloak-stack/seed/stackCard';

const CONNECTIONS = 8;
const TIMEOUT_MS = 15_000;

interface Load {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

interface Sequential {
  count: number;
  p50Ms: number;
  p99Ms: number;
}

export interface KeycloakFigures {
  keycloakUrl: string;
  issuer: string;
  connections: number;
  durationSeconds: number;
  clientCredentials: (Load & { clientId: string }) | { error: string };
  login: (Sequential & { user: string; clientId: string; formPost: Sequential }) | { error: string };
  dcr: (Sequential & { deleted: number }) | { error: string };
  jwks: Load | { error: string };
}

export type KeycloakBench = KeycloakFigures | { skipped: string };

/** Nearest-rank percentile of a sample, rounded to 0.1 ms (p99 of 20 logins is their slowest). */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round((sorted[index] ?? 0) * 10) / 10;
}

const sequential = (values: number[]): Sequential => ({
  count: values.length,
  p50Ms: percentile(values, 50),
  p99Ms: percentile(values, 99),
});

const send = (url: string, init: RequestInit = {}) =>
  fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS), ...init });

async function json(response: Response, what: string): Promise<Record<string, unknown>> {
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${what}: HTTP ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

interface Discovery {
  token_endpoint: string;
  authorization_endpoint: string;
  end_session_endpoint: string;
  jwks_uri: string;
  registration_endpoint: string;
}

async function load(options: autocannon.Options): Promise<Load> {
  const result = await autocannon({ connections: CONNECTIONS, ...options });
  return {
    reqPerSec: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

async function clientCredentials(
  card: StackCard,
  oidc: Discovery,
  seconds: number,
  warmup: number,
): Promise<Load & { clientId: string }> {
  const m2m = card.clients.m2m;
  if (!m2m) throw new Error('the stack card names no M2M client');
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: m2m.clientId,
    client_secret: m2m.clientSecret,
    // mcp:tools is an optional scope of the seeded clients: asked for, as real callers do (tokens for /mcp).
    scope: 'mcp:tools',
  }).toString();
  const request = {
    url: oidc.token_endpoint,
    method: 'POST' as const,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  };
  const first = await json(
    await send(request.url, { method: 'POST', headers: request.headers, body }),
    'client_credentials',
  );
  if (typeof first.access_token !== 'string') throw new Error('client_credentials: no access_token');
  if (warmup > 0) await load({ ...request, duration: warmup });
  return { clientId: m2m.clientId, ...(await load({ ...request, duration: seconds })) };
}

async function logins(
  card: StackCard,
  oidc: Discovery,
  count: number,
): Promise<Sequential & { user: string; clientId: string; formPost: Sequential }> {
  const clientId = card.clients.console?.clientId;
  if (!clientId) throw new Error('the stack card names no console client');
  const user = card.users[0];
  if (!user) throw new Error('the stack card names no demo user');
  // The console's exact redirect URI (seed/src/clients/presets.ts): nothing has to listen there, the code is
  // read from the redirect's Location as a browser would be sent it.
  const redirectUri = `${new URL(card.mcpUrl).origin}/console/`;
  const totals: number[] = [];
  const formPosts: number[] = [];
  // One unmeasured login first: Keycloak's first login after start compiles its templates.
  for (let i = 0; i <= count; i += 1) {
    const started = performance.now();
    const { verifier, challenge } = pkcePair();
    const state = randomBytes(12).toString('base64url');
    const url = new URL(oidc.authorization_endpoint);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirectUri,
      scope: 'openid mcp:tools', // as the console asks (console.js): a token for /mcp
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();
    const jar = new CookieJar(); // a new browser every time: no SSO session, the form is always shown
    let formPostMs = 0;
    const back = await passKeycloakForms(await send(url.href, { headers: { cookie: jar.header() } }), {
      jar,
      credentials: { username: user.username, password: user.password },
      send: async (target, init) => {
        const t = performance.now();
        const response = await send(target, init);
        if (init.method === 'POST') formPostMs += performance.now() - t;
        return response;
      },
    });
    const location = new URL(back.headers.get('location') as string);
    const code = location.searchParams.get('code');
    if (!code || location.searchParams.get('state') !== state)
      throw new Error(`login: no code in the redirect (${location.search.slice(0, 200)})`);
    const tokens = await json(
      await send(oidc.token_endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: redirectUri,
          client_id: clientId,
          code_verifier: verifier,
        }),
      }),
      'login token request',
    );
    if (typeof tokens.access_token !== 'string') throw new Error('login: no access_token');
    if (i > 0) {
      totals.push(performance.now() - started);
      formPosts.push(formPostMs);
    }
    // End the session, so the run leaves none behind (not timed).
    if (typeof tokens.refresh_token === 'string') {
      const out = await send(oidc.end_session_endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: clientId, refresh_token: tokens.refresh_token }),
      });
      await out.body?.cancel();
    }
  }
  return { ...sequential(totals), user: user.username, clientId, formPost: sequential(formPosts) };
}

async function registrations(oidc: Discovery, count: number): Promise<Sequential & { deleted: number }> {
  const times: number[] = [];
  let deleted = 0;
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    const response = await send(oidc.registration_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      // The smallest registration an MCP host sends (mcp-server/test/attacks/support/attackKit.ts).
      body: JSON.stringify({
        client_name: `bench registration ${i}`,
        redirect_uris: [`http://127.0.0.1:${30_000 + i}/callback`],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
      }),
    });
    const body = await json(response, 'registration');
    times.push(performance.now() - started);
    const uri = body.registration_client_uri;
    const token = body.registration_access_token;
    if (typeof uri !== 'string' || typeof token !== 'string')
      throw new Error('registration: no registration_client_uri or registration_access_token');
    const gone = await send(uri, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    await gone.body?.cancel();
    if (gone.status !== 204) throw new Error(`deleting ${String(body.client_id)}: HTTP ${gone.status}`);
    deleted += 1;
  }
  return { ...sequential(times), deleted };
}

async function attempt<T>(what: string, run: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await run();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.log(`[bench] keycloak: ${what} failed: ${message}`);
    return { error: message };
  }
}

const ok = <T extends object>(x: T | { error: string }): x is T => !('error' in x);

/**
 * Measures and prints the Keycloak figures of the running stack, or says why not; never throws (the figures
 * are informational: a stack that is missing or half up does not fail the bench).
 */
export async function keycloakBench(options: {
  root: string;
  quick: boolean;
  durationSeconds: number;
  warmupSeconds: number;
}): Promise<KeycloakBench> {
  const cardPath = process.env.STACK_CARD_PATH ?? join(options.root, '.stack', 'stack.json');
  const skip = (why: string): KeycloakBench => {
    console.log(`[bench] keycloak: skipped (${why})`);
    return { skipped: why };
  };
  let found: StackCard | undefined;
  try {
    found = await readStackCard(cardPath);
  } catch (error) {
    return skip(error instanceof Error ? error.message : String(error));
  }
  if (!found || found.status !== 'ready')
    return skip('no running stack: npm start first, or STACK_CARD_PATH');
  const card = found;
  let oidc: Discovery;
  try {
    oidc = (await json(
      await send(`${card.issuer}/.well-known/openid-configuration`),
      'discovery',
    )) as unknown as Discovery;
  } catch (error) {
    return skip(`${card.issuer} does not answer: ${error instanceof Error ? error.message : String(error)}`);
  }
  const n = options.quick ? 8 : 20;
  const seconds = options.durationSeconds;
  console.log('');
  console.log(
    `[bench] keycloak ${card.keycloakUrl} (realm ${card.realm}; informational, no targets): loads of ${seconds} s at ${CONNECTIONS} connections, ${n} sequential logins and registrations`,
  );
  const clientCredentialsFigures = await attempt('client_credentials', () =>
    clientCredentials(card, oidc, seconds, options.warmupSeconds),
  );
  if (ok(clientCredentialsFigures)) {
    const x = clientCredentialsFigures;
    console.log(
      `[bench] keycloak client_credentials ${x.reqPerSec} req/s  p50 ${x.p50Ms} ms  p99 ${x.p99Ms} ms  non-2xx ${x.non2xx}  errors ${x.errors}  (${x.clientId})`,
    );
  }
  const loginFigures = await attempt('login', () => logins(card, oidc, n));
  if (ok(loginFigures)) {
    const x = loginFigures;
    console.log(
      `[bench] keycloak login (authorize → form → code → token) p50 ${x.p50Ms} ms  p99 ${x.p99Ms} ms; form POST alone p50 ${x.formPost.p50Ms} ms  p99 ${x.formPost.p99Ms} ms  (${x.count} logins of ${x.user} with ${x.clientId})`,
    );
  }
  const dcrFigures = await attempt('DCR', () => registrations(oidc, n));
  if (ok(dcrFigures)) {
    const x = dcrFigures;
    console.log(
      `[bench] keycloak DCR (anonymous registration) p50 ${x.p50Ms} ms  p99 ${x.p99Ms} ms  (${x.count} registered, ${x.deleted} deleted again)`,
    );
  }
  const jwksFigures = await attempt('JWKS', async () => {
    const request = { url: oidc.jwks_uri, method: 'GET' as const };
    if (options.warmupSeconds > 0) await load({ ...request, duration: options.warmupSeconds });
    return load({ ...request, duration: seconds });
  });
  if (ok(jwksFigures)) {
    const x = jwksFigures;
    console.log(
      `[bench] keycloak JWKS ${x.reqPerSec} req/s  p50 ${x.p50Ms} ms  p99 ${x.p99Ms} ms  non-2xx ${x.non2xx}  errors ${x.errors}`,
    );
  }
  return {
    keycloakUrl: card.keycloakUrl,
    issuer: card.issuer,
    connections: CONNECTIONS,
    durationSeconds: seconds,
    clientCredentials: clientCredentialsFigures,
    login: loginFigures,
    dcr: dcrFigures,
    jwks: jwksFigures,
  };
}
