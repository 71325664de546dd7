// A user's access token through a seeded public client (authorization code + PKCE, Keycloak's own forms), the
// way a host gets one; for tests that need a real user token rather than the M2M client's.
import assert from 'node:assert/strict';
import { authorize, CookieJar, pkcePair } from '../../../src/doctor/http.ts';
import type { StackCard } from '../../../src/stackCard.ts';

export interface PublicClient {
  clientId: string;
  redirectUri: string;
}

// claude-code is registered as http://localhost/callback: Keycloak accepts any loopback port (RFC 8252).
const CLAUDE_CODE: PublicClient = { clientId: 'claude-code', redirectUri: 'http://localhost:45123/callback' };

/** A demo user of the card, by name. */
export async function userToken(
  card: StackCard,
  username: string,
  scope: string,
  client: PublicClient = CLAUDE_CODE,
): Promise<string> {
  const user = card.users.find((u) => u.username === username);
  assert.ok(user, `no user ${username} in the card`);
  return loginToken(card.issuer, user, scope, client);
}

/** Any user Keycloak can log in (a demo user, or one from a directory), by credentials. */
export async function loginToken(
  issuer: string,
  user: { username: string; password: string },
  scope: string,
  client: PublicClient = CLAUDE_CODE,
): Promise<string> {
  const { verifier, challenge } = pkcePair();
  const url = new URL(`${issuer}/protocol/openid-connect/auth`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    scope,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  const query = await authorize(url, new CookieJar(), user);
  const code = query.get('code');
  assert.ok(code, query.toString());
  const response = await fetch(`${issuer}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: client.redirectUri,
      client_id: client.clientId,
    }),
  });
  const body = (await response.json()) as { access_token?: string };
  assert.ok(body.access_token, JSON.stringify(body));
  return body.access_token;
}
