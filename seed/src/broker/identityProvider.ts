// What the seed sends Keycloak for the upstream: the OpenID Connect identity provider, the mapper that gives
// mcp-admin from a claim, and the names of the two authentication flows it owns (flows.ts). Pure data, so a unit test
// can hold every security-relevant switch.
import type IdentityProviderMapperRepresentation from '@keycloak/keycloak-admin-client/lib/defs/identityProviderMapperRepresentation.js';
import type IdentityProviderRepresentation from '@keycloak/keycloak-admin-client/lib/defs/identityProviderRepresentation.js';
import type { UpstreamMetadata } from './discovery.ts';
import type { BrokerSettings } from './settings.ts';

/** A copy of Keycloak's "first broker login" with Review Profile pinned to "missing" (flows.ts). */
export const FIRST_LOGIN_FLOW = 'mcp first broker login';
/** A copy of "browser" whose Identity Provider Redirector defaults to the upstream (SEED_BROKER_ONLY). */
export const UPSTREAM_ONLY_BROWSER_FLOW = 'mcp browser via upstream';
/** The realm's own browser flow, bound again when SEED_BROKER_ONLY goes back to false. */
export const DEFAULT_BROWSER_FLOW = 'browser';
export const ADMIN_MAPPER_NAME = 'mcp-admin from upstream claim';

export function identityProvider(
  settings: BrokerSettings,
  metadata: UpstreamMetadata,
): IdentityProviderRepresentation {
  return {
    alias: settings.alias,
    displayName: settings.displayName,
    providerId: 'oidc',
    enabled: true,
    // An email from the upstream never proves ownership of a local account: a local account with the same email
    // or username is linked only after its owner re-authenticates (FIRST_LOGIN_FLOW), never automatically.
    trustEmail: false,
    // Keycloak keeps no upstream token, and nobody may read one.
    storeToken: false,
    addReadTokenRoleOnCreate: false,
    linkOnly: false,
    hideOnLogin: false,
    firstBrokerLoginFlowAlias: FIRST_LOGIN_FLOW,
    postBrokerLoginFlowAlias: '',
    config: {
      issuer: metadata.issuer,
      authorizationUrl: metadata.authorizationEndpoint,
      tokenUrl: metadata.tokenEndpoint,
      jwksUrl: metadata.jwksUri,
      ...(metadata.userinfoEndpoint && { userInfoUrl: metadata.userinfoEndpoint }),
      // The ID token's signature, iss and aud are checked with the upstream's published keys.
      validateSignature: 'true',
      useJwksUrl: 'true',
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      clientAuthMethod: settings.clientAuth,
      defaultScope: settings.scopes.join(' '),
      syncMode: settings.syncMode,
      // PKCE to the upstream too, where it says it supports S256.
      pkceEnabled: String(metadata.pkceS256),
      ...(metadata.pkceS256 && { pkceMethod: 'S256' }),
      // Logging out of the MCP realm does not sign the person out of the corporate IdP.
      backchannelSupported: 'false',
      disableUserInfo: 'false',
      acceptsPromptNoneForwardFromClient: 'false',
      // SEED_BROKER_REQUIRED_*: Keycloak refuses anyone whose ID token lacks the claim value (its "Filter by
      // claim"), before any account is created: what keeps a multi-tenant upstream (Google) to one organisation.
      filteredByClaim: String(settings.required !== undefined),
      ...(settings.required && {
        claimFilterName: settings.required.claim,
        claimFilterValue: settings.required.pattern,
      }),
      guiOrder: '',
    },
  };
}

/**
 * Claim → realm role, re-evaluated at every login (mapper sync mode FORCE whatever SEED_BROKER_SYNC_MODE says):
 * someone removed from the group upstream loses mcp-admin at their next login. Keycloak's "Claim to Role" mapper
 * matches a list claim (groups) when one of its values is the configured one; dots mean nested claims.
 */
export function adminRoleMapper(
  settings: BrokerSettings,
  role: string,
): IdentityProviderMapperRepresentation | undefined {
  if (!settings.admin) return undefined;
  return {
    name: ADMIN_MAPPER_NAME,
    identityProviderAlias: settings.alias,
    identityProviderMapper: 'oidc-role-idp-mapper',
    config: {
      syncMode: 'FORCE',
      claim: settings.admin.claim,
      'claim.value': settings.admin.value,
      role,
    },
  };
}
