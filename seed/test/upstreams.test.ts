// The pure part of the seed's upstreams (seed/src/upstreams/): the realm plan made from an upstreams file, the
// card's `upstreams`, the lenient reading of the file, the gateway's client shapes. Keycloak: upstreams.e2e.test.ts.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseUpstreams } from '@mcp-keycloak-stack/mcp-server/upstreamsFile';
import { GATEWAY_CLIENT_ID } from '../src/contracts.ts';
import { SeedError } from '../src/errors.ts';
import { cardUpstreams, resourceMetadataUrlOf } from '../src/upstreams/cardUpstreams.ts';
import {
  gatewayClientRepresentation,
  targetClientRepresentation,
} from '../src/upstreams/ensureGatewayClient.ts';
import { readUpstreams } from '../src/upstreams/readUpstreams.ts';
import { upstreamRealmPlan, usernameMapper } from '../src/upstreams/realmPlan.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEFAULT_FILE = join(ROOT, 'compose', 'gateway', 'upstreams.yaml');
const BUILTIN = 'http://localhost:3000/mcp';

const upstreams = (yaml: string) => parseUpstreams(yaml, {});
const stdio = 'transport: { type: stdio, command: node }';
const http = 'transport: { type: streamable-http, url: "https://api.test/mcp" }';

describe('upstreamRealmPlan', () => {
  it('the default file: mcp:everything with the audience of /mcp/everything; mcp:admin left to the realm', async () => {
    const plan = upstreamRealmPlan(readUpstreams(DEFAULT_FILE, {}), BUILTIN);
    assert.equal(plan.upstreamScopes.length, 1);
    const [scope] = plan.upstreamScopes;
    assert.equal(scope?.name, 'mcp:everything');
    assert.equal(scope?.consentText, 'Use the MCP reference server (everything) tools');
    assert.deepEqual(scope?.mappers[0], {
      name: 'audience-everything',
      protocol: 'openid-connect',
      protocolMapper: 'oidc-audience-mapper',
      config: {
        'included.custom.audience': 'http://localhost:3000/mcp/everything',
        'access.token.claim': 'true',
        'id.token.claim': 'false',
        'introspection.token.claim': 'true',
        'lightweight.claim': 'false',
      },
    });
    assert.deepEqual(
      scope?.mappers.map((m) => m.name),
      ['audience-everything', 'username'],
    );
    // get-env's rule names mcp:admin: the realm's own scope, neither created nor changed.
    assert.deepEqual(plan.ruleScopes, []);
    assert.deepEqual(plan.builtinScopes, []);
    assert.deepEqual(plan.exchangeAudiences, []);
  });

  it('the username mapper is the one mcp:tools has in realm-export/', async () => {
    const realm = JSON.parse(await readFile(join(ROOT, 'realm-export', 'mcp-realm.json'), 'utf8')) as {
      clientScopes: {
        name: string;
        protocolMappers: { name: string; protocolMapper: string; config: unknown }[];
      }[];
    };
    const tools = realm.clientScopes.find((s) => s.name === 'mcp:tools');
    const username = tools?.protocolMappers.find((m) => m.name === 'username');
    assert.ok(username);
    const mine = usernameMapper();
    assert.equal(mine.protocolMapper, username.protocolMapper);
    assert.deepEqual(mine.config, username.config);
  });

  it('custom paths and scopes, a prefix before /mcp, a scope shared by two upstreams', () => {
    const plan = upstreamRealmPlan(
      upstreams(`
upstreams:
  - { name: tickets, title: Tickets, path: /mcp/t, scopes: [tickets:read, shared], ${stdio} }
  - { name: wiki, scopes: [shared], ${stdio} }
`),
      'https://example.test/prefix/mcp',
    );
    const byName = new Map(plan.upstreamScopes.map((s) => [s.name, s]));
    assert.deepEqual([...byName.keys()], ['tickets:read', 'shared']);
    const audience = (name: string) =>
      byName
        .get(name)
        ?.mappers.filter((m) => m.protocolMapper === 'oidc-audience-mapper')
        .map((m) => [m.name, m.config?.['included.custom.audience']]);
    assert.deepEqual(audience('tickets:read'), [['audience-tickets', 'https://example.test/prefix/mcp/t']]);
    assert.deepEqual(audience('shared'), [
      ['audience-tickets', 'https://example.test/prefix/mcp/t'],
      ['audience-wiki', 'https://example.test/prefix/mcp/wiki'],
    ]);
    assert.equal(byName.get('shared')?.consentText, 'Use the Tickets, wiki tools');
  });

  it('scopes named only by tool rules are planned without an audience; built-in scopes are never planned', () => {
    const plan = upstreamRealmPlan(
      upstreams(`
upstreams:
  - name: files
    scopes: [mcp:files, mcp:tools]
    ${stdio}
    tools:
      rules:
        - { match: write_*, scopes: [mcp:files-write, mcp:admin, mcp:files] }
        - { match: delete_*, scopes: [mcp:files-write] }
`),
      BUILTIN,
    );
    assert.deepEqual(
      plan.upstreamScopes.map((s) => s.name),
      ['mcp:files'],
    );
    assert.deepEqual(plan.builtinScopes, ['mcp:tools']);
    assert.deepEqual(
      plan.ruleScopes.map((s) => [s.name, s.mappers.map((m) => m.name)]),
      [['mcp:files-write', ['username']]],
    );
  });

  it('token exchange: the scope also names the gateway in aud; each target once', () => {
    const plan = upstreamRealmPlan(
      upstreams(`
upstreams:
  - { name: a, ${http}, identity: { type: token-exchange, audience: api } }
  - { name: b, ${http}, identity: { type: token-exchange, audience: api } }
  - { name: c, ${stdio} }
`),
      BUILTIN,
    );
    const mappers = (name: string) => plan.upstreamScopes.find((s) => s.name === name)?.mappers ?? [];
    const exchange = mappers('mcp:a').find((m) => m.name === 'token-exchange-a');
    assert.equal(exchange?.protocolMapper, 'oidc-audience-mapper');
    assert.equal(exchange?.config?.['included.client.audience'], GATEWAY_CLIENT_ID);
    assert.equal(exchange?.config?.['access.token.claim'], 'true');
    assert.equal(exchange?.config?.['id.token.claim'], 'false');
    assert.ok(!mappers('mcp:c').some((m) => m.name?.startsWith('token-exchange-')));
    assert.deepEqual(plan.exchangeAudiences, ['api']);
  });
});

describe('the gateway’s clients', () => {
  it('mcp-gateway: confidential, standard token exchange on, no flow, no service account', () => {
    const client = gatewayClientRepresentation();
    assert.equal(client.clientId, GATEWAY_CLIENT_ID);
    assert.equal(client.publicClient, false);
    assert.equal(client.attributes?.['standard.token.exchange.enabled'], 'true');
    assert.equal(client.serviceAccountsEnabled, false);
    assert.equal(client.standardFlowEnabled, false);
    assert.equal(client.implicitFlowEnabled, false);
    assert.equal(client.directAccessGrantsEnabled, false);
  });

  it('a target created for the exchange only receives tokens', () => {
    const client = targetClientRepresentation('tickets-api');
    assert.equal(client.clientId, 'tickets-api');
    assert.equal(client.publicClient, false);
    assert.deepEqual(
      [
        client.standardFlowEnabled,
        client.implicitFlowEnabled,
        client.directAccessGrantsEnabled,
        client.serviceAccountsEnabled,
      ],
      [false, false, false, false],
    );
  });
});

describe('cardUpstreams', () => {
  it('lists the built-in tools first, then each upstream with its URL, metadata and scopes', () => {
    const list = cardUpstreams(BUILTIN, readUpstreams(DEFAULT_FILE, {}));
    assert.deepEqual(list, [
      {
        name: 'builtin',
        mcpUrl: 'http://localhost:3000/mcp',
        resourceMetadataUrl: 'http://localhost:3000/.well-known/oauth-protected-resource/mcp',
        scopes: ['mcp:tools'],
      },
      {
        name: 'everything',
        mcpUrl: 'http://localhost:3000/mcp/everything',
        resourceMetadataUrl: 'http://localhost:3000/.well-known/oauth-protected-resource/mcp/everything',
        scopes: ['mcp:everything'],
      },
    ]);
  });

  it('metadata URLs follow RFC 9728 §3.1, prefixes included', () => {
    assert.equal(
      resourceMetadataUrlOf('https://h.test/p/mcp/x'),
      'https://h.test/.well-known/oauth-protected-resource/p/mcp/x',
    );
    assert.equal(
      resourceMetadataUrlOf('https://h.test/'),
      'https://h.test/.well-known/oauth-protected-resource',
    );
  });
});

describe('readUpstreams', () => {
  it('no file: no upstreams', () => {
    assert.deepEqual(readUpstreams(undefined, {}), []);
  });

  it('a transport secret that is not set does not fail the seed (the MCP server fills it)', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'seed-upstreams-')), 'u.yaml');
    await writeFile(
      file,
      'upstreams:\n  - { name: api, transport: { type: streamable-http, url: "https://api.test/mcp", headers: { X-Key: "${NOT_SET_ANYWHERE}" } } }\n',
    );
    const [api] = readUpstreams(file, {});
    assert.equal(api?.name, 'api');
    assert.deepEqual(api?.scopes, ['mcp:api']);
  });

  it('a broken or missing file is config_invalid naming MCP_UPSTREAMS_FILE', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'seed-upstreams-')), 'u.yaml');
    await writeFile(file, 'upstreams:\n  - { name: Bad, transport: { type: stdio, command: node } }\n');
    for (const path of [file, join(dirname(file), 'missing.yaml')]) {
      assert.throws(
        () => readUpstreams(path, {}),
        (error: unknown) =>
          error instanceof SeedError &&
          error.code === 'config_invalid' &&
          /^MCP_UPSTREAMS_FILE: /.test(error.message),
      );
    }
  });
});
