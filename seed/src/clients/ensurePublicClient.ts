import type KcAdminClient from '@keycloak/keycloak-admin-client';
import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';
import { convergeClientScopes } from './clientScopes.ts';

/** A pre-registered public client: authorization code + PKCE S256 only, exact redirect URIs. */
export interface PublicClientSpec {
  clientId: string;
  name: string;
  description: string;
  redirectUris: string[];
  /** CORS origins for browser clients; empty for native and server-side hosts. */
  webOrigins: string[];
  postLogoutRedirectUris?: string[];
  defaultScopes: readonly string[];
  optionalScopes: readonly string[];
  /** Keycloak's consent screen before the first token (and for every scope not consented yet). */
  consentRequired: boolean;
  /** Further client attributes (a pinned client ID metadata document's, presets.ts). */
  attributes?: Readonly<Record<string, string>>;
}

export function publicClientRepresentation(spec: PublicClientSpec): ClientRepresentation {
  return {
    clientId: spec.clientId,
    name: spec.name,
    description: spec.description,
    enabled: true,
    protocol: 'openid-connect',
    publicClient: true,
    standardFlowEnabled: true,
    implicitFlowEnabled: false,
    directAccessGrantsEnabled: false,
    serviceAccountsEnabled: false,
    frontchannelLogout: false,
    // Only the client scopes' role mappings (mcp:admin -> mcp-admin) decide what a token may carry.
    fullScopeAllowed: false,
    consentRequired: spec.consentRequired,
    redirectUris: [...spec.redirectUris],
    webOrigins: [...spec.webOrigins],
    attributes: {
      'pkce.code.challenge.method': 'S256',
      'post.logout.redirect.uris': (spec.postLogoutRedirectUris ?? []).join('##'),
      'oauth2.device.authorization.grant.enabled': 'false',
      'oidc.ciba.grant.enabled': 'false',
      ...spec.attributes,
    },
  };
}

/** Creates the client or converges it to the spec (redirect URIs, origins, flags and scopes edited by hand). */
export async function ensurePublicClient(
  admin: KcAdminClient,
  spec: PublicClientSpec,
  scopeIds: Map<string, string>,
): Promise<{ clientId: string; created: boolean }> {
  const wanted = publicClientRepresentation(spec);
  const [existing] = await admin.clients.find({ clientId: spec.clientId });
  let id = existing?.id;
  const created = !id;
  if (!id) id = (await admin.clients.create(wanted)).id;
  else {
    const attributes = { ...existing?.attributes, ...wanted.attributes };
    await admin.clients.update({ id }, { ...existing, ...wanted, attributes });
  }
  await convergeClientScopes(admin, id, scopeIds, {
    defaults: spec.defaultScopes,
    optional: spec.optionalScopes,
  });
  return { clientId: spec.clientId, created };
}
