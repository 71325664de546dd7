// A person's access token through Keycloak's real login form (authorization code + PKCE, the loopback callback
// of the test); the cookie jar keeps the SSO session, so a second login of the same user needs no password.
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import type { CookieJar } from '../../e2e/support/cookieJar.ts';
import {
  authorizationCodeUrl,
  createPkcePair,
  loginThroughBrowserForm,
} from '../../e2e/support/keycloakLogin.ts';
import type { LoopbackCallback } from '../../e2e/support/loopbackCallback.ts';
import { user } from '../../e2e/support/stack.ts';
import { postForm } from '../../e2e/support/tokens.ts';

export async function formLoginToken(options: {
  card: StackCard;
  clientId: string;
  callback: LoopbackCallback;
  username: 'alice' | 'bob';
  jar: CookieJar;
  scope: string;
}): Promise<string> {
  const { card, clientId, callback } = options;
  const pkce = createPkcePair();
  const authorizationUrl = authorizationCodeUrl(`${card.issuer}/protocol/openid-connect/auth`, {
    clientId,
    redirectUri: callback.redirectUri,
    scope: options.scope,
    challenge: pkce.challenge,
    state: crypto.randomUUID(),
  });
  const { code } = await loginThroughBrowserForm({
    authorizationUrl,
    ...user(card, options.username),
    callback,
    jar: options.jar,
  });
  const tokens = await postForm(`${card.issuer}/protocol/openid-connect/token`, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: callback.redirectUri,
    client_id: clientId,
    code_verifier: pkce.verifier,
  });
  return tokens.access_token as string;
}
