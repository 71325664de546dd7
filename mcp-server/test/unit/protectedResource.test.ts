// RFC 9728 metadata and the RFC 6750 challenge that points at it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  protectedResourceMetadata,
  resourceMetadataPath,
  resourceMetadataUrl,
  wwwAuthenticate,
} from '../../src/auth/protectedResource.ts';

describe('resourceMetadataUrl (RFC 9728 §3.1: well-known inserted between host and path)', () => {
  for (const [resource, expected] of [
    ['http://localhost:3000/mcp', 'http://localhost:3000/.well-known/oauth-protected-resource/mcp'],
    ['https://mcp.example.com/', 'https://mcp.example.com/.well-known/oauth-protected-resource'],
    ['https://mcp.example.com', 'https://mcp.example.com/.well-known/oauth-protected-resource'],
    ['https://example.com/tools/mcp', 'https://example.com/.well-known/oauth-protected-resource/tools/mcp'],
  ] as const) {
    it(`${resource} → ${expected}`, () => {
      assert.equal(resourceMetadataUrl(resource), expected);
      assert.equal(resourceMetadataPath(resource), new URL(expected).pathname);
    });
  }
});

describe('protectedResourceMetadata (RFC 9728 §2)', () => {
  it('names the resource, the issuer as authorization server, scopes, header-only bearer', () => {
    assert.deepEqual(
      protectedResourceMetadata({
        resource: 'http://localhost:3000/mcp',
        issuers: ['http://localhost:8080/realms/mcp'],
        scopesSupported: ['mcp:tools', 'mcp:admin', 'mcp:tools'],
        resourceName: 'test',
      }),
      {
        resource: 'http://localhost:3000/mcp',
        authorization_servers: ['http://localhost:8080/realms/mcp'],
        scopes_supported: ['mcp:tools', 'mcp:admin'],
        bearer_methods_supported: ['header'],
        resource_name: 'test',
      },
    );
  });
});

describe('wwwAuthenticate (RFC 6750 §3, RFC 9728 §5.1)', () => {
  const resourceMetadataUrl = 'http://localhost:3000/.well-known/oauth-protected-resource/mcp';

  it('no token sent: resource_metadata and scope, no error code (RFC 6750 §3.1)', () => {
    assert.equal(
      wwwAuthenticate({ resourceMetadataUrl, scope: 'mcp:tools' }),
      `Bearer resource_metadata="${resourceMetadataUrl}", scope="mcp:tools"`,
    );
  });

  it('bad token: error="invalid_token" with a description', () => {
    assert.equal(
      wwwAuthenticate({
        resourceMetadataUrl,
        scope: 'mcp:tools',
        error: 'invalid_token',
        errorDescription: 'token expired',
      }),
      `Bearer resource_metadata="${resourceMetadataUrl}", scope="mcp:tools", error="invalid_token", error_description="token expired"`,
    );
  });

  it('keeps quotes, backslashes and control characters out of quoted strings', () => {
    const header = wwwAuthenticate({
      resourceMetadataUrl,
      scope: 'mcp:tools',
      error: 'invalid_token',
      errorDescription: 'a "quoted"\\ line\r\nX-Injected: 1 é',
    });
    assert.match(header, /error_description="a quoted lineX-Injected: 1 "$/);
  });
});
