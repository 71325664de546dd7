// The one authorization decision (auth/authorize.ts) and the one place a decision becomes a challenge
// (protectedResource.ts): allow / 401 / 403 / 503 with the scopes wanted, without HTTP.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accessRule, ALLOW, authorize, unauthenticated } from '../../src/auth/authorize.ts';
import { AuthError } from '../../src/auth/errors.ts';
import { challengeFor, protectedResource } from '../../src/auth/protectedResource.ts';

const METADATA_URL = 'http://localhost:3000/.well-known/oauth-protected-resource/mcp';
const requestRule = accessRule({
  scopes: ['mcp:tools'],
  insufficientScope: 'the token lacks the mcp:tools scope',
});
const adminRule = accessRule({
  scopes: ['mcp:tools', 'mcp:admin'],
  roles: ['mcp-admin'],
  within: requestRule,
  insufficientScope: 'the reset_usage tool needs the scopes: mcp:tools mcp:admin',
});

describe('authorize', () => {
  it('allows with the one shared ALLOW object (nothing allocated on the common path)', () => {
    assert.equal(authorize({ scopes: ['mcp:tools'], roles: [] }, requestRule), ALLOW);
    assert.equal(authorize({ scopes: ['mcp:admin'], roles: ['mcp-admin'] }, adminRule), ALLOW);
  });

  it('a rule within another checks only what the outer one did not, but names every scope', () => {
    assert.deepEqual(adminRule.scopes, ['mcp:admin']);
    assert.equal(adminRule.scope, 'mcp:tools mcp:admin');
  });

  it('a missing scope → 403 insufficient_scope with the scopes to ask for and the ones missing', () => {
    assert.deepEqual(authorize({ scopes: ['mcp:tools'], roles: ['mcp-admin'] }, adminRule), {
      allowed: false,
      status: 403,
      code: 'insufficient_scope',
      message: 'the reset_usage tool needs the scopes: mcp:tools mcp:admin',
      scope: 'mcp:tools mcp:admin',
      missing: ['mcp:admin'],
    });
  });

  it('scopes before roles; a missing role → 403 role_missing naming it', () => {
    const noScope = authorize({ scopes: [], roles: [] }, adminRule);
    assert.equal(noScope.allowed === false && noScope.code, 'insufficient_scope');
    const noRole = authorize({ scopes: ['mcp:admin'], roles: ['other'] }, adminRule);
    assert.deepEqual(noRole, {
      allowed: false,
      status: 403,
      code: 'role_missing',
      message: 'needs the realm role(s) mcp-admin',
      missing: ['mcp-admin'],
    });
  });

  it('a failed verification → 401 with the rule’s scope; an unreachable verifier → 503', () => {
    assert.deepEqual(unauthenticated(new AuthError('token_expired', 'token expired'), requestRule), {
      allowed: false,
      status: 401,
      code: 'token_expired',
      message: 'token expired',
      scope: 'mcp:tools',
    });
    const cause = new Error('ECONNREFUSED');
    const down = unauthenticated(
      new AuthError('jwks_unavailable', 'keys unavailable', { cause }),
      requestRule,
    );
    assert.equal(down.status, 503);
    assert.equal(down.status === 503 && down.cause, cause);
  });
});

describe('challengeFor (RFC 6750 §3, MCP authorization §Scope Challenge Handling)', () => {
  const challenge = (d: Parameters<typeof challengeFor>[0]) => challengeFor(d, METADATA_URL);

  it('no token: resource_metadata and scope, no error code (§3.1)', () => {
    assert.equal(
      challenge(unauthenticated(new AuthError('token_missing', 'a bearer token is required'), requestRule)),
      `Bearer resource_metadata="${METADATA_URL}", scope="mcp:tools"`,
    );
  });

  it('a bad token: invalid_token with the reason', () => {
    assert.equal(
      challenge(unauthenticated(new AuthError('token_expired', 'token expired'), requestRule)),
      `Bearer resource_metadata="${METADATA_URL}", scope="mcp:tools", error="invalid_token", error_description="token expired"`,
    );
  });

  it('a missing scope: insufficient_scope naming every scope the call needs (step-up)', () => {
    assert.equal(
      challenge(authorize({ scopes: ['mcp:tools'], roles: [] }, adminRule)),
      `Bearer resource_metadata="${METADATA_URL}", scope="mcp:tools mcp:admin", error="insufficient_scope", error_description="the reset_usage tool needs the scopes: mcp:tools mcp:admin"`,
    );
  });

  it('none for allow, a missing role (no token can add it) or an unavailable verifier (retry)', () => {
    assert.equal(challenge(ALLOW), undefined);
    assert.equal(challenge(authorize({ scopes: ['mcp:admin'], roles: [] }, adminRule)), undefined);
    assert.equal(
      challenge(unauthenticated(new AuthError('introspection_unavailable', 'down'), requestRule)),
      undefined,
    );
  });
});

describe('protectedResource: the resource URL enters once', () => {
  it('derives the metadata, its URL, the paths it is served at and a bound challenge', () => {
    const resource = protectedResource({
      resource: 'https://mcp.example.com/tools/mcp',
      issuers: ['https://id.example.com/realms/mcp'],
      scopesSupported: ['mcp:tools', 'mcp:admin'],
      resourceName: 'test',
    });
    assert.equal(resource.metadata.resource, 'https://mcp.example.com/tools/mcp');
    assert.equal(
      resource.metadataUrl,
      'https://mcp.example.com/.well-known/oauth-protected-resource/tools/mcp',
    );
    assert.deepEqual(resource.metadataPaths, [
      '/.well-known/oauth-protected-resource/tools/mcp',
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource',
    ]);
    assert.match(
      resource.challenge(unauthenticated(new AuthError('token_missing', 'none'), requestRule)) ?? '',
      /^Bearer resource_metadata="https:\/\/mcp\.example\.com\/\.well-known\/oauth-protected-resource\/tools\/mcp"/,
    );
  });

  it('serves each path once when the resource is this server’s own /mcp', () => {
    const resource = protectedResource({
      resource: 'http://localhost:3000/mcp',
      issuers: ['http://localhost:8080/realms/mcp'],
      scopesSupported: ['mcp:tools'],
      resourceName: 'test',
    });
    assert.deepEqual(resource.metadataPaths, [
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource',
    ]);
  });
});
