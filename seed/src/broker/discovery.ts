// The upstream's OpenID Provider metadata (OpenID Connect Discovery 1.0, §4): read from
// `<issuer>/.well-known/openid-configuration` and held to what brokering needs — the issuer it names is the one
// configured (§4.3: identical, a trailing slash aside), the authorization, token and JWKS endpoints exist, the
// configured client authentication is one it supports. Nothing here talks to Keycloak.
import type { BrokerSettings } from './settings.ts';

export interface UpstreamMetadata {
  /** As the document names it: the value Keycloak compares the ID token's iss with. */
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string;
  userinfoEndpoint: string | undefined;
  /** The upstream advertises PKCE S256 (code_challenge_methods_supported). */
  pkceS256: boolean;
}

export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
const httpUrl = (value: unknown) => {
  const url = text(value);
  return url && URL.canParse(url) && /^https?:$/.test(new URL(url).protocol) ? url : undefined;
};

/** The metadata, or why it cannot serve (a sentence naming the variable to change). */
export function readDiscovery(
  document: unknown,
  settings: Pick<BrokerSettings, 'issuer' | 'clientAuth'>,
): UpstreamMetadata | { problem: string; variable: string } {
  const where = discoveryUrl(settings.issuer);
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return { variable: 'SEED_BROKER_ISSUER', problem: `${where} is not a JSON object` };
  }
  const doc = document as Record<string, unknown>;
  const issuer = text(doc.issuer);
  const trim = (url: string) => url.replace(/\/+$/, '');
  if (!issuer || trim(issuer) !== trim(settings.issuer)) {
    return {
      variable: 'SEED_BROKER_ISSUER',
      problem:
        `${where} names issuer ${issuer ? `"${issuer}"` : '(none)'}, not "${settings.issuer}": set ` +
        'SEED_BROKER_ISSUER to the issuer the upstream publishes (for Entra ID the tenant id, never "common")',
    };
  }
  const missing = ['authorization_endpoint', 'token_endpoint', 'jwks_uri'].filter(
    (name) => !httpUrl(doc[name]),
  );
  if (missing.length > 0) {
    return {
      variable: 'SEED_BROKER_ISSUER',
      problem: `${where} has no usable ${missing.join(', ')}: is SEED_BROKER_ISSUER an OpenID Connect provider?`,
    };
  }
  // Absent, the OpenID Connect default is client_secret_basic (Discovery §3).
  const methods = Array.isArray(doc.token_endpoint_auth_methods_supported)
    ? (doc.token_endpoint_auth_methods_supported as unknown[]).filter(
        (m): m is string => typeof m === 'string',
      )
    : ['client_secret_basic'];
  if (!methods.includes(settings.clientAuth)) {
    return {
      variable: 'SEED_BROKER_CLIENT_AUTH',
      problem:
        `the upstream's token endpoint accepts ${methods.join(', ') || 'no listed method'}, not ` +
        `${settings.clientAuth}: set SEED_BROKER_CLIENT_AUTH to one it accepts`,
    };
  }
  const challenges = Array.isArray(doc.code_challenge_methods_supported)
    ? (doc.code_challenge_methods_supported as unknown[])
    : [];
  return {
    issuer,
    authorizationEndpoint: httpUrl(doc.authorization_endpoint) as string,
    tokenEndpoint: httpUrl(doc.token_endpoint) as string,
    jwksUri: httpUrl(doc.jwks_uri) as string,
    userinfoEndpoint: httpUrl(doc.userinfo_endpoint),
    pkceS256: challenges.includes('S256'),
  };
}
