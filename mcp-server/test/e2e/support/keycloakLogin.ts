// Drives Keycloak's real login page over HTTP, as a person in a browser would: GET the authorization URL,
// read the form Keycloak renders, POST the username and password to its action, follow the redirect home.
import { createHash, randomBytes } from 'node:crypto';
import { CookieJar } from './cookieJar.ts';
import type { LoopbackCallback } from './loopbackCallback.ts';

export function createPkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** An authorization-code request URL (RFC 6749 §4.1.1), with PKCE S256 when a challenge is given. */
export function authorizationCodeUrl(
  endpoint: string,
  request: {
    clientId: string;
    redirectUri: string;
    scope: string;
    challenge?: string;
    state?: string;
    resource?: string;
  },
): URL {
  const url = new URL(endpoint);
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: request.clientId,
    redirect_uri: request.redirectUri,
    scope: request.scope,
  });
  if (request.state) params.set('state', request.state);
  if (request.challenge) {
    params.set('code_challenge', request.challenge);
    params.set('code_challenge_method', 'S256');
  }
  if (request.resource) params.set('resource', request.resource);
  url.search = params.toString();
  return url;
}

export interface AuthorizationResult {
  code: string;
  state: string | null;
  iss: string | null;
}

/** Returns the authorization code delivered to the loopback callback; a login error surfaces with Keycloak's words. */
export async function loginThroughBrowserForm(opts: {
  authorizationUrl: URL;
  username: string;
  password: string;
  callback: LoopbackCallback;
  jar?: CookieJar;
}): Promise<AuthorizationResult> {
  const jar = opts.jar ?? new CookieJar();
  const received = opts.callback.next();
  let response = await fetch(opts.authorizationUrl, {
    redirect: 'manual',
    headers: { cookie: jar.header() },
  });
  jar.store(response);
  if (response.status === 200) {
    const page = await response.text();
    const action = /<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"/.exec(page)?.[1];
    if (!action) throw new Error(`Keycloak did not render its login form:\n${page.slice(0, 500)}`);
    response = await fetch(decodeHtml(action), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
      body: new URLSearchParams({ username: opts.username, password: opts.password, credentialId: '' }),
    });
    jar.store(response);
  }
  const location = response.headers.get('location');
  if (response.status !== 302 || !location) {
    const body = await response.text();
    const message = /<span[^>]*id="input-error"[^>]*>([^<]+)/.exec(body)?.[1]?.trim();
    throw new Error(
      `login did not redirect back (HTTP ${response.status}): ${message ?? body.slice(0, 300)}`,
    );
  }
  // The browser follows the redirect to the client's loopback server, which receives the code.
  await fetch(location).then((r) => r.text());
  const query = await received;
  const error = query.get('error');
  if (error) throw new Error(`authorization failed: ${error} ${query.get('error_description') ?? ''}`);
  const code = query.get('code');
  if (!code) throw new Error(`the callback carried no code: ${query.toString()}`);
  return { code, state: query.get('state'), iss: query.get('iss') };
}

function decodeHtml(value: string): string {
  return value
    .replace(/&amp;/g, '&')
    .replace(/&#x3d;|&#61;/gi, '=')
    .replace(/&quot;/g, '"');
}
