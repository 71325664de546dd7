// OAuth 2.0 Protected Resource Metadata (RFC 9728) and the Bearer challenge (RFC 6750 §3) that points at it:
// together they are how an MCP client discovers where to get a token for this server. The resource URL enters
// once (protectedResource); everything a route or a challenge needs is derived from it here.
import type { Decision } from './authorize.ts';

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported: string[];
  bearer_methods_supported: string[];
  resource_name: string;
}

export interface ProtectedResource {
  metadata: ProtectedResourceMetadata;
  /** Where clients fetch the metadata; named in every challenge (RFC 9728 §5.1). */
  metadataUrl: string;
  /** Every path the metadata is served at. */
  metadataPaths: string[];
  /** The `WWW-Authenticate` value for a refused decision, or undefined when none is due. */
  challenge(decision: Decision): string | undefined;
}

export function protectedResource(options: {
  resource: string;
  issuers: readonly string[];
  scopesSupported: readonly string[];
  resourceName: string;
}): ProtectedResource {
  const metadataUrl = resourceMetadataUrl(options.resource);
  return {
    metadata: protectedResourceMetadata(options),
    metadataUrl,
    // The path-inserted form of the resource URL (what clients derive, RFC 9728 §3.1), the form for this
    // server's own /mcp path (when a proxy maps another public path onto it), and the root form.
    metadataPaths: [...new Set([resourceMetadataPath(options.resource), `${WELL_KNOWN}/mcp`, WELL_KNOWN])],
    challenge: (decision) => challengeFor(decision, metadataUrl),
  };
}

export function protectedResourceMetadata(options: {
  resource: string;
  /** Every trusted issuer (RFC 9728 §2 authorization_servers). */
  issuers: readonly string[];
  scopesSupported: readonly string[];
  resourceName: string;
}): ProtectedResourceMetadata {
  return {
    resource: options.resource,
    authorization_servers: [...options.issuers],
    scopes_supported: [...new Set(options.scopesSupported)],
    // Tokens in query strings end up in logs and proxies, and form bodies clash with JSON-RPC: header only.
    bearer_methods_supported: ['header'],
    resource_name: options.resourceName,
  };
}

/**
 * RFC 9728 §3.1: the well-known segment goes between the host and the resource's path, so
 * `http://localhost:3000/mcp` → `http://localhost:3000/.well-known/oauth-protected-resource/mcp`.
 */
export function resourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  return `${url.origin}${resourceMetadataPath(resource)}${url.search}`;
}

/** The path part of {@link resourceMetadataUrl}, i.e. the route this server must answer. */
export function resourceMetadataPath(resource: string): string {
  const path = new URL(resource).pathname;
  return path === '/' ? WELL_KNOWN : `${WELL_KNOWN}${path}`;
}

export interface ChallengeOptions {
  resourceMetadataUrl: string;
  /** Scope the client should ask for (RFC 6750 §3 `scope`). */
  scope: string;
  /** Only when a token was sent: RFC 6750 §3.1 says a request without credentials gets no error code. */
  error?: 'invalid_token' | 'insufficient_scope' | 'invalid_request';
  errorDescription?: string;
}

/**
 * The one place a decision becomes a challenge (RFC 6750 §3, MCP authorization 2025-11-25): a 401 names the
 * scope to ask for, with `error="invalid_token"` only when a token was sent (§3.1: none for a request without
 * credentials); a missing scope gets `insufficient_scope` so the client can step up; a missing role and an
 * unavailable verifier get none, since no new token can help.
 */
export function challengeFor(decision: Decision, resourceMetadataUrl: string): string | undefined {
  if (decision.allowed) return undefined;
  if (decision.status === 401) {
    if (decision.code === 'token_missing')
      return wwwAuthenticate({ resourceMetadataUrl, scope: decision.scope });
    return wwwAuthenticate({
      resourceMetadataUrl,
      scope: decision.scope,
      error: 'invalid_token',
      errorDescription: decision.message,
    });
  }
  if (decision.status === 403 && decision.code === 'insufficient_scope') {
    return wwwAuthenticate({
      resourceMetadataUrl,
      scope: decision.scope,
      error: 'insufficient_scope',
      errorDescription: decision.message,
    });
  }
  return undefined;
}

/** The `WWW-Authenticate` value for a 401/403: `Bearer resource_metadata="…", scope="…"[, error="…", …]`. */
export function wwwAuthenticate(options: ChallengeOptions): string {
  const params: [string, string][] = [
    ['resource_metadata', options.resourceMetadataUrl],
    ['scope', options.scope],
  ];
  if (options.error) {
    params.push(['error', options.error]);
    if (options.errorDescription) params.push(['error_description', options.errorDescription]);
  }
  return `Bearer ${params.map(([name, value]) => `${name}="${quotable(value)}"`).join(', ')}`;
}

// RFC 6750 §3: error_description and scope values are limited to printable ASCII without `"` and `\`,
// which also keeps the header free of anything that would need escaping.
function quotable(value: string): string {
  return value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '');
}
