// The access-token policy behind both verifiers: what a correctly signed token must still be (issue 11,
// attacks 3, 5 and 6: service accounts of self-registered clients, long-lived tokens, ID tokens as bearer).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { accessTokenPolicy, isServiceAccountToken } from '../../src/auth/accessTokenPolicy.ts';
import { AuthError, type AuthErrorCode } from '../../src/auth/errors.ts';
import { createAccessTokenVerifier } from '../../src/auth/verifyAccessToken.ts';
import { AUDIENCE, ISSUER, now, startTestIssuer, type TestIssuer } from './support/testIssuer.ts';

async function rejectsWith(promise: Promise<unknown>, code: AuthErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AuthError, `expected an AuthError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

// Keycloak's client_credentials token: client_id claim, reserved username, no user session.
const SERVICE_ACCOUNT = {
  azp: 'mcp-m2m',
  client_id: 'mcp-m2m',
  preferred_username: 'service-account-mcp-m2m',
  sid: undefined,
};

describe('access-token policy', () => {
  let issuer: TestIssuer;
  let verify: ReturnType<typeof createAccessTokenVerifier>;

  before(async () => {
    issuer = await startTestIssuer();
    verify = createAccessTokenVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUrl: issuer.jwksUrl,
      algorithms: ['RS256'],
      clockToleranceSeconds: 30,
      policy: accessTokenPolicy({ serviceAccountClients: ['mcp-m2m'], maxLifetimeSeconds: 300 }),
    });
  });
  after(() => issuer.close());

  it('accepts a user access token (typ Bearer, a session) and the listed machine client', async () => {
    assert.equal((await verify(await issuer.sign())).username, 'alice');
    assert.equal((await verify(await issuer.sign(SERVICE_ACCOUNT))).clientId, 'mcp-m2m');
  });

  it('refuses ID, refresh, offline and logout tokens, and a token with no payload typ', async () => {
    for (const typ of ['ID', 'Refresh', 'Offline', 'Logout', undefined, 7]) {
      await rejectsWith(verify(await issuer.sign({ typ })), 'token_type_not_allowed');
    }
  });

  it('an ID token carrying mcp:tools in scp still gets no scope (scp is not read)', async () => {
    await rejectsWith(
      verify(await issuer.sign({ typ: 'ID', scope: undefined, scp: ['mcp:tools'] })),
      'token_type_not_allowed',
    );
  });

  it('refuses a service-account token of any client not on the list, however it is marked', async () => {
    const others = [
      { ...SERVICE_ACCOUNT, azp: 'dcr-client', client_id: 'dcr-client' },
      { azp: 'dcr-client', preferred_username: 'service-account-dcr-client' },
      { azp: 'dcr-client', sid: undefined },
      { azp: 'dcr-client', client_id: 'dcr-client' },
    ];
    for (const claims of others) {
      await rejectsWith(verify(await issuer.sign(claims)), 'client_not_allowed');
    }
  });

  it('refuses a token that lives longer than the cap, and one without iat when a cap is set', async () => {
    await rejectsWith(
      verify(await issuer.sign({ iat: now(), exp: now() + 36_000 })),
      'token_lifetime_too_long',
    );
    await rejectsWith(verify(await issuer.sign({ iat: undefined })), 'claim_invalid');
    assert.ok(await verify(await issuer.sign({ iat: now() - 10, exp: now() + 290 })));
    // Keycloak's iat and exp come from two clock readings: one second over the cap is its rounding, not an attack.
    assert.ok(await verify(await issuer.sign({ iat: now() - 1, exp: now() + 300 })));
  });

  it('a cap of 0 accepts any lifetime', async () => {
    const uncapped = createAccessTokenVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUrl: issuer.jwksUrl,
      algorithms: ['RS256'],
      clockToleranceSeconds: 30,
      policy: accessTokenPolicy({ maxLifetimeSeconds: 0 }),
    });
    assert.ok(await uncapped(await issuer.sign({ exp: now() + 36_000 })));
  });

  it('isServiceAccountToken: a user token with a session is not one', () => {
    assert.equal(isServiceAccountToken({ sid: 's', preferred_username: 'alice' }), false);
    assert.equal(isServiceAccountToken({ preferred_username: 'alice' }), true);
  });
});
