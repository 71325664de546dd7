// The stack card's `upstreams`: every protected resource the MCP server serves, the built-in tools first, so a test
// or a person finds each resource URL, its metadata and the scopes it needs without reading the upstreams file.
// Written by the native launcher, the compose seed container and the seed itself, from the same file.
import { BUILTIN_UPSTREAM, upstreamResourceUrl } from '@mcp-keycloak-stack/mcp-server/upstreamsFile';
import { TOOLS_SCOPE } from '../contracts.ts';
import type { StackUpstream } from '../stackCard.ts';

/** What the card needs of an upstream (an UpstreamSpec has more). */
export interface UpstreamRef {
  readonly name: string;
  readonly path: string;
  readonly scopes: readonly string[];
}

/** RFC 9728 §3.1: the well-known segment goes between the host and the resource's path. */
export function resourceMetadataUrlOf(resourceUrl: string): string {
  const url = new URL(resourceUrl);
  return `${url.origin}/.well-known/oauth-protected-resource${url.pathname === '/' ? '' : url.pathname}`;
}

export function cardUpstreams(mcpUrl: string, upstreams: readonly UpstreamRef[]): StackUpstream[] {
  const entry = (name: string, url: string, scopes: readonly string[]): StackUpstream => ({
    name,
    mcpUrl: url,
    resourceMetadataUrl: resourceMetadataUrlOf(url),
    scopes: [...scopes],
  });
  return [
    entry(BUILTIN_UPSTREAM, mcpUrl, [TOOLS_SCOPE]),
    ...upstreams.map((u) => entry(u.name, upstreamResourceUrl(mcpUrl, u.path), u.scopes)),
  ];
}
