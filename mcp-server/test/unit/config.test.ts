import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail(`accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('without variables: the stack default URLs and ports, and the documented default of every setting', () => {
    const config = loadConfig({});
    assert.deepEqual(
      { ...config },
      {
        host: '127.0.0.1',
        port: 3000,
        resourceUrl: 'http://localhost:3000/mcp',
        issuer: 'http://localhost:8080/realms/mcp',
        jwksUrl: 'http://localhost:8080/realms/mcp/protocol/openid-connect/certs',
        algorithms: ['RS256'],
        clockToleranceSeconds: 30,
        requiredScope: 'mcp:tools',
        valkeyUrl: 'redis://127.0.0.1:6379',
        replicaId: null,
        logLevel: 'info',
        issuers: ['http://localhost:8080/realms/mcp'],
        jwksUrls: ['http://localhost:8080/realms/mcp/protocol/openid-connect/certs'],
        allowedClients: null,
        serviceAccountClients: ['mcp-m2m'],
        maxTokenLifetimeSeconds: 300,
        jwksCacheMaxAgeSeconds: 600,
        jwksCooldownSeconds: 30,
        tokenCacheSize: 10_000,
        tokenValidation: 'jwt',
        tokenExchange: null,
        upstreams: [],
        introspection: null,
        rateLimit: 600,
        rateLimitWindowSeconds: 60,
        storeFailureMode: 'closed',
        allowedOrigins: ['http://localhost:3000'],
        maxBodyBytes: 1024 * 1024,
        bodyTimeoutSeconds: 30,
        trustProxy: false,
        metricsEnabled: true,
        // Off the public MCP port by default (issue 11).
        metricsListener: { host: '127.0.0.1', port: 9464 },
        shutdownGraceSeconds: 10,
        heapGrowingPercent: 50,
      },
    );
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.algorithms));
  });

  it('derives the resource URL from the port and the JWKS URL from the issuer', () => {
    const config = loadConfig({ MCP_PORT: '3055', OIDC_ISSUER: 'https://id.example.com/realms/x/' });
    assert.equal(config.resourceUrl, 'http://localhost:3055/mcp');
    assert.equal(config.jwksUrl, 'https://id.example.com/realms/x/protocol/openid-connect/certs');
    assert.equal(
      config.issuer,
      'https://id.example.com/realms/x/',
      'the issuer is compared exactly: kept as given',
    );
  });

  it('keeps an internal JWKS URL apart from the public issuer', () => {
    const config = loadConfig({
      OIDC_ISSUER: 'http://localhost:8080/realms/mcp',
      OIDC_JWKS_URL: 'http://keycloak:8080/realms/mcp/protocol/openid-connect/certs',
    });
    assert.equal(config.issuer, 'http://localhost:8080/realms/mcp');
    assert.equal(config.jwksUrl, 'http://keycloak:8080/realms/mcp/protocol/openid-connect/certs');
  });

  it('treats empty values as unset', () => {
    assert.equal(loadConfig({ MCP_PORT: '', LOG_LEVEL: ' ' }).port, 3000);
  });

  it('parses the algorithm list', () => {
    assert.deepEqual(loadConfig({ OIDC_ALGORITHMS: 'RS256, PS256,RS256' }).algorithms, ['RS256', 'PS256']);
  });

  it('names the bad variable and shows the value', () => {
    const error = configError({ MCP_RESOURCE_URL: 'foo' });
    assert.equal(error.message, 'MCP_RESOURCE_URL must be an absolute http(s) URL (got "foo")');
    assert.deepEqual(error.variables, ['MCP_RESOURCE_URL']);
  });

  for (const [variable, value] of [
    ['MCP_PORT', 'abc'],
    ['MCP_PORT', '70000'],
    ['MCP_HOST', 'local host'],
    ['MCP_RESOURCE_URL', 'ftp://x/mcp'],
    ['MCP_RESOURCE_URL', 'http://localhost:3000/mcp#frag'],
    ['OIDC_ISSUER', 'localhost:8080/realms/mcp'],
    ['OIDC_JWKS_URL', '/certs'],
    ['OIDC_ALGORITHMS', 'HS256'],
    ['OIDC_ALGORITHMS', 'none'],
    ['OIDC_ALGORITHMS', ','],
    ['OIDC_CLOCK_TOLERANCE_SECONDS', '-1'],
    ['OIDC_CLOCK_TOLERANCE_SECONDS', '1.5'],
    ['MCP_REQUIRED_SCOPE', 'mcp:tools mcp:admin'],
    ['VALKEY_URL', 'http://127.0.0.1:6379'],
    ['LOG_LEVEL', 'loud'],
  ] as const) {
    it(`rejects ${variable}=${JSON.stringify(value)} naming ${variable}`, () => {
      const error = configError({ [variable]: value });
      assert.match(error.message, new RegExp(`^${variable} `));
      assert.deepEqual(error.variables, [variable]);
    });
  }

  it('reports every bad variable in one line', () => {
    const error = configError({ MCP_PORT: 'x', LOG_LEVEL: 'loud' });
    assert.deepEqual(error.variables, ['MCP_PORT', 'LOG_LEVEL']);
    assert.doesNotMatch(error.message, /\n/);
  });

  it('does not echo a VALKEY_URL, which may hold a password', () => {
    const error = configError({ VALKEY_URL: 'http://:s3cret@valkey:6379' });
    assert.doesNotMatch(error.message, /s3cret/);
  });

  it('several issuers, each with its own JWKS URL (derived or listed in the same order)', () => {
    const config = loadConfig({
      OIDC_ISSUER: 'https://id.example.com/realms/a, https://id.example.com/realms/b',
      OIDC_JWKS_URL: 'http://kc:8080/realms/a/certs,http://kc:8080/realms/b/certs',
    });
    assert.deepEqual(config.issuers, ['https://id.example.com/realms/a', 'https://id.example.com/realms/b']);
    assert.equal(config.issuer, 'https://id.example.com/realms/a');
    assert.deepEqual(config.jwksUrls, ['http://kc:8080/realms/a/certs', 'http://kc:8080/realms/b/certs']);
    const error = configError({
      OIDC_ISSUER: 'https://id.example.com/realms/a,https://id.example.com/realms/b',
      OIDC_JWKS_URL: 'http://kc:8080/realms/a/certs',
    });
    assert.deepEqual(error.variables, ['OIDC_JWKS_URL']);
  });

  it('the JWKS cache max age, cooldown, token cache and rate limit knobs', () => {
    const config = loadConfig({
      OIDC_JWKS_CACHE_MAX_AGE_SECONDS: '5',
      OIDC_JWKS_COOLDOWN_SECONDS: '0',
      OIDC_TOKEN_CACHE_SIZE: '0',
      OIDC_ALLOWED_CLIENTS: 'vscode, mcp-console',
      MCP_RATE_LIMIT: '0',
      MCP_RATE_LIMIT_WINDOW_SECONDS: '10',
      MCP_STORE_FAILURE_MODE: 'open',
      MCP_ALLOWED_ORIGINS: 'http://localhost:6274,http://127.0.0.1:6274',
      MCP_TRUST_PROXY: 'true',
      MCP_HEAP_GROWING_PERCENT: '0',
      MCP_METRICS_PORT: 'mcp',
      OIDC_SERVICE_ACCOUNT_CLIENTS: 'mcp-m2m, ci-bot',
      OIDC_MAX_TOKEN_LIFETIME_SECONDS: '0',
      MCP_BODY_TIMEOUT_SECONDS: '5',
    });
    assert.equal(config.jwksCacheMaxAgeSeconds, 5);
    assert.equal(config.jwksCooldownSeconds, 0);
    assert.equal(config.tokenCacheSize, 0);
    assert.deepEqual(config.allowedClients, ['vscode', 'mcp-console']);
    assert.equal(config.rateLimit, 0);
    assert.equal(config.rateLimitWindowSeconds, 10);
    assert.equal(config.storeFailureMode, 'open');
    assert.deepEqual(config.allowedOrigins, ['http://localhost:6274', 'http://127.0.0.1:6274']);
    assert.equal(config.trustProxy, true);
    assert.equal(config.heapGrowingPercent, 0);
    assert.equal(config.metricsListener, null, 'MCP_METRICS_PORT=mcp: on the MCP listener');
    assert.deepEqual(config.serviceAccountClients, ['mcp-m2m', 'ci-bot']);
    assert.equal(config.maxTokenLifetimeSeconds, 0);
    assert.equal(config.bodyTimeoutSeconds, 5);
  });

  for (const [variable, value] of [
    ['OIDC_JWKS_CACHE_MAX_AGE_SECONDS', '0'],
    ['OIDC_TOKEN_VALIDATION', 'opaque'],
    ['MCP_STORE_FAILURE_MODE', 'maybe'],
    ['MCP_ALLOWED_ORIGINS', 'http://localhost:6274/path'],
    ['MCP_TRUST_PROXY', 'yes'],
    ['MCP_RATE_LIMIT', '-1'],
    ['MCP_HEAP_GROWING_PERCENT', '50%'],
    ['MCP_METRICS_PORT', '9464a'],
    ['MCP_METRICS_HOST', 'http://x'],
    ['OIDC_SERVICE_ACCOUNT_CLIENTS', 'a b;c'],
    ['OIDC_MAX_TOKEN_LIFETIME_SECONDS', '5m'],
    ['MCP_BODY_TIMEOUT_SECONDS', '0'],
  ] as const) {
    it(`rejects ${variable}=${JSON.stringify(value)} naming ${variable}`, () => {
      const error = configError({ [variable]: value });
      assert.deepEqual(error.variables, [variable]);
      assert.match(error.message, new RegExp(variable));
    });
  }

  it('introspection mode needs the client credentials, and derives Keycloak’s endpoint', () => {
    const error = configError({ OIDC_TOKEN_VALIDATION: 'introspection' });
    assert.deepEqual(error.variables, ['OIDC_INTROSPECTION_CLIENT_ID', 'OIDC_INTROSPECTION_CLIENT_SECRET']);
    const config = loadConfig({
      OIDC_TOKEN_VALIDATION: 'introspection',
      OIDC_INTROSPECTION_CLIENT_ID: 'mcp-introspector',
      OIDC_INTROSPECTION_CLIENT_SECRET: 's3cret',
    });
    assert.deepEqual(config.introspection, {
      url: 'http://localhost:8080/realms/mcp/protocol/openid-connect/token/introspect',
      clientId: 'mcp-introspector',
      clientSecret: 's3cret',
    });
    // Keys on an internal address (compose: http://keycloak:8080): introspection goes there too.
    const internal = loadConfig({
      OIDC_TOKEN_VALIDATION: 'introspection',
      OIDC_INTROSPECTION_CLIENT_ID: 'mcp-introspector',
      OIDC_INTROSPECTION_CLIENT_SECRET: 's3cret',
      OIDC_JWKS_URL: 'http://keycloak:8080/realms/mcp/protocol/openid-connect/certs',
    });
    assert.equal(
      internal.introspection?.url,
      'http://keycloak:8080/realms/mcp/protocol/openid-connect/token/introspect',
    );
  });

  describe('secrets from files (*_FILE, compose secrets)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-config-'));
    const file = (name: string, content: string) => {
      writeFileSync(join(dir, name), content);
      return join(dir, name);
    };

    it('puts the Valkey password from VALKEY_PASSWORD_FILE into the URL, without its final newline', () => {
      const config = loadConfig({
        VALKEY_URL: 'redis://valkey:6379',
        VALKEY_PASSWORD_FILE: file('valkey', 'p@ss/word:1\n'),
      });
      assert.equal(config.valkeyUrl, 'redis://:p%40ss%2Fword%3A1@valkey:6379');
      assert.equal(decodeURIComponent(new URL(config.valkeyUrl).password), 'p@ss/word:1');
    });

    it('reads the gateway and introspection client secrets from their files', () => {
      const config = loadConfig({
        OIDC_TOKEN_VALIDATION: 'introspection',
        OIDC_INTROSPECTION_CLIENT_ID: 'introspector',
        OIDC_INTROSPECTION_CLIENT_SECRET_FILE: file('introspection', 'from-file\n'),
      });
      assert.equal(config.introspection?.clientSecret, 'from-file');
    });

    it('names a missing or empty file, and a secret given twice', () => {
      const missing = configError({ VALKEY_PASSWORD_FILE: join(dir, 'nope') });
      assert.deepEqual(missing.variables, ['VALKEY_PASSWORD_FILE']);
      assert.match(missing.message, /VALKEY_PASSWORD_FILE: cannot read .*nope \(no such file\)/);
      const empty = configError({ VALKEY_PASSWORD_FILE: file('empty', '\n') });
      assert.match(empty.message, /VALKEY_PASSWORD_FILE: .*empty is empty/);
      const twice = configError({
        VALKEY_URL: 'redis://:inline@valkey:6379',
        VALKEY_PASSWORD_FILE: file('twice', 'x'),
      });
      assert.match(twice.message, /VALKEY_URL carries a password and VALKEY_PASSWORD_FILE is set/);
      const both = configError({
        OIDC_INTROSPECTION_CLIENT_SECRET: 'inline-secret-value',
        OIDC_INTROSPECTION_CLIENT_SECRET_FILE: file('both', 'file-secret-value'),
      });
      assert.deepEqual(both.variables, ['OIDC_INTROSPECTION_CLIENT_SECRET_FILE']);
      assert.doesNotMatch(both.message, /secret-value/, 'never echoes a secret');
    });

    it('MCP_REPLICA_ID: a short name, refused with anything a session id prefix could not carry', () => {
      assert.equal(loadConfig({ MCP_REPLICA_ID: 'mcp-server-1' }).replicaId, 'mcp-server-1');
      assert.deepEqual(configError({ MCP_REPLICA_ID: 'a.b' }).variables, ['MCP_REPLICA_ID']);
    });
  });
});
