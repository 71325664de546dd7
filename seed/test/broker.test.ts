// SEED_BROKER_*: validation naming the variable, the client secret read from its file only, what the upstream's
// discovery document must say, and the identity provider and mapper the seed sends Keycloak (the real upstream,
// login and refusals: mcp-server/test/clients/brokerLogin.test.ts).
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readDiscovery, type UpstreamMetadata } from '../src/broker/discovery.ts';
import { adminRoleMapper, FIRST_LOGIN_FLOW, identityProvider } from '../src/broker/identityProvider.ts';
import { brokerFromEnv, brokerRedirectUri, brokerSettings } from '../src/broker/settings.ts';
import { loadSeedConfig, SEED_VARIABLES } from '../src/config.ts';
import { SeedError } from '../src/errors.ts';

const dir = await mkdtemp(join(tmpdir(), 'broker-settings-'));
const secretFile = join(dir, 'secret');
await writeFile(secretFile, 's3cret-client-secret\n');
const base = {
  KEYCLOAK_ADMIN_PASSWORD: 'x',
  SEED_BROKER_ISSUER: 'https://login.example.com/tenant-1/v2.0',
  SEED_BROKER_CLIENT_ID: 'mcp-stack',
  SEED_BROKER_CLIENT_SECRET_FILE: secretFile,
};
const settingsOf = (env: Record<string, string>) => brokerSettings(loadSeedConfig(env));
const fails = (env: Record<string, string>, pattern: RegExp) =>
  assert.throws(
    () => settingsOf(env),
    (e: unknown) => e instanceof SeedError && pattern.test(e.message),
  );

const metadata: UpstreamMetadata = {
  issuer: 'https://login.example.com/tenant-1/v2.0',
  authorizationEndpoint: 'https://login.example.com/tenant-1/oauth2/v2.0/authorize',
  tokenEndpoint: 'https://login.example.com/tenant-1/oauth2/v2.0/token',
  jwksUri: 'https://login.example.com/tenant-1/discovery/v2.0/keys',
  userinfoEndpoint: 'https://graph.example.com/oidc/userinfo',
  pkceS256: true,
};

describe('SEED_BROKER_* settings', () => {
  it('off by default: no variable, no upstream', () => {
    assert.equal(settingsOf({ KEYCLOAK_ADMIN_PASSWORD: 'x' }), undefined);
    assert.equal(brokerFromEnv({ SEED_BROKER_ISSUER: '' }), undefined);
    for (const name of Object.keys(base).filter((n) => n.startsWith('SEED_BROKER_'))) {
      assert.ok((SEED_VARIABLES as readonly string[]).includes(name), `${name} is not a seed variable`);
    }
  });

  it('reads the secret from the file (without its final newline); the defaults', () => {
    const s = settingsOf(base);
    assert.ok(s);
    assert.equal(s.clientSecret, 's3cret-client-secret');
    assert.equal(s.alias, 'corporate');
    assert.equal(s.displayName, 'Corporate login');
    assert.equal(s.only, false);
    assert.deepEqual(s.scopes, ['openid', 'profile', 'email']);
    assert.equal(s.admin, undefined);
    assert.equal(s.syncMode, 'FORCE');
    assert.equal(s.clientAuth, 'client_secret_basic');
    assert.deepEqual(brokerFromEnv(base), s);
  });

  it('the admin claim and value, the only switch, plain http on loopback', () => {
    const s = settingsOf({
      ...base,
      SEED_BROKER_ISSUER: 'http://localhost:8081/realms/corp',
      SEED_BROKER_ADMIN_CLAIM: 'groups',
      SEED_BROKER_ADMIN_VALUE: 'mcp-admins',
      SEED_BROKER_ONLY: 'true',
      SEED_BROKER_SCOPES: 'openid  email groups',
    });
    assert.deepEqual(s?.admin, { claim: 'groups', value: 'mcp-admins' });
    assert.equal(s?.only, true);
    assert.deepEqual(s?.scopes, ['openid', 'email', 'groups']);
  });

  it('names the variable for each mistake', () => {
    fails(
      { ...base, SEED_BROKER_ISSUER: 'login.example.com' },
      /^SEED_BROKER_ISSUER must be the absolute https URL/,
    );
    fails({ ...base, SEED_BROKER_ISSUER: 'http://idp.corp.example' }, /^SEED_BROKER_ISSUER must use https/);
    fails(
      { ...base, SEED_BROKER_ISSUER: 'https://idp.example/.well-known/openid-configuration' },
      /^SEED_BROKER_ISSUER is the issuer, not its discovery document/,
    );
    fails(
      { ...base, SEED_BROKER_ISSUER: 'https://idp.example/?x=1' },
      /^SEED_BROKER_ISSUER must be an issuer URL/,
    );
    fails(
      { ...base, SEED_BROKER_CLIENT_ID: '' },
      /SEED_BROKER_CLIENT_ID is required with SEED_BROKER_ISSUER/,
    );
    fails({ ...base, SEED_BROKER_CLIENT_ID: 'a b' }, /^SEED_BROKER_CLIENT_ID must not contain spaces/);
    fails({ ...base, SEED_BROKER_CLIENT_SECRET_FILE: '' }, /SEED_BROKER_CLIENT_SECRET_FILE is required/);
    fails(
      { ...base, SEED_BROKER_CLIENT_SECRET_FILE: join(dir, 'missing') },
      /SEED_BROKER_CLIENT_SECRET_FILE: cannot read .* \(no such file\)/,
    );
    fails({ ...base, SEED_BROKER_ALIAS: 'Corp IdP' }, /^SEED_BROKER_ALIAS may hold lower-case letters/);
    fails({ ...base, SEED_BROKER_ALIAS: 'corp-' }, /^SEED_BROKER_ALIAS/);
    fails({ ...base, SEED_BROKER_ONLY: 'yes' }, /SEED_BROKER_ONLY must be true or false/);
    fails({ ...base, SEED_BROKER_SCOPES: 'profile email' }, /SEED_BROKER_SCOPES must include openid/);
    fails(
      { ...base, SEED_BROKER_ADMIN_CLAIM: 'groups' },
      /SEED_BROKER_ADMIN_VALUE is required with SEED_BROKER_ADMIN_CLAIM/,
    );
    fails(
      { ...base, SEED_BROKER_ADMIN_VALUE: 'x' },
      /SEED_BROKER_ADMIN_CLAIM is required with SEED_BROKER_ADMIN_VALUE/,
    );
    fails(
      { ...base, SEED_BROKER_SYNC_MODE: 'ALWAYS' },
      /SEED_BROKER_SYNC_MODE must be FORCE, IMPORT or LEGACY/,
    );
    fails(
      { ...base, SEED_BROKER_CLIENT_AUTH: 'private_key_jwt' },
      /SEED_BROKER_CLIENT_AUTH must be client_secret_basic/,
    );
    fails(
      { KEYCLOAK_ADMIN_PASSWORD: 'x', SEED_BROKER_CLIENT_ID: 'mcp-stack' },
      /^SEED_BROKER_CLIENT_ID is set but SEED_BROKER_ISSUER is not/,
    );
    assert.throws(() => brokerFromEnv({ SEED_BROKER_ISSUER: 'nope' }), /^SeedError: SEED_BROKER_ISSUER/);
  });

  it('the redirect URI to register at the upstream', () => {
    assert.equal(
      brokerRedirectUri('https://auth.example.org/realms/mcp/', 'corporate'),
      'https://auth.example.org/realms/mcp/broker/corporate/endpoint',
    );
  });
});

describe("the upstream's discovery document", () => {
  const settings = {
    issuer: 'https://login.example.com/tenant-1/v2.0',
    clientAuth: 'client_secret_basic',
  } as const;
  const document = {
    issuer: 'https://login.example.com/tenant-1/v2.0',
    authorization_endpoint: metadata.authorizationEndpoint,
    token_endpoint: metadata.tokenEndpoint,
    jwks_uri: metadata.jwksUri,
    userinfo_endpoint: metadata.userinfoEndpoint,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
  };

  it('gives the endpoints; PKCE only where S256 is advertised', () => {
    assert.deepEqual(readDiscovery(document, settings), { ...metadata, pkceS256: false });
    const withPkce = readDiscovery(
      { ...document, code_challenge_methods_supported: ['plain', 'S256'] },
      settings,
    );
    assert.equal((withPkce as UpstreamMetadata).pkceS256, true);
  });

  it('holds the issuer to the configured one (a trailing slash aside)', () => {
    assert.ok('issuer' in readDiscovery({ ...document, issuer: `${document.issuer}/` }, settings));
    const other = readDiscovery(
      { ...document, issuer: 'https://login.example.com/{tenantid}/v2.0' },
      settings,
    );
    assert.ok('problem' in other);
    assert.equal(other.variable, 'SEED_BROKER_ISSUER');
    assert.match(other.problem, /names issuer "https:\/\/login\.example\.com\/\{tenantid\}\/v2\.0"/);
  });

  it('refuses what cannot broker, naming the variable', () => {
    const noToken = readDiscovery({ ...document, token_endpoint: undefined }, settings);
    assert.ok('problem' in noToken && /no usable token_endpoint/.test(noToken.problem));
    const notJson = readDiscovery('<html>', settings);
    assert.ok('problem' in notJson && notJson.variable === 'SEED_BROKER_ISSUER');
    const postOnly = readDiscovery(
      { ...document, token_endpoint_auth_methods_supported: ['client_secret_post'] },
      settings,
    );
    assert.ok('problem' in postOnly);
    assert.equal(postOnly.variable, 'SEED_BROKER_CLIENT_AUTH');
    // Not listed at all: OpenID Connect's default, client_secret_basic, only.
    const { token_endpoint_auth_methods_supported: _omit, ...unlisted } = document;
    assert.ok('issuer' in readDiscovery(unlisted, settings));
    assert.ok('problem' in readDiscovery(unlisted, { ...settings, clientAuth: 'client_secret_post' }));
  });
});

describe('what the seed sends Keycloak', () => {
  const settings = settingsOf({
    ...base,
    SEED_BROKER_ADMIN_CLAIM: 'roles',
    SEED_BROKER_ADMIN_VALUE: 'MCP.Admin',
    SEED_BROKER_SYNC_MODE: 'IMPORT',
    SEED_BROKER_CLIENT_AUTH: 'client_secret_post',
  });
  assert.ok(settings);

  it('an OpenID Connect provider that never trusts the upstream email and links only after re-authentication', () => {
    const idp = identityProvider(settings, metadata);
    assert.equal(idp.providerId, 'oidc');
    assert.equal(idp.alias, 'corporate');
    assert.equal(idp.trustEmail, false);
    assert.equal(idp.storeToken, false);
    assert.equal(idp.linkOnly, false);
    assert.equal(idp.firstBrokerLoginFlowAlias, FIRST_LOGIN_FLOW);
    assert.equal(idp.config?.issuer, metadata.issuer);
    assert.equal(idp.config?.tokenUrl, metadata.tokenEndpoint);
    assert.equal(idp.config?.validateSignature, 'true');
    assert.equal(idp.config?.useJwksUrl, 'true');
    assert.equal(idp.config?.clientSecret, 's3cret-client-secret');
    assert.equal(idp.config?.clientAuthMethod, 'client_secret_post');
    assert.equal(idp.config?.syncMode, 'IMPORT');
    assert.equal(idp.config?.defaultScope, 'openid profile email');
    assert.equal(idp.config?.pkceEnabled, 'true');
    assert.equal(idp.config?.pkceMethod, 'S256');
    const noPkce = identityProvider(settings, { ...metadata, pkceS256: false, userinfoEndpoint: undefined });
    assert.equal(noPkce.config?.pkceEnabled, 'false');
    assert.equal(noPkce.config?.pkceMethod, undefined);
    assert.equal(noPkce.config?.userInfoUrl, undefined);
  });

  it("SEED_BROKER_REQUIRED_*: Keycloak's claim filter, off unless set", () => {
    assert.equal(identityProvider(settings, metadata).config?.filteredByClaim, 'false');
    const kept = settingsOf({
      ...base,
      SEED_BROKER_REQUIRED_CLAIM: 'hd',
      SEED_BROKER_REQUIRED_VALUE: 'corp\\.example',
    });
    assert.ok(kept);
    const config = identityProvider(kept, metadata).config;
    assert.equal(config?.filteredByClaim, 'true');
    assert.equal(config?.claimFilterName, 'hd');
    assert.equal(config?.claimFilterValue, 'corp\\.example');
  });

  it('the claim → mcp-admin mapper, re-evaluated at every login whatever the sync mode', () => {
    assert.deepEqual(adminRoleMapper(settings, 'mcp-admin'), {
      name: 'mcp-admin from upstream claim',
      identityProviderAlias: 'corporate',
      identityProviderMapper: 'oidc-role-idp-mapper',
      config: { syncMode: 'FORCE', claim: 'roles', 'claim.value': 'MCP.Admin', role: 'mcp-admin' },
    });
    assert.equal(adminRoleMapper(settingsOf(base) as NonNullable<typeof settings>, 'mcp-admin'), undefined);
  });
});
