// What every doctor check shares: the list of checks and their titles, the result each prints, the facts one
// check hands to a later one (Facts), and how a check says pass, warn, fail or skip. A check declares the facts
// it needs (`needs`) and receives only those; what it learns it returns (`produces`), even when it fails.
import type { BrokerSettings } from '../broker/settings.ts';
import type { LdapSettings } from '../ldap/settings.ts';
import type { AdminAccess } from './clientCapacity.ts';
import type { CookieJar } from './http.ts';

export const CHECKS = {
  prm: 'Protected Resource Metadata reachable and naming this issuer',
  'as-metadata': 'Authorization server metadata (RFC 8414 path and OIDC path)',
  registration: 'Anonymous Dynamic Client Registration with a loopback redirect URI',
  pkce: 'PKCE S256 advertised and enforced',
  cors: 'CORS for a browser client',
  'token-audience': 'Access token carries aud = the MCP URL',
  'offline-access': 'offline_access allowed (refresh survives restarts)',
  issuer: 'Issuer in tokens = issuer the MCP server expects',
  jwks: "JWKS reachable at the MCP server's configured URL and holding the token's key",
  'server-accepts': 'The MCP server accepts the token',
  clock: 'Clock skew between this machine, Keycloak and the MCP server',
  'client-capacity': "Room for new registrations under the realm's max-clients",
  ldap: 'The corporate directory: Keycloak connects to it and binds (SEED_LDAP_*)',
  broker:
    'The upstream identity provider: discovery, client credentials, Keycloak reaches it (SEED_BROKER_*)',
} as const;
export type CheckId = keyof typeof CHECKS;

export interface CheckResult {
  id: CheckId;
  title: string;
  status: 'pass' | 'warn' | 'fail' | 'skip';
  detail: string;
  fix?: string;
}

export interface DoctorOptions {
  /** The canonical MCP resource URL (what tokens must carry in aud). */
  mcpUrl: string;
  /** The issuer the MCP server expects (its OIDC_ISSUER). */
  issuer: string;
  /** The JWKS URL the MCP server is configured with (its OIDC_JWKS_URL). */
  jwksUrl: string;
  /** A browser client's origin that must get CORS (the MCP Inspector's by default). */
  browserOrigin: string;
  /** A person who can log in; without one, the token checks are skipped. */
  user: { username: string; password: string } | undefined;
  maxClockSkewSeconds: number;
  /** The bootstrap admin, when known (native stacks): enables the client-capacity check. */
  admin?: AdminAccess | undefined;
  /** The local clock in ms (injectable so a test can skew it). */
  now?: () => number;
  /** The corporate directory (SEED_LDAP_*), when one is configured: enables the ldap check. */
  ldap?: LdapSettings | undefined;
  /** The upstream identity provider (SEED_BROKER_*), when one is configured: enables the broker check. */
  broker?: BrokerSettings | undefined;
}

/** The options as the checks see them: the issuer trimmed, the clock filled in, one cookie jar for the run. */
export interface DoctorSettings extends DoctorOptions {
  admin: AdminAccess | undefined;
  now: () => number;
  /** Keycloak's session cookies, kept across the logins of one run. */
  jar: CookieJar;
}

/** The probe client registered through anonymous DCR (deleted by the runner at the end). */
export interface Probe {
  clientId: string;
  registrationClientUri: string;
  registrationAccessToken: string;
  redirectUri: string;
}

export interface Tokens {
  access: string;
  claims: Record<string, unknown>;
  kid: string | undefined;
}

/** What earlier checks learn for later ones; each field names the check that produces it. */
export interface Facts {
  /** prm: the Date header of the MCP server's resource metadata (ms). */
  mcpDate?: number;
  /** as-metadata: the authorization server metadata (kept even when it names another issuer). */
  metadata?: Record<string, unknown>;
  /** as-metadata: the Date header of Keycloak's metadata (ms), when it named the expected issuer. */
  keycloakDate?: number;
  /** registration: the probe client. */
  probe?: Probe;
  /** token-audience: the access token of the probe client's login. */
  tokens?: Tokens;
}
export type Fact = keyof Facts;

export interface Passed {
  detail: string;
  produces?: Facts;
}

export interface Check<N extends Fact = Fact> {
  id: CheckId;
  /** The facts this check reads, produced by earlier checks. */
  needs: readonly N[];
  /** The fix printed when the check fails on an unexpected error (a network failure, say). */
  fallbackFix: string;
  /** Resolves on a pass; throws CheckFailed, Warning or Skip otherwise (any other error is a fail). */
  run(settings: DoctorSettings, input: Pick<Facts, N>): Promise<Passed>;
}

/** Declares a check, typing `input` by what it `needs`. */
export const defineCheck = <N extends Fact>(check: Check<N>): Check<N> => check;

export class CheckFailed extends Error {
  constructor(
    message: string,
    readonly fix: string,
    /** What the check learnt before it failed, for later checks. */
    readonly produces?: Facts,
  ) {
    super(message);
  }
}
export class Skip extends Error {}
export class Warning extends CheckFailed {}

/** Runs one check with what it needs from `facts`, adds what it produces to `facts`, and says how it went. */
export async function runCheck<N extends Fact>(
  check: Check<N>,
  settings: DoctorSettings,
  facts: Facts,
): Promise<CheckResult> {
  const input: Pick<Facts, N> = {} as Pick<Facts, N>;
  for (const name of check.needs) input[name] = facts[name];
  const { id } = check;
  const title = CHECKS[id];
  try {
    const { detail, produces } = await check.run(settings, input);
    Object.assign(facts, produces);
    return { id, title, status: 'pass', detail };
  } catch (error) {
    if (error instanceof Skip) return { id, title, status: 'skip', detail: error.message };
    if (error instanceof CheckFailed) {
      Object.assign(facts, error.produces);
      const status = error instanceof Warning ? 'warn' : 'fail';
      return { id, title, status, detail: error.message, fix: error.fix };
    }
    const message = error instanceof Error ? error.message : String(error);
    return { id, title, status: 'fail', detail: message, fix: check.fallbackFix };
  }
}

export const trim = (url: string) => url.replace(/\/+$/, '');
export const str = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** An endpoint named by the authorization server metadata; skips the check when there is none. */
export function endpoint(metadata: Record<string, unknown> | undefined, name: string): string {
  const value = str(metadata?.[name]);
  if (!value) throw new Skip(`no ${name} (authorization server metadata failed)`);
  return value;
}
