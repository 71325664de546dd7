// Drives Keycloak's real login page over HTTP, as a person in a browser would: GET the authorization URL,
// read the form Keycloak renders, POST the username and password to its action, follow the redirect home.
import { CookieJar, passKeycloakForms, pkcePair } from '@mcp-keycloak-stack/seed/keycloakLogin';
import type { LoopbackCallback } from './loopbackCallback.ts';

export const createPkcePair = pkcePair;

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

/**
 * Returns the authorization code delivered to the loopback callback; a login error surfaces with Keycloak's
 * words. The consent screen of a self-registered client is accepted unless `consent: 'deny'`.
 */
export async function loginThroughBrowserForm(opts: {
  authorizationUrl: URL;
  username: string;
  password: string;
  callback: LoopbackCallback;
  jar?: CookieJar;
  consent?: 'accept' | 'deny';
}): Promise<AuthorizationResult> {
  const jar = opts.jar ?? new CookieJar();
  const received = opts.callback.next();
  const send = (url: string, init: RequestInit) => fetch(url, { ...init, redirect: 'manual' });
  const first = await send(opts.authorizationUrl.href, { headers: { cookie: jar.header() } });
  const back = await passKeycloakForms(first, {
    jar,
    credentials: { username: opts.username, password: opts.password },
    consent: opts.consent ?? 'accept',
    send,
  });
  // The browser follows the redirect to the client's loopback server, which receives the code.
  await fetch(back.headers.get('location') as string).then((r) => r.text());
  const query = await received;
  const error = query.get('error');
  if (error) throw new Error(`authorization failed: ${error} ${query.get('error_description') ?? ''}`);
  const code = query.get('code');
  if (!code) throw new Error(`the callback carried no code: ${query.toString()}`);
  return { code, state: query.get('state'), iss: query.get('iss') };
}
