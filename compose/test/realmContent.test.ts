// The realm's MCP-relevant settings, checked in the file (the E2E suite checks Keycloak honours them).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REALM_EXPORT_DIR } from '../native/paths.ts';

interface Component {
  providerId: string;
  subType: string;
  config: Record<string, string[]>;
}
const realm = JSON.parse(await readFile(join(REALM_EXPORT_DIR, 'mcp-realm.json'), 'utf8')) as {
  clientScopes: {
    name: string;
    protocolMappers?: { protocolMapper: string; config: Record<string, string> }[];
  }[];
  components: Record<string, Component[]>;
  clientPolicies: { policies: { conditions: { condition: string }[]; profiles: string[] }[] };
  clientProfiles: { profiles: { name: string; executors: { executor: string }[] }[] };
  scopeMappings: { clientScope: string; roles: string[] }[];
};
const policies =
  realm.components['org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy'] ?? [];
const anonymous = (id: string) => policies.find((p) => p.providerId === id && p.subType === 'anonymous');

describe('realm-export/mcp-realm.json', () => {
  it('keeps the built-in scopes an imported clientScopes array would otherwise drop', () => {
    const names = realm.clientScopes.map((s) => s.name);
    for (const builtin of ['basic', 'profile', 'email', 'roles', 'web-origins', 'acr', 'offline_access']) {
      assert.ok(names.includes(builtin), `missing built-in scope ${builtin}`);
    }
  });

  it('mcp:tools and mcp:admin put the canonical MCP URL (overridable) in aud', () => {
    for (const name of ['mcp:tools', 'mcp:admin']) {
      const mapper = realm.clientScopes
        .find((s) => s.name === name)
        ?.protocolMappers?.find((m) => m.protocolMapper === 'oidc-audience-mapper');
      assert.ok(mapper, `${name} has no audience mapper`);
      assert.equal(
        mapper.config['included.custom.audience'],
        '${MCP_RESOURCE_URL:http://localhost:3000/mcp}',
      );
      assert.equal(mapper.config['access.token.claim'], 'true');
    }
  });

  it('mcp:admin is only reachable with the mcp-admin role', () => {
    assert.deepEqual(realm.scopeMappings.find((m) => m.clientScope === 'mcp:admin')?.roles, ['mcp-admin']);
  });

  it('anonymous DCR takes only the shape of an MCP host (the mcp-registration policy), with consent', () => {
    const policy = anonymous('mcp-registration');
    assert.ok(
      policy,
      'the MCP registration policy (keycloak-extensions/) must govern anonymous registration',
    );
    // Loopback redirect URIs on any port, plus exactly these relays; whole hosts are never trusted.
    assert.deepEqual(policy.config['relay-redirect-uris'], [
      'https://vscode.dev/redirect',
      'https://insiders.vscode.dev/redirect',
    ]);
    for (const dangerous of [
      'access.token.lifespan',
      'standard.token.exchange.enabled',
      'backchannel.logout.url',
    ]) {
      assert.ok(!policy.config['allowed-client-attributes']?.includes(dangerous), dangerous);
    }
    assert.ok(Number(policy.config['registration-access-token-max-age']?.[0]) > 0, 'RATs must expire');
    // Superseded by it: whole trusted hosts and Keycloak's "safe" mapper list were ways in (issue 11).
    assert.equal(anonymous('trusted-hosts'), undefined);
    assert.equal(anonymous('allowed-protocol-mappers'), undefined);
    assert.ok(anonymous('consent-required'), 'self-registered clients must show a consent screen');
    assert.ok(Number(anonymous('max-clients')?.config['max-clients']?.[0]) >= 1000);
    assert.ok(anonymous('allowed-client-templates')?.config['allowed-client-scopes']?.includes('mcp:tools'));
    assert.ok(anonymous('scope'), 'full-scope-allowed must be off for registered clients');
    // MCP clients register with every scope of the server's metadata (Inspector v2: mcp:tools mcp:admin
    // offline_access); the mcp:admin scope's role mapping, not the client, keeps it from users without mcp-admin.
    assert.ok(anonymous('allowed-client-templates')?.config['allowed-client-scopes']?.includes('mcp:admin'));
  });

  it('PKCE S256 is enforced for public clients by a client policy', () => {
    const policy = realm.clientPolicies.policies.find((p) =>
      p.conditions.some((c) => c.condition === 'client-access-type'),
    );
    assert.ok(policy);
    const profile = realm.clientProfiles.profiles.find((p) => policy.profiles.includes(p.name));
    assert.ok(profile?.executors.some((e) => e.executor === 'pkce-enforcer'));
  });
});
