// The stack card the seed writes in compose mode (seed/src/composeCard.ts): host URLs, kept credentials.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { composeCard } from '@mcp-keycloak-stack/seed/composeCard';
import { SeedError } from '@mcp-keycloak-stack/seed/errors';

const env = {
  KEYCLOAK_REALM: 'mcp',
  STACK_PUBLIC_KEYCLOAK_URL: 'https://localhost:8443/',
  STACK_PUBLIC_KEYCLOAK_MANAGEMENT_URL: 'http://127.0.0.1:9000',
  STACK_PUBLIC_MCP_URL: 'https://localhost:3443/mcp',
  STACK_PUBLIC_VALKEY_URL: 'redis://127.0.0.1:6379',
};

describe('composeCard', () => {
  it('derives issuer, JWKS, metadata and health URLs from the public URLs (mode compose, starting)', () => {
    const card = composeCard(env, undefined);
    assert.equal(card.mode, 'compose');
    assert.equal(card.status, 'starting');
    assert.equal(card.keycloakUrl, 'https://localhost:8443');
    assert.equal(card.issuer, 'https://localhost:8443/realms/mcp');
    assert.equal(card.jwksUrl, 'https://localhost:8443/realms/mcp/protocol/openid-connect/certs');
    assert.equal(card.resourceMetadataUrl, 'https://localhost:3443/.well-known/oauth-protected-resource/mcp');
    assert.equal(card.mcpHealthUrl, 'https://localhost:3443/healthz');
    assert.equal(card.valkeyUrl, 'redis://127.0.0.1:6379');
    assert.deepEqual(card.users, []);
  });

  it('names the admin listener only when given one (the production profile: its public port serves no /admin)', () => {
    assert.equal(composeCard(env, undefined).keycloakAdminUrl, undefined);
    const card = composeCard(
      { ...env, STACK_PUBLIC_KEYCLOAK_ADMIN_URL: 'https://localhost:9443/' },
      undefined,
    );
    assert.equal(card.keycloakAdminUrl, 'https://localhost:9443');
    assert.equal(card.keycloakUrl, 'https://localhost:8443');
  });

  it('lists the built-in tools, then each upstream, with URLs on the public MCP origin', () => {
    assert.deepEqual(composeCard(env, undefined).upstreams, [
      {
        name: 'builtin',
        mcpUrl: 'https://localhost:3443/mcp',
        resourceMetadataUrl: 'https://localhost:3443/.well-known/oauth-protected-resource/mcp',
        scopes: ['mcp:tools'],
      },
    ]);
    const card = composeCard(env, undefined, [
      { name: 'everything', path: '/mcp/everything', scopes: ['mcp:everything'] },
    ]);
    assert.deepEqual(card.upstreams?.[1], {
      name: 'everything',
      mcpUrl: 'https://localhost:3443/mcp/everything',
      resourceMetadataUrl: 'https://localhost:3443/.well-known/oauth-protected-resource/mcp/everything',
      scopes: ['mcp:everything'],
    });
  });

  it('keeps the users and clients of an earlier card, so re-runs keep their passwords', () => {
    const previous = composeCard(env, undefined);
    previous.users = [{ username: 'alice', password: 'kept-password-1', roles: ['mcp-admin'] }];
    previous.clients = { m2m: { clientId: 'mcp-m2m', clientSecret: 'kept-secret' } };
    const card = composeCard(env, previous);
    assert.deepEqual(card.users, previous.users);
    assert.deepEqual(card.clients, previous.clients);
  });

  it('names a missing or non-URL variable', () => {
    assert.throws(
      () => composeCard({ ...env, STACK_PUBLIC_MCP_URL: 'localhost:3000/mcp' }, undefined),
      (error: unknown) => error instanceof SeedError && /STACK_PUBLIC_MCP_URL/.test(error.message),
    );
    assert.throws(
      () => composeCard({ ...env, STACK_PUBLIC_VALKEY_URL: undefined }, undefined),
      /STACK_PUBLIC_VALKEY_URL must be an absolute/,
    );
    // The Valkey URL carries the password: a malformed one is named, never echoed.
    assert.throws(
      () => composeCard({ ...env, STACK_PUBLIC_VALKEY_URL: 'redis//:s3cret-password@x' }, undefined),
      (error: unknown) => error instanceof Error && !error.message.includes('s3cret-password'),
    );
  });
});
