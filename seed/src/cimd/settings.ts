// SEED_CIMD_*: which client ID metadata documents Keycloak fetches (docs/cimd.md). The fields join the seed's
// schema (config.ts); cimdSettings() turns them into the realm policy's domain lists.
import { z } from 'zod';

/** A host name or `*.` + a domain (Keycloak's trusted-domain syntax), or an IPv4 address. */
const DOMAIN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

const domainList = (name: string, example: string, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const names = value
        .split(',')
        .map((n) => n.trim().toLowerCase())
        .filter(Boolean);
      if (names.length === 1 && names[0] === 'none') return [];
      const bad = names.filter((n) => !DOMAIN.test(n));
      if (bad.length > 0 || names.length === 0) {
        ctx.addIssue({
          code: 'custom',
          message:
            `${name} must be a comma list of host names or *.domain patterns (${example}), or none` +
            (bad.length > 0 ? `; not a host name: ${bad.join(', ')}` : ''),
        });
        return z.NEVER;
      }
      return [...new Set(names)];
    });

export const CIMD_FIELDS = {
  /**
   * Hosts whose client ID metadata documents Keycloak fetches: an authorization request whose client_id is an
   * https URL on one of them makes Keycloak fetch that URL and register the client it describes. `none` turns
   * the realm's CIMD policy off (the feature stays on; only pre-registered URL client ids then work).
   */
  SEED_CIMD_TRUSTED_DOMAINS: domainList(
    'SEED_CIMD_TRUSTED_DOMAINS',
    'vscode.dev,claude.ai',
    'vscode.dev,claude.ai',
  ),
  /**
   * Further hosts a document may name in its links (logo_uri, client_uri, tos_uri, policy_uri): Keycloak refuses
   * any URL of a document whose host it does not trust. Never fetched by Keycloak. VS Code's logo is on
   * code.visualstudio.com.
   */
  SEED_CIMD_LINK_DOMAINS: domainList(
    'SEED_CIMD_LINK_DOMAINS',
    'code.visualstudio.com',
    'code.visualstudio.com',
  ),
};

/** The hosts of loopback redirect URIs (RFC 8252 §7.3), as the registration policy accepts them. */
export const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'] as const;

export interface CimdSettings {
  /** Client ids (document URLs) on these hosts are fetched: the client-id-uri condition. Empty: policy off. */
  documentHosts: string[];
  /** Every host a document's URLs may name: the client-id-metadata-document executor's trusted domains. */
  uriHosts: string[];
}

/**
 * The two lists of the realm's CIMD policy. Keycloak's executor checks every URL of a document (client_id,
 * redirect_uris, links) against one list, so that list holds the document hosts, the loopback hosts, the hosts
 * of the registration policy's relay redirect URIs and the link hosts; which redirect URIs a client may really
 * have is then decided by the stack's own executor (mcp-cimd-client), as for DCR.
 */
export function cimdSettings(
  config: { SEED_CIMD_TRUSTED_DOMAINS: string[]; SEED_CIMD_LINK_DOMAINS: string[] },
  relayRedirectUris: readonly string[],
): CimdSettings {
  const relayHosts = relayRedirectUris.map((uri) => new URL(uri).hostname.toLowerCase());
  return {
    documentHosts: [...config.SEED_CIMD_TRUSTED_DOMAINS],
    uriHosts: [
      ...new Set([
        ...config.SEED_CIMD_TRUSTED_DOMAINS,
        ...LOOPBACK_HOSTS,
        ...relayHosts,
        ...config.SEED_CIMD_LINK_DOMAINS,
      ]),
    ],
  };
}
