// SEED_BROKER_*: the upstream OpenID Connect provider (the corporate IdP) the realm brokers, off unless
// SEED_BROKER_ISSUER is set. The fields join the seed's schema (config.ts); the doctor parses them alone
// (brokerFromEnv). brokerSettings() turns them into what the seed and the doctor use, reading the client secret from
// its file: never from a variable, never printed.
import { z } from 'zod';
import { SeedError } from '../errors.ts';
import { readSecretFile } from '../secretFile.ts';

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;
/** Lower-case letters, digits and inner dashes: the alias is a path segment of the redirect URI. */
const ALIAS = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

/** Why SEED_BROKER_ISSUER cannot be an issuer URL, or undefined. */
function issuerProblem(value: string): string | undefined {
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    return (
      'SEED_BROKER_ISSUER must be the absolute https URL of the upstream issuer ' +
      '(https://login.microsoftonline.com/<tenant id>/v2.0, https://<org>.okta.com, https://accounts.google.com)'
    );
  }
  const url = new URL(value);
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    return 'SEED_BROKER_ISSUER must be an issuer URL without query, fragment or credentials';
  }
  if (url.pathname.includes('/.well-known/')) {
    return 'SEED_BROKER_ISSUER is the issuer, not its discovery document: drop /.well-known/openid-configuration';
  }
  if (url.protocol !== 'https:' && !LOOPBACK.test(url.hostname)) {
    return 'SEED_BROKER_ISSUER must use https (plain http only on a loopback host): the client secret crosses it';
  }
  return undefined;
}

export const SYNC_MODES = ['FORCE', 'IMPORT', 'LEGACY'] as const;
export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post'] as const;

export const BROKER_FIELDS = {
  /**
   * The upstream's issuer, exactly as its discovery document names it; the document is read from
   * `<issuer>/.well-known/openid-configuration`. Unset: no upstream identity provider.
   */
  SEED_BROKER_ISSUER: z
    .string()
    .superRefine((v, ctx) => {
      const problem = issuerProblem(v.trim());
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .transform((v) => v.trim())
    .optional(),
  /** The client registered for this realm at the upstream. */
  SEED_BROKER_CLIENT_ID: z
    .string()
    .refine((v) => /^\S+$/.test(v.trim()), 'SEED_BROKER_CLIENT_ID must not contain spaces')
    .transform((v) => v.trim())
    .optional(),
  /** A file holding that client's secret (one line; a final newline is ignored). */
  SEED_BROKER_CLIENT_SECRET_FILE: z.string().min(1).optional(),
  /** Keycloak's name for the provider: in the redirect URI, in kc_idp_hint, in the admin console. */
  SEED_BROKER_ALIAS: z
    .string()
    .refine(
      (v) => ALIAS.test(v.trim()),
      'SEED_BROKER_ALIAS may hold lower-case letters, digits and inner dashes (at most 40), e.g. corporate',
    )
    .transform((v) => v.trim())
    .default('corporate'),
  /** The button on Keycloak's login page. */
  SEED_BROKER_DISPLAY_NAME: z
    .string()
    .refine(
      (v) => v.trim() !== '' && v.trim().length <= 60,
      'SEED_BROKER_DISPLAY_NAME must be 1 to 60 characters',
    )
    .transform((v) => v.trim())
    .default('Corporate login'),
  /** true: every browser login goes to the upstream (the login form only with kc_idp_hint= empty). */
  SEED_BROKER_ONLY: z
    .enum(['true', 'false'], { error: 'SEED_BROKER_ONLY must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  /** Scopes Keycloak asks the upstream for. */
  SEED_BROKER_SCOPES: z
    .string()
    .transform((v) => v.trim().split(/\s+/).filter(Boolean))
    .refine(
      (v) => v.includes('openid'),
      'SEED_BROKER_SCOPES must include openid (e.g. "openid profile email")',
    )
    .default(['openid', 'profile', 'email']),
  /** The claim (dot notation for nested claims) whose value makes a person mcp-admin, e.g. groups or roles. */
  SEED_BROKER_ADMIN_CLAIM: z
    .string()
    .refine((v) => /^\S+$/.test(v.trim()), 'SEED_BROKER_ADMIN_CLAIM must be a claim name without spaces')
    .transform((v) => v.trim())
    .optional(),
  /** The value that claim must hold (or one of its values, for a list), e.g. mcp-admins or a group id. */
  SEED_BROKER_ADMIN_VALUE: z
    .string()
    .refine((v) => v.trim() !== '', 'SEED_BROKER_ADMIN_VALUE must not be blank')
    .transform((v) => v.trim())
    .optional(),
  /** Only people whose ID token has this claim (top level) with a matching value may log in, e.g. hd or groups. */
  SEED_BROKER_REQUIRED_CLAIM: z
    .string()
    .refine((v) => /^\S+$/.test(v.trim()), 'SEED_BROKER_REQUIRED_CLAIM must be a claim name without spaces')
    .transform((v) => v.trim())
    .optional(),
  /** A regular expression the whole claim value (or one of its values) must match, e.g. corp\.example */
  SEED_BROKER_REQUIRED_VALUE: z
    .string()
    .refine((v) => {
      try {
        new RegExp(v.trim());
        return v.trim() !== '';
      } catch {
        return false;
      }
    }, 'SEED_BROKER_REQUIRED_VALUE must be a regular expression (matched against the whole value)')
    .transform((v) => v.trim())
    .optional(),
  /** How the profile (email, names) follows the upstream: FORCE at every login, IMPORT at the first only. */
  SEED_BROKER_SYNC_MODE: z
    .enum(SYNC_MODES, { error: 'SEED_BROKER_SYNC_MODE must be FORCE, IMPORT or LEGACY' })
    .default('FORCE'),
  /** How Keycloak authenticates to the upstream's token endpoint, as the client is registered there. */
  SEED_BROKER_CLIENT_AUTH: z
    .enum(CLIENT_AUTH_METHODS, {
      error: 'SEED_BROKER_CLIENT_AUTH must be client_secret_basic or client_secret_post',
    })
    .default('client_secret_basic'),
};

const brokerObject = z.object(BROKER_FIELDS);
export type BrokerFields = z.infer<typeof brokerObject>;

/** The variables with no default: set without SEED_BROKER_ISSUER, they would be silently ignored. */
const NEED_ISSUER = [
  'SEED_BROKER_CLIENT_ID',
  'SEED_BROKER_CLIENT_SECRET_FILE',
  'SEED_BROKER_ADMIN_CLAIM',
  'SEED_BROKER_ADMIN_VALUE',
  'SEED_BROKER_REQUIRED_CLAIM',
  'SEED_BROKER_REQUIRED_VALUE',
] as const;

/** The rules between the fields, each issue on the variable to change. */
export function checkBrokerFields(value: BrokerFields, ctx: z.RefinementCtx): void {
  const issue = (path: keyof BrokerFields, message: string) =>
    ctx.addIssue({ code: 'custom', path: [path], message });
  if (!value.SEED_BROKER_ISSUER) {
    for (const name of NEED_ISSUER) {
      if (value[name] !== undefined) {
        issue(
          name,
          `${name} is set but SEED_BROKER_ISSUER is not: set SEED_BROKER_ISSUER to turn the upstream identity provider on`,
        );
      }
    }
    return;
  }
  if (!value.SEED_BROKER_CLIENT_ID) {
    issue(
      'SEED_BROKER_CLIENT_ID',
      'SEED_BROKER_CLIENT_ID is required with SEED_BROKER_ISSUER (the client registered at the upstream)',
    );
  }
  if (!value.SEED_BROKER_CLIENT_SECRET_FILE) {
    issue(
      'SEED_BROKER_CLIENT_SECRET_FILE',
      'SEED_BROKER_CLIENT_SECRET_FILE is required with SEED_BROKER_ISSUER (a file holding the client secret)',
    );
  }
  if (value.SEED_BROKER_ADMIN_CLAIM && !value.SEED_BROKER_ADMIN_VALUE) {
    issue(
      'SEED_BROKER_ADMIN_VALUE',
      'SEED_BROKER_ADMIN_VALUE is required with SEED_BROKER_ADMIN_CLAIM (the value that makes a person mcp-admin)',
    );
  }
  if (value.SEED_BROKER_REQUIRED_CLAIM && !value.SEED_BROKER_REQUIRED_VALUE) {
    issue(
      'SEED_BROKER_REQUIRED_VALUE',
      'SEED_BROKER_REQUIRED_VALUE is required with SEED_BROKER_REQUIRED_CLAIM (the pattern its value must match)',
    );
  }
  if (value.SEED_BROKER_REQUIRED_VALUE && !value.SEED_BROKER_REQUIRED_CLAIM) {
    issue(
      'SEED_BROKER_REQUIRED_CLAIM',
      'SEED_BROKER_REQUIRED_CLAIM is required with SEED_BROKER_REQUIRED_VALUE (the claim to match it against)',
    );
  }
  if (value.SEED_BROKER_ADMIN_VALUE && !value.SEED_BROKER_ADMIN_CLAIM) {
    issue(
      'SEED_BROKER_ADMIN_CLAIM',
      'SEED_BROKER_ADMIN_CLAIM is required with SEED_BROKER_ADMIN_VALUE (the claim that holds it, e.g. groups)',
    );
  }
}

/** The upstream as the seed and the doctor use it; the secret read from its file. */
export interface BrokerSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  secretFile: string;
  alias: string;
  displayName: string;
  only: boolean;
  scopes: string[];
  /** Absent: nobody gets mcp-admin through the upstream. */
  admin: { claim: string; value: string } | undefined;
  /** Absent: everyone the upstream authenticates may log in. */
  required: { claim: string; pattern: string } | undefined;
  syncMode: (typeof SYNC_MODES)[number];
  clientAuth: (typeof CLIENT_AUTH_METHODS)[number];
}

/** Undefined when SEED_BROKER_ISSUER is unset (brokering is off); throws a SeedError naming the file otherwise. */
export function brokerSettings(fields: BrokerFields): BrokerSettings | undefined {
  const issuer = fields.SEED_BROKER_ISSUER;
  if (!issuer) return undefined;
  const secretFile = fields.SEED_BROKER_CLIENT_SECRET_FILE as string;
  return {
    issuer,
    clientId: fields.SEED_BROKER_CLIENT_ID as string,
    clientSecret: readSecretFile('SEED_BROKER_CLIENT_SECRET_FILE', secretFile),
    secretFile,
    alias: fields.SEED_BROKER_ALIAS,
    displayName: fields.SEED_BROKER_DISPLAY_NAME,
    only: fields.SEED_BROKER_ONLY,
    scopes: fields.SEED_BROKER_SCOPES,
    admin:
      fields.SEED_BROKER_ADMIN_CLAIM && fields.SEED_BROKER_ADMIN_VALUE
        ? { claim: fields.SEED_BROKER_ADMIN_CLAIM, value: fields.SEED_BROKER_ADMIN_VALUE }
        : undefined,
    required:
      fields.SEED_BROKER_REQUIRED_CLAIM && fields.SEED_BROKER_REQUIRED_VALUE
        ? { claim: fields.SEED_BROKER_REQUIRED_CLAIM, pattern: fields.SEED_BROKER_REQUIRED_VALUE }
        : undefined,
    syncMode: fields.SEED_BROKER_SYNC_MODE,
    clientAuth: fields.SEED_BROKER_CLIENT_AUTH,
  };
}

/** Where the upstream sends people back: register exactly this at the upstream. */
export function brokerRedirectUri(realmIssuer: string, alias: string): string {
  return `${realmIssuer.replace(/\/+$/, '')}/broker/${alias}/endpoint`;
}

/** For the doctor: the SEED_BROKER_* variables alone (empty = unset), validated as the seed does. */
export function brokerFromEnv(env: NodeJS.ProcessEnv): BrokerSettings | undefined {
  const present: Record<string, string> = {};
  for (const name of Object.keys(BROKER_FIELDS)) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') present[name] = value;
  }
  const parsed = brokerObject.superRefine(checkBrokerFields).safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'SEED_BROKER_ISSUER');
    const message = issue?.message ?? 'invalid';
    throw new SeedError('config_invalid', message.includes(variable) ? message : `${variable}: ${message}`);
  }
  return brokerSettings(parsed.data);
}
