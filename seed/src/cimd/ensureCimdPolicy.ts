// The realm's client ID metadata document policy (feature cimd, docs/cimd.md): client policy `mcp-cimd` with
// profile `mcp-cimd`, merged into the realm's client policies and profiles (those of realm-export/ stay as they
// are). Idempotent: written only when it differs, so hand edits are put back and a re-run changes nothing.
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import type ClientPolicyRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientPolicyRepresentation.js';
import type ClientProfileRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientProfileRepresentation.js';
import type { CimdSettings } from './settings.ts';

export const CIMD_POLICY = 'mcp-cimd';
export const CIMD_PROFILE = 'mcp-cimd';
/** Keycloak's executor (fetches and checks the document) and condition (client_id is an https URL on a host). */
export const KEYCLOAK_CIMD_EXECUTOR = 'client-id-metadata-document';
export const KEYCLOAK_CIMD_CONDITION = 'client-id-uri';
/** The stack's executor (keycloak-extensions/mcp-registration-policy): the self-registration rules for CIMD. */
export const MCP_CIMD_EXECUTOR = 'mcp-cimd-client';

const REGISTRATION_POLICY_TYPE = 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy';
/** The registration policy's own default (PolicySettings.java) when its component names no relay. */
const DEFAULT_RELAY_REDIRECT_URIS = ['https://vscode.dev/redirect', 'https://insiders.vscode.dev/redirect'];

export type CimdOutcome = 'unsupported' | 'unchanged' | 'written';

export function cimdProfile(settings: CimdSettings): ClientProfileRepresentation {
  return {
    name: CIMD_PROFILE,
    description:
      'Client ID metadata documents (docs/cimd.md): Keycloak fetches the https client_id and checks it; the client ' +
      'it makes must then pass the self-registration rules of the mcp-registration policy (mcp-cimd-client)',
    executors: [
      {
        executor: KEYCLOAK_CIMD_EXECUTOR,
        configuration: {
          'cimd-allow-http-scheme': false,
          'cimd-allow-permitted-domains': settings.uriHosts,
          // Native hosts redirect to loopback, not to their document's host: same-domain would refuse them all.
          'cimd-restrict-same-domain': false,
          'only-allow-confidential-client': false,
        },
      },
      { executor: MCP_CIMD_EXECUTOR, configuration: {} },
    ],
  };
}

export function cimdPolicy(settings: CimdSettings): ClientPolicyRepresentation {
  return {
    name: CIMD_POLICY,
    description:
      'An authorization request whose client_id is an https URL on a trusted host (SEED_CIMD_TRUSTED_DOMAINS). ' +
      'any-client: Keycloak raises REGISTER/UPDATE for the client it makes from the document, where client-id-uri ' +
      'abstains; mcp-cimd-client acts only on those',
    enabled: settings.documentHosts.length > 0,
    conditions: [
      {
        condition: KEYCLOAK_CIMD_CONDITION,
        configuration: {
          'client-id-uri-scheme': ['https'],
          'client-id-uri-allow-permitted-domains': settings.documentHosts,
        },
      },
      { condition: 'any-client', configuration: {} },
    ],
    profiles: [CIMD_PROFILE],
  };
}

/**
 * Whether this Keycloak offers both executors: the cimd feature on (26.7 with --features=cimd) and the stack's
 * provider jar installed. Keycloak 26.5 (an upgrade source) has neither the feature nor the executor.
 */
export async function cimdSupported(admin: KcAdminClient): Promise<boolean> {
  const info = (await admin.serverInfo.find()) as {
    providers?: Record<string, { providers?: Record<string, unknown> }>;
  };
  const executors = info.providers?.['client-policy-executor']?.providers ?? {};
  return KEYCLOAK_CIMD_EXECUTOR in executors && MCP_CIMD_EXECUTOR in executors;
}

/** The relay redirect URIs of the realm's anonymous mcp-registration policy (their hosts join the URI hosts). */
export async function relayRedirectUris(admin: KcAdminClient): Promise<string[]> {
  const components = await admin.components.find({ type: REGISTRATION_POLICY_TYPE });
  const policy = components.find((c) => c.providerId === 'mcp-registration' && c.subType === 'anonymous');
  const listed = (policy?.config?.['relay-redirect-uris'] as string[] | undefined)?.filter(Boolean) ?? [];
  return listed.length > 0 ? listed : DEFAULT_RELAY_REDIRECT_URIS;
}

export async function ensureCimdPolicy(admin: KcAdminClient, settings: CimdSettings): Promise<CimdOutcome> {
  if (!(await cimdSupported(admin))) return 'unsupported';
  let written = false;

  const profiles = (await admin.clientPolicies.listProfiles({ includeGlobalProfiles: false })).profiles ?? [];
  const wantedProfile = cimdProfile(settings);
  const currentProfile = profiles.find((p) => p.name === CIMD_PROFILE);
  if (!currentProfile || !sameJson(currentProfile, wantedProfile)) {
    await admin.clientPolicies.createProfiles({
      profiles: [...profiles.filter((p) => p.name !== CIMD_PROFILE), wantedProfile],
    });
    written = true;
  }

  const policies = (await admin.clientPolicies.listPolicies({ includeGlobalPolicies: false })).policies ?? [];
  const wantedPolicy = cimdPolicy(settings);
  const currentPolicy = policies.find((p) => p.name === CIMD_POLICY);
  if (!currentPolicy || !sameJson(currentPolicy, wantedPolicy)) {
    // In place, or last: it runs after the realm's PKCE policy, whose auto-configuration it then checks.
    const index = policies.findIndex((p) => p.name === CIMD_POLICY);
    const next = [...policies];
    if (index >= 0) next[index] = wantedPolicy;
    else next.push(wantedPolicy);
    await admin.clientPolicies.updatePolicy({ policies: next });
    written = true;
  }
  return written ? 'written' : 'unchanged';
}

/** Equal as JSON, whatever the key order (Keycloak answers the configuration maps in an order of its own). */
function sameJson(a: unknown, b: unknown): boolean {
  return stable(a) === stable(b);
}

function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
