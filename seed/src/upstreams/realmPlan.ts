// What the realm needs for the upstreams of MCP_UPSTREAMS_FILE, as data (no Keycloak calls, unit-tested):
// client scopes with their mappers, scopes named only in tool rules, and the token-exchange audiences.
// Audience per upstream: a scope's audience mapper puts that upstream's public URL in `aud`, so a token asked for
// one upstream is refused at every other resource of the server (mcp-server checks `aud` per upstream).
import type ProtocolMapperRepresentation from '@keycloak/keycloak-admin-client/lib/defs/protocolMapperRepresentation.js';
import { upstreamResourceUrl, type UpstreamSpec } from '@mcp-keycloak-stack/mcp-server/upstreamsFile';
import { GATEWAY_CLIENT_ID, REQUIRED_CLIENT_SCOPES } from '../contracts.ts';

export interface ScopePlan {
  name: string;
  description: string;
  consentText: string;
  /** Converged by name; mappers the seed does not name are left alone. */
  mappers: ProtocolMapperRepresentation[];
}

export interface UpstreamRealmPlan {
  /** Scopes every request to an upstream needs (u.scopes): created or converged, audience included. */
  upstreamScopes: ScopePlan[];
  /** Scopes named only in tool rules: created when missing (no audience), never changed when present. */
  ruleScopes: ScopePlan[];
  /** Scopes the realm itself defines (mcp:tools, mcp:admin) that an upstream names: left as realm-export/ has them. */
  builtinScopes: string[];
  /** Client ids the gateway exchanges tokens for (identity token-exchange), each once. */
  exchangeAudiences: string[];
}

const OIDC = 'openid-connect';
const BUILTIN = new Set<string>(REQUIRED_CLIENT_SCOPES);

/** Puts the upstream's public URL in the access token's `aud` (the same settings as mcp:tools's mapper). */
export function audienceMapper(upstream: string, url: string): ProtocolMapperRepresentation {
  return {
    name: `audience-${upstream}`,
    protocol: OIDC,
    protocolMapper: 'oidc-audience-mapper',
    config: {
      'included.custom.audience': url,
      'access.token.claim': 'true',
      'id.token.claim': 'false',
      'introspection.token.claim': 'true',
      'lightweight.claim': 'false',
    },
  };
}

/**
 * Puts a client id in `aud`. On an upstream's scope with GATEWAY_CLIENT_ID: Keycloak 26's standard token exchange
 * accepts a subject token only from a requester named in its `aud`. On the gateway client with the target: the
 * audience a requester may ask for must be one its own tokens could carry.
 */
export function clientAudienceMapper(name: string, clientId: string): ProtocolMapperRepresentation {
  return {
    name,
    protocol: OIDC,
    protocolMapper: 'oidc-audience-mapper',
    config: {
      'included.client.audience': clientId,
      'access.token.claim': 'true',
      'id.token.claim': 'false',
      'introspection.token.claim': 'true',
      'lightweight.claim': 'false',
    },
  };
}

/** preferred_username in the access token, as mcp:tools has it (realm-export/mcp-realm.json). */
export function usernameMapper(): ProtocolMapperRepresentation {
  return {
    name: 'username',
    protocol: OIDC,
    protocolMapper: 'oidc-usermodel-property-mapper',
    config: {
      'user.attribute': 'username',
      'claim.name': 'preferred_username',
      'jsonType.label': 'String',
      'access.token.claim': 'true',
      'id.token.claim': 'false',
      'introspection.token.claim': 'true',
      'userinfo.token.claim': 'false',
      'lightweight.claim': 'false',
    },
  };
}

export function tokenExchangeMapperName(upstream: string): string {
  // Not `audience-…`: an upstream may be named `x-gateway`, whose audience mapper is `audience-x-gateway`.
  return `token-exchange-${upstream}`;
}

const titleOf = (u: UpstreamSpec) => u.title ?? u.name;

/** `builtinUrl`: the built-in tools' resource URL (the card's mcpUrl); upstream URLs are derived from it. */
export function upstreamRealmPlan(upstreams: readonly UpstreamSpec[], builtinUrl: string): UpstreamRealmPlan {
  const scopes = new Map<string, { upstreams: UpstreamSpec[] }>();
  const builtinScopes = new Set<string>();
  for (const u of upstreams) {
    for (const name of u.scopes) {
      if (BUILTIN.has(name)) builtinScopes.add(name);
      else scopes.set(name, { upstreams: [...(scopes.get(name)?.upstreams ?? []), u] });
    }
  }
  const upstreamScopes = [...scopes].map(([name, { upstreams: users }]): ScopePlan => {
    const titles = users.map(titleOf).join(', ');
    const mappers = users.flatMap((u) => [
      audienceMapper(u.name, upstreamResourceUrl(builtinUrl, u.path)),
      ...(u.identity.type === 'token-exchange'
        ? [clientAudienceMapper(tokenExchangeMapperName(u.name), GATEWAY_CLIENT_ID)]
        : []),
    ]);
    return {
      name,
      description: `Call the tools of ${titles} behind the MCP gateway; puts its URL in the access token's aud`,
      consentText: `Use the ${titles} tools`,
      mappers: [...mappers, usernameMapper()],
    };
  });

  const ruleScopes = new Map<string, UpstreamSpec[]>();
  for (const u of upstreams) {
    for (const name of u.tools.rules.flatMap((rule) => rule.scopes)) {
      if (scopes.has(name) || BUILTIN.has(name)) continue;
      const users = ruleScopes.get(name) ?? [];
      if (!users.includes(u)) ruleScopes.set(name, [...users, u]);
    }
  }
  return {
    upstreamScopes,
    ruleScopes: [...ruleScopes].map(([name, users]) => {
      const titles = users.map(titleOf).join(', ');
      return {
        name,
        description: `Call the tools of ${titles} whose rules in MCP_UPSTREAMS_FILE name ${name}`,
        consentText: `Use the restricted ${titles} tools (${name})`,
        mappers: [usernameMapper()],
      };
    }),
    builtinScopes: [...builtinScopes],
    exchangeAudiences: [
      ...new Set(
        upstreams.flatMap((u) => (u.identity.type === 'token-exchange' ? [u.identity.audience] : [])),
      ),
    ],
  };
}
