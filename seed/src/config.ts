// The seed's only reader of the environment. Every variable is validated; messages name the variable.
import { z } from 'zod';
import { PRESET_NAMES, type PresetName } from './clients/presets.ts';
import { SeedError } from './errors.ts';
import { readSecretFile } from './secretFile.ts';
import { BROKER_FIELDS, checkBrokerFields } from './broker/settings.ts';
import { checkLdapFields, LDAP_FIELDS } from './ldap/settings.ts';
import { CIMD_FIELDS } from './cimd/settings.ts';

const url = (name: string) =>
  z
    .string()
    .refine((value) => /^https?:\/\/[^\s]+$/.test(value), `${name} must be an absolute http(s) URL`)
    .transform((value) => value.replace(/\/+$/, ''));

const optionalSecret = (name: string) =>
  z
    .string()
    .min(12, `${name} must be at least 12 characters (the realm's password policy)`)
    .optional()
    .or(z.literal('').transform(() => undefined));

const schema = z.object({
  KEYCLOAK_URL: url('KEYCLOAK_URL').default('http://localhost:8080'),
  KEYCLOAK_REALM: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'KEYCLOAK_REALM must be a realm name')
    .default('mcp'),
  KEYCLOAK_ADMIN_USERNAME: z.string().min(1, 'KEYCLOAK_ADMIN_USERNAME must not be empty').default('admin'),
  KEYCLOAK_ADMIN_PASSWORD: z
    .string({ error: 'KEYCLOAK_ADMIN_PASSWORD (or KEYCLOAK_ADMIN_PASSWORD_FILE) is required' })
    .min(1, { error: 'KEYCLOAK_ADMIN_PASSWORD must not be empty' }),
  /** The admin password from a file (compose secrets): docker-compose.production.yml. */
  KEYCLOAK_ADMIN_PASSWORD_FILE: z.string().optional(),
  STACK_CARD_PATH: z.string().min(1).default('.stack/stack.json'),
  SEED_WAIT_SECONDS: z.coerce
    .number({ error: 'SEED_WAIT_SECONDS must be a number' })
    .int()
    .min(0)
    .max(3600)
    .default(120),
  SEED_ALICE_PASSWORD: optionalSecret('SEED_ALICE_PASSWORD'),
  SEED_BOB_PASSWORD: optionalSecret('SEED_BOB_PASSWORD'),
  SEED_M2M_CLIENT_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]+$/, 'SEED_M2M_CLIENT_ID may hold letters, digits and _ . : - only')
    .default('mcp-m2m'),
  /** The MCP resource URL the console client's redirect URIs are built from; default: the stack card's mcpUrl. */
  SEED_MCP_URL: url('SEED_MCP_URL').optional(),
  SEED_PRESETS: z
    .string()
    .default('all')
    .transform((value, ctx) => {
      const names = value
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean);
      if (names.length === 1 && names[0] === 'all') return [...PRESET_NAMES];
      if (names.length === 1 && names[0] === 'none') return [];
      const unknown = names.filter((n) => !(PRESET_NAMES as readonly string[]).includes(n));
      if (unknown.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `SEED_PRESETS: unknown host ${unknown.join(', ')} (known: ${PRESET_NAMES.join(', ')}, or all, none)`,
        });
        return z.NEVER;
      }
      return names as PresetName[];
    }),
  SEED_LIBRECHAT_URL: url('SEED_LIBRECHAT_URL').default('http://localhost:3080'),
  SEED_LIBRECHAT_SERVER_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'SEED_LIBRECHAT_SERVER_NAME may hold letters, digits, _ and - only')
    .default('mcp-keycloak-stack'),
  /** The gateway's upstreams file (YAML or JSON, mcp-server/src/gateway/upstreamsFile.ts); unset: no upstreams. */
  MCP_UPSTREAMS_FILE: z.string().min(1).optional(),
  SEED_MCP_REMOTE_PORT: z.coerce
    .number({ error: 'SEED_MCP_REMOTE_PORT must be a TCP port number' })
    .int()
    .min(1024, 'SEED_MCP_REMOTE_PORT must be between 1024 and 65535')
    .max(65535, 'SEED_MCP_REMOTE_PORT must be between 1024 and 65535')
    .default(3334),
  /** Which client ID metadata documents Keycloak fetches (feature cimd): cimd/settings.ts. */
  ...CIMD_FIELDS,
  /** The corporate directory (LDAP, Active Directory); off unless SEED_LDAP_URL is set: ldap/settings.ts. */
  ...LDAP_FIELDS,
  /** The upstream OpenID Connect provider (corporate IdP); off unless SEED_BROKER_ISSUER is set: broker/settings.ts. */
  ...BROKER_FIELDS,
});

export type SeedConfig = Readonly<z.infer<typeof schema>>;

/** Every variable the seed reads (docker-compose.yml passes each one: compose/test/composeEnvironment.test.ts). */
export const SEED_VARIABLES = Object.keys(schema.shape) as readonly (keyof typeof schema.shape)[];

export function loadSeedConfig(env: NodeJS.ProcessEnv = process.env): SeedConfig {
  // An empty value means "not set", as for the MCP server: docker-compose.yml passes `VAR: ${VAR:-}`.
  const present: Record<string, string> = {};
  for (const name of SEED_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') present[name] = value;
  }
  if (present.KEYCLOAK_ADMIN_PASSWORD_FILE) {
    if (present.KEYCLOAK_ADMIN_PASSWORD) {
      throw new SeedError(
        'config_invalid',
        'KEYCLOAK_ADMIN_PASSWORD and KEYCLOAK_ADMIN_PASSWORD_FILE are both set: keep one',
      );
    }
    present.KEYCLOAK_ADMIN_PASSWORD = readSecretFile(
      'KEYCLOAK_ADMIN_PASSWORD_FILE',
      present.KEYCLOAK_ADMIN_PASSWORD_FILE,
    );
  }
  const parsed = schema
    .superRefine((value, ctx) => {
      checkLdapFields(value, ctx);
      checkBrokerFields(value, ctx);
    })
    .safeParse(present);
  if (parsed.success) return Object.freeze(parsed.data);
  const issue = parsed.error.issues[0];
  const variable = String(issue?.path[0] ?? 'environment');
  const message = issue?.message ?? 'invalid';
  throw new SeedError('config_invalid', message.includes(variable) ? message : `${variable}: ${message}`);
}
