import assert from 'node:assert/strict';
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
  it('defaults match the stack contract (DESIGN §3)', () => {
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
        logLevel: 'info',
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
});
