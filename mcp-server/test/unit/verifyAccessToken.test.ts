// The access token verifier against a real JWKS over HTTP: every rejection reason has its stable code.
import assert from 'node:assert/strict';
import { closedPort } from './support/closedPort.ts';
import { after, before, describe, it } from 'node:test';
import { CompactSign, SignJWT } from 'jose';
import { accessTokenPolicy } from '../../src/auth/accessTokenPolicy.ts';
import { AuthError, type AuthErrorCode } from '../../src/auth/errors.ts';
import {
  createAccessTokenVerifier,
  type AccessTokenVerifierOptions,
} from '../../src/auth/verifyAccessToken.ts';
import {
  AUDIENCE,
  defaultClaims,
  ISSUER,
  now,
  startTestIssuer,
  tamperPayload,
  unsecuredToken,
  type TestIssuer,
} from './support/testIssuer.ts';

async function rejectsWith(promise: Promise<unknown>, code: AuthErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AuthError, `expected an AuthError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

describe('createAccessTokenVerifier', () => {
  let issuer: TestIssuer;
  let options: AccessTokenVerifierOptions;
  let verify: ReturnType<typeof createAccessTokenVerifier>;

  before(async () => {
    issuer = await startTestIssuer();
    options = {
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUrl: issuer.jwksUrl,
      algorithms: ['RS256'],
      clockToleranceSeconds: 30,
    };
    verify = createAccessTokenVerifier(options);
  });
  after(() => issuer.close());

  describe('accepts', () => {
    it('a valid Keycloak-shaped token and maps its claims', async () => {
      const claims = defaultClaims();
      const verified = await verify(await issuer.sign(claims));
      assert.equal(verified.subject, claims.sub);
      assert.equal(verified.username, 'alice');
      assert.equal(verified.clientId, 'vscode-client');
      assert.deepEqual(verified.scopes, ['openid', 'profile', 'mcp:tools']);
      assert.equal(verified.expiresAt, claims.exp);
      assert.equal(verified.claims.iss, ISSUER);
      assert.ok(Object.isFrozen(verified.claims));
    });

    it('an aud array that contains the resource', async () => {
      const verified = await verify(await issuer.sign({ aud: ['account', AUDIENCE] }));
      assert.equal(verified.username, 'alice');
    });

    it('typ absent, JWT, at+jwt and application/at+jwt', async () => {
      for (const typ of [undefined, 'JWT', 'at+jwt', 'application/at+jwt']) {
        await verify(await issuer.sign({}, { header: { typ } }));
      }
    });

    it('client_id when azp is absent, and no username', async () => {
      const machine = createAccessTokenVerifier({
        ...options,
        policy: accessTokenPolicy({ serviceAccountClients: ['mcp-m2m'] }),
      });
      const verified = await machine(
        await issuer.sign({ azp: undefined, client_id: 'mcp-m2m', preferred_username: undefined }),
      );
      assert.equal(verified.clientId, 'mcp-m2m');
      assert.equal(verified.username, null);
    });

    it('scopes from scope only: an scp array gives none (Keycloak never writes one; a mapper could)', async () => {
      assert.deepEqual(
        (await verify(await issuer.sign({ scope: undefined, scp: ['mcp:tools'] }))).scopes,
        [],
      );
      assert.deepEqual((await verify(await issuer.sign({ scope: undefined }))).scopes, []);
    });

    it('a token expired less than the clock tolerance ago', async () => {
      await verify(await issuer.sign({ exp: now() - 10 }));
    });
  });

  describe('rejects', () => {
    it('an expired token → token_expired', async () => {
      await rejectsWith(verify(await issuer.sign({ iat: now() - 600, exp: now() - 120 })), 'token_expired');
    });

    it('a token used before nbf → token_not_yet_valid', async () => {
      await rejectsWith(verify(await issuer.sign({ nbf: now() + 120 })), 'token_not_yet_valid');
    });

    it('another issuer → issuer_mismatch', async () => {
      await rejectsWith(
        verify(await issuer.sign({ iss: 'https://evil.test/realms/mcp' })),
        'issuer_mismatch',
      );
      await rejectsWith(verify(await issuer.sign({ iss: undefined })), 'issuer_mismatch');
    });

    it('another audience, or none → audience_mismatch', async () => {
      await rejectsWith(verify(await issuer.sign({ aud: 'account' })), 'audience_mismatch');
      await rejectsWith(
        verify(await issuer.sign({ aud: 'http://localhost:3000/mcp/' })),
        'audience_mismatch',
      );
      await rejectsWith(verify(await issuer.sign({ aud: undefined })), 'audience_mismatch');
    });

    it('alg none → algorithm_not_allowed', async () => {
      await rejectsWith(verify(unsecuredToken()), 'algorithm_not_allowed');
    });

    it('HS256 "signed" with the public key (algorithm confusion) → algorithm_not_allowed', async () => {
      const secret = new TextEncoder().encode(await issuer.publicKeyPem());
      const token = await new SignJWT(defaultClaims())
        .setProtectedHeader({ alg: 'HS256', kid: 'key-1', typ: 'JWT' })
        .sign(secret);
      await rejectsWith(verify(token), 'algorithm_not_allowed');
    });

    it('an RS256 token when only PS256 is allowed → algorithm_not_allowed', async () => {
      const psOnly = createAccessTokenVerifier({ ...options, algorithms: ['PS256'] });
      await rejectsWith(psOnly(await issuer.sign()), 'algorithm_not_allowed');
    });

    it('a kid the JWKS does not have → key_not_found', async () => {
      const stranger = await issuer.newKey('key-unknown');
      await rejectsWith(verify(await issuer.sign({}, { key: stranger })), 'key_not_found');
    });

    it('a tampered payload → signature_invalid', async () => {
      const token = tamperPayload(await issuer.sign(), { preferred_username: 'mallory' });
      await rejectsWith(verify(token), 'signature_invalid');
    });

    it('a signature by another key under a published kid → signature_invalid', async () => {
      const impostor = await issuer.newKey('key-1');
      await rejectsWith(verify(await issuer.sign({}, { key: impostor })), 'signature_invalid');
    });

    it('garbage → token_malformed', async () => {
      for (const token of ['not-a-jwt', 'a.b.c', '', `${Buffer.from('{}').toString('base64url')}.e30.`]) {
        await rejectsWith(verify(token), 'token_malformed');
      }
    });

    it('a header or payload that is JSON but not an object, or a non-string kid → token_malformed, never a crash', async () => {
      const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const payload = part({ iss: ISSUER, sub: 'x' });
      for (const header of [[1], null, 5, 'x', { alg: 'RS256', kid: 7 }, { alg: 'RS256', kid: {} }]) {
        await rejectsWith(verify(`${part(header)}.${payload}.c2ln`), 'token_malformed');
      }
      for (const body of [[1], null, 5, 'x']) {
        await rejectsWith(
          verify(`${part({ alg: 'RS256', kid: 'key-1' })}.${part(body)}.c2ln`),
          'token_malformed',
        );
      }
    });

    it('a correctly signed payload that is not a JSON claims set → token_malformed', async () => {
      const key = await issuer.newKey('key-raw');
      issuer.publish(key);
      const eager = createAccessTokenVerifier({ ...options, jwksCooldownMs: 0 });
      const token = await new CompactSign(new TextEncoder().encode('not json'))
        .setProtectedHeader({ alg: 'RS256', kid: 'key-raw' })
        .sign(key.privateKey);
      await rejectsWith(eager(token), 'token_malformed');
    });

    it('a JWT of another kind (typ id+jwt, logout+jwt) → token_type_not_allowed', async () => {
      for (const typ of ['id+jwt', 'logout+jwt', 'JOSE', 123]) {
        await rejectsWith(verify(await issuer.sign({}, { header: { typ } })), 'token_type_not_allowed');
      }
    });

    it('no exp, no sub, no client → claim_invalid', async () => {
      await rejectsWith(verify(await issuer.sign({ exp: undefined })), 'claim_invalid');
      await rejectsWith(verify(await issuer.sign({ sub: undefined })), 'claim_invalid');
      await rejectsWith(verify(await issuer.sign({ azp: undefined, client_id: undefined })), 'claim_invalid');
      await rejectsWith(verify(await issuer.sign({ exp: 'tomorrow' })), 'claim_invalid');
    });
  });

  describe('JWKS', () => {
    it('is fetched once and cached', async () => {
      const fresh = createAccessTokenVerifier(options);
      const before = issuer.fetches;
      await fresh(await issuer.sign());
      await fresh(await issuer.sign());
      assert.equal(issuer.fetches - before, 1);
    });

    it('is refetched for an unknown kid (key rotation), but not within the cooldown', async () => {
      const rotated = await issuer.newKey('key-rotated');
      const cooling = createAccessTokenVerifier(options); // default cooldown: 30 s
      const eager = createAccessTokenVerifier({ ...options, jwksCooldownMs: 0 });
      await cooling(await issuer.sign());
      await eager(await issuer.sign());
      issuer.publish(rotated);
      const token = await issuer.sign({}, { key: rotated });
      await rejectsWith(cooling(token), 'key_not_found');
      const verified = await eager(token);
      assert.equal(verified.username, 'alice');
    });

    it('answering 500 → jwks_unavailable', async () => {
      issuer.down = true;
      try {
        await rejectsWith(createAccessTokenVerifier(options)(await issuer.sign()), 'jwks_unavailable');
        await rejectsWith(createAccessTokenVerifier(options).checkKeys(), 'jwks_unavailable');
      } finally {
        issuer.down = false;
      }
    });

    it('unreachable → jwks_unavailable', async () => {
      const unreachable = createAccessTokenVerifier({
        ...options,
        jwksUrl: `http://127.0.0.1:${await closedPort()}/certs`,
      });
      await rejectsWith(unreachable(await issuer.sign()), 'jwks_unavailable');
    });

    it('checkKeys resolves once keys can be fetched, without refetching fresh keys', async () => {
      const fresh = createAccessTokenVerifier(options);
      const before = issuer.fetches;
      await fresh.checkKeys();
      await fresh.checkKeys();
      assert.equal(issuer.fetches - before, 1);
    });
  });

  describe('issuer and client allow-lists', () => {
    it('a second trusted issuer with its own JWKS is accepted; an issuer not on the list → issuer_mismatch without any fetch', async () => {
      const other = await startTestIssuer();
      try {
        const OTHER = 'https://issuer.test/realms/other';
        const both = createAccessTokenVerifier({
          ...options,
          moreIssuers: [{ issuer: OTHER, jwksUrl: other.jwksUrl }],
        });
        assert.equal((await both(await other.sign({ iss: OTHER }))).username, 'alice');
        assert.equal((await both(await issuer.sign())).username, 'alice');
        // Signed by the other issuer's key but claiming the first issuer: its JWKS does not have that key.
        await rejectsWith(both(await other.sign({ iss: ISSUER }, {})), 'signature_invalid');
        const before = other.fetches + issuer.fetches;
        await rejectsWith(both(await other.sign({ iss: 'https://evil.test/realms/mcp' })), 'issuer_mismatch');
        assert.equal(other.fetches + issuer.fetches, before, 'no JWKS fetch for an untrusted issuer');
      } finally {
        await other.close();
      }
    });

    it('with OIDC_ALLOWED_CLIENTS: a token of another client → client_not_allowed', async () => {
      const strict = createAccessTokenVerifier({
        ...options,
        policy: accessTokenPolicy({ allowedClients: ['vscode-client'] }),
      });
      assert.equal((await strict(await issuer.sign())).clientId, 'vscode-client');
      await rejectsWith(strict(await issuer.sign({ azp: 'someone-else' })), 'client_not_allowed');
    });

    it('realm roles come from realm_access.roles', async () => {
      const verified = await verify(await issuer.sign({ realm_access: { roles: ['mcp-admin', 7] } }));
      assert.deepEqual(verified.roles, ['mcp-admin']);
    });
  });

  describe('verified-token cache', () => {
    it('a repeated token is not verified again (no RSA), and the outcome says cache hit', async () => {
      const outcomes: string[] = [];
      const cached = createAccessTokenVerifier({
        ...options,
        tokenCacheSize: 10,
        onOutcome: (o) => outcomes.push(o.ok ? (o.cached ? 'hit' : 'verified') : o.code),
      });
      const token = await issuer.sign();
      await cached(token);
      await cached(token);
      await cached(token);
      assert.deepEqual(outcomes, ['verified', 'hit', 'hit']);
    });

    it('a rejected token is never cached: the same bad token fails every time', async () => {
      const cached = createAccessTokenVerifier({ ...options, tokenCacheSize: 10 });
      const bad = await issuer.sign({ aud: 'account' });
      await rejectsWith(cached(bad), 'audience_mismatch');
      await rejectsWith(cached(bad), 'audience_mismatch');
    });

    it('an entry never outlives exp, not even within the clock tolerance', async () => {
      const cached = createAccessTokenVerifier({ ...options, tokenCacheSize: 10, clockToleranceSeconds: 0 });
      const token = await issuer.sign({ exp: now() + 1 });
      await cached(token);
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      await rejectsWith(cached(token), 'token_expired');
    });

    it('a refetch that drops a key (rotation) stops cached tokens of that key at once, not after the cache max age', async () => {
      const retiring = await issuer.newKey('key-dropped');
      const successor = await issuer.newKey('key-successor');
      issuer.publish(retiring);
      const cached = createAccessTokenVerifier({ ...options, tokenCacheSize: 10, jwksCooldownMs: 0 });
      const old = await issuer.sign({}, { key: retiring });
      assert.equal((await cached(old)).username, 'alice');
      assert.equal((await cached(old)).username, 'alice', 'a cache hit');
      issuer.unpublish('key-dropped');
      issuer.publish(successor);
      // A token of the new key triggers the refetch; the old key is gone from the set now.
      assert.equal((await cached(await issuer.sign({}, { key: successor }))).username, 'alice');
      await rejectsWith(cached(old), 'key_not_found');
    });

    it('a key removed at the issuer stops working once the JWKS cache max age passes (OIDC_JWKS_CACHE_MAX_AGE_SECONDS), cached tokens included', async () => {
      const retiring = await issuer.newKey('key-retiring');
      issuer.publish(retiring);
      const shortLived = createAccessTokenVerifier({
        ...options,
        tokenCacheSize: 10,
        jwksCacheMaxAgeMs: 300,
      });
      const token = await issuer.sign({}, { key: retiring });
      assert.equal((await shortLived(token)).username, 'alice');
      issuer.unpublish('key-retiring');
      assert.equal((await shortLived(token)).username, 'alice', 'still within the max age');
      await new Promise((resolve) => setTimeout(resolve, 400));
      await rejectsWith(shortLived(token), 'key_not_found');
      await rejectsWith(shortLived(await issuer.sign({ sub: 'fresh' }, { key: retiring })), 'key_not_found');
    });
  });
});
