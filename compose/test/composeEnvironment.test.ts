// docker-compose.yml passes every variable the MCP server and the seed read (their config modules' schemas), so a
// knob set in .env is never silently dropped in compose; .env.example documents them in a form compose reads.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { VARIABLES as SERVER_VARIABLES } from '@mcp-keycloak-stack/mcp-server/config';
import { SEED_VARIABLES } from '@mcp-keycloak-stack/seed/config';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const readRepoFile = (path: string) => readFile(join(ROOT, path), 'utf8');

/**
 * The `services.<service>.environment` of a compose file, as a map of strings (compose's mapping form; the
 * list form `- KEY=value` is refused so the checks below never pass on an empty result). Undefined when the
 * service sets no environment.
 */
function serviceEnvironment(yaml: string, service: string): Map<string, string> | undefined {
  const file = parseYaml(yaml) as { services?: Record<string, { environment?: unknown }> } | null;
  assert.ok(file?.services, 'no top-level services: mapping');
  const environment = file.services[service]?.environment;
  if (environment === undefined || environment === null) return undefined;
  assert.ok(
    typeof environment === 'object' && !Array.isArray(environment),
    `${service}.environment: expected a KEY: value mapping, got ${JSON.stringify(environment)}`,
  );
  return new Map(Object.entries(environment).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** The variables named in `names` that `environment` lacks, in their order. */
const missingFrom = (environment: Map<string, string>, names: readonly string[]) =>
  names.filter((name) => !environment.has(name));

/** Keys whose value ignores the same-named .env variable (no `${NAME`), outside the deliberate `own` ones. */
const notFromEnvFile = (environment: Map<string, string>, own: readonly string[]) =>
  [...environment].filter(([k, v]) => !own.includes(k) && !v.includes(`\${${k}`)).map(([k]) => k);

const compose = await readRepoFile('docker-compose.yml');

describe('docker-compose.yml: the MCP server gets every variable of mcp-server/src/config.ts', () => {
  const environment = serviceEnvironment(compose, 'mcp-server');

  it('lists every variable the server reads', () => {
    assert.ok(environment, 'mcp-server has no environment');
    const missing = missingFrom(environment, SERVER_VARIABLES);
    assert.deepEqual(missing, [], `docker-compose.yml mcp-server.environment lacks ${missing.join(', ')}`);
  });

  it('lists nothing the server does not read (a typo would be ignored as silently)', () => {
    assert.ok(environment);
    const unknown = [...environment.keys()].filter(
      (k) => !(SERVER_VARIABLES as readonly string[]).includes(k),
    );
    assert.deepEqual(unknown, [], `mcp-server.environment names variables config.ts does not read`);
  });

  it('takes every value from .env except the container-side ones compose sets itself', () => {
    assert.ok(environment);
    // Listen address and port inside the container, the public issuer (from KC_PUBLIC_URL and KEYCLOAK_REALM),
    // the internal service names and the mounted upstreams file: .env.example's header says so.
    const own = ['MCP_HOST', 'MCP_PORT', 'OIDC_ISSUER', 'OIDC_JWKS_URL', 'VALKEY_URL', 'MCP_UPSTREAMS_FILE'];
    assert.deepEqual(notFromEnvFile(environment, own), []);
  });

  it('overlays that redefine its environment name only variables the server reads', async () => {
    for (const overlay of ['compose/overlays/dev.yml', 'compose/overlays/tls.yml']) {
      const env = serviceEnvironment(await readRepoFile(overlay), 'mcp-server');
      const unknown = [...(env?.keys() ?? [])].filter(
        (k) => !(SERVER_VARIABLES as readonly string[]).includes(k),
      );
      assert.deepEqual(unknown, [], `${overlay}: mcp-server.environment`);
    }
  });
});

describe('docker-compose.yml: the seed gets every variable of seed/src/config.ts', () => {
  const environment = serviceEnvironment(compose, 'seed');

  it('lists every variable the seed reads', () => {
    assert.ok(environment, 'seed has no environment');
    const missing = missingFrom(environment, SEED_VARIABLES);
    assert.deepEqual(missing, [], `docker-compose.yml seed.environment lacks ${missing.join(', ')}`);
  });

  it('takes every seed value from .env except the internal URL, the admin, the card and the upstreams file', () => {
    assert.ok(environment);
    const own = [
      'KEYCLOAK_URL',
      'KEYCLOAK_ADMIN_USERNAME',
      'KEYCLOAK_ADMIN_PASSWORD',
      // The compose file's password comes from .env; the production file's from a secret file.
      'KEYCLOAK_ADMIN_PASSWORD_FILE',
      'STACK_CARD_PATH',
      'MCP_UPSTREAMS_FILE',
    ];
    const seedOnly = new Map(
      [...environment].filter(([k]) => (SEED_VARIABLES as readonly string[]).includes(k)),
    );
    assert.deepEqual(notFromEnvFile(seedOnly, own), []);
  });
});

describe('.env.example: what compose reads from it', () => {
  it('documents every variable of the MCP server', async () => {
    const example = await readRepoFile('.env.example');
    const undocumented = SERVER_VARIABLES.filter((name) => !new RegExp(`^(# )?${name}=`, 'm').test(example));
    assert.deepEqual(undocumented, [], `.env.example lacks ${undocumented.join(', ')}`);
  });

  it('has no comment after an empty value (docker-compose 1.29 would pass the comment as the value)', async () => {
    const example = await readRepoFile('.env.example');
    const bad = example.split('\n').filter((line) => /^[A-Za-z_][A-Za-z0-9_]*=\s*#/.test(line));
    assert.deepEqual(bad, []);
  });
});

describe('docker-compose.yml: the upstreams file', () => {
  const file = parseYaml(compose) as {
    services: Record<string, { environment?: Record<string, string>; volumes?: string[] }>;
  };

  it('is mounted read-only where MCP_UPSTREAMS_FILE points, in the seed and the MCP server alike', () => {
    for (const service of ['seed', 'mcp-server']) {
      const target = file.services[service]?.environment?.MCP_UPSTREAMS_FILE;
      assert.ok(target, `${service}: MCP_UPSTREAMS_FILE`);
      assert.ok(
        file.services[service]?.volumes?.includes(`./compose/gateway/upstreams.yaml:${target}:ro`),
        `${service} mounts compose/gateway/upstreams.yaml at ${target}, read-only`,
      );
    }
  });
});

describe('serviceEnvironment', () => {
  const yaml = [
    'services:',
    '  a:',
    '    image: x',
    '    environment:',
    '      # a comment',
    '      ONE: ${ONE:-}',
    '',
    "      TWO: '2'",
    '      THREE:',
    '    ports: []',
    '  b:',
    '    environment:',
    '      - LIST=form',
    'volumes:',
    '  a:',
  ].join('\n');

  it('reads the keys of the mapping form, values as strings, an empty value as ""', () => {
    assert.deepEqual(
      [...(serviceEnvironment(yaml, 'a') ?? [])],
      [
        ['ONE', '${ONE:-}'],
        ['TWO', '2'],
        ['THREE', ''],
      ],
    );
    assert.equal(serviceEnvironment(yaml, 'c'), undefined);
  });

  it('refuses the list form', () => {
    assert.throws(() => serviceEnvironment(yaml, 'b'), /expected a KEY: value mapping/);
  });
});

describe('docker-compose.production.yml: the replicas and the seed get every variable, as in docker-compose.yml', () => {
  // The replicas take their environment through a YAML anchor and merge key (<<), as compose does.
  const production = readRepoFile('docker-compose.production.yml').then((text) =>
    stringifyYaml(parseYaml(text, { merge: true }) as unknown),
  );

  it('each MCP server replica lists every variable the server reads, and only those', async () => {
    for (const replica of ['mcp-server-1', 'mcp-server-2']) {
      const environment = serviceEnvironment(await production, replica);
      assert.ok(environment, `${replica} has no environment`);
      assert.deepEqual(missingFrom(environment, SERVER_VARIABLES), [], `${replica} lacks variables`);
      const unknown = [...environment.keys()].filter(
        (k) => !(SERVER_VARIABLES as readonly string[]).includes(k),
      );
      assert.deepEqual(unknown, [], `${replica} names variables config.ts does not read`);
    }
  });

  it('the seed lists every variable the seed reads', async () => {
    const environment = serviceEnvironment(await production, 'seed');
    assert.ok(environment, 'seed has no environment');
    const seedOnly = [...environment.keys()].filter((k) => (SEED_VARIABLES as readonly string[]).includes(k));
    assert.deepEqual(missingFrom(new Map(seedOnly.map((k) => [k, ''])), SEED_VARIABLES), []);
  });
});
