// The MCP server's only reader of process.env. Every variable is validated once, here; a bad value stops the
// process with a message that names the variable and shows what it got.
import { z } from 'zod';

export class ConfigError extends Error {
  readonly code = 'config_invalid';
  /** The variables that failed, in the order they were checked. */
  readonly variables: readonly string[];
  constructor(message: string, variables: readonly string[]) {
    super(message);
    this.name = 'ConfigError';
    this.variables = variables;
  }
}

export interface Config {
  readonly host: string;
  readonly port: number;
  /** Canonical resource URL: the `resource` in our metadata and the `aud` every accepted token must carry. */
  readonly resourceUrl: string;
  /** Public issuer: compared with `iss` and listed as the authorization server. */
  readonly issuer: string;
  /** Where signing keys are fetched; may be an internal address while `issuer` stays public. */
  readonly jwksUrl: string;
  readonly algorithms: readonly string[];
  readonly clockToleranceSeconds: number;
  readonly requiredScope: string;
  readonly valkeyUrl: string;
  readonly logLevel: LogLevel;
}

export type LogLevel = (typeof LOG_LEVELS)[number];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

// Asymmetric JWS algorithms only: the server has no shared secret, so HS* could only ever be an attack
// (an HMAC "signed" with the public key), and `none` is never acceptable.
const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

const got = (value: unknown) => `(got ${JSON.stringify(value)})`;

function isUrlWithProtocol(value: string, protocols: readonly string[]): boolean {
  if (!URL.canParse(value)) return false;
  return protocols.includes(new URL(value).protocol);
}

const splitList = (value: string) =>
  [...new Set(value.split(',').map((item) => item.trim()))].filter(Boolean);

const httpUrl = (name: string) =>
  z.string().refine((value) => isUrlWithProtocol(value, ['http:', 'https:']), {
    error: (issue) => `${name} must be an absolute http(s) URL ${got(issue.input)}`,
  });

const integer = (name: string, min: number, max: number) =>
  z
    .string()
    .refine((value) => /^\d+$/.test(value.trim()) && Number(value) >= min && Number(value) <= max, {
      error: (issue) => `${name} must be a whole number from ${min} to ${max} ${got(issue.input)}`,
    })
    .transform(Number);

const schema = z.object({
  MCP_HOST: z
    .string()
    .regex(/^[A-Za-z0-9.:[\]-]+$/, {
      error: (i) => `MCP_HOST must be a host name or IP address ${got(i.input)}`,
    })
    .default('127.0.0.1'),
  MCP_PORT: integer('MCP_PORT', 0, 65535).default(3000),
  MCP_RESOURCE_URL: httpUrl('MCP_RESOURCE_URL')
    // RFC 8707 §2: a resource indicator MUST NOT include a fragment.
    .refine((value) => !value.includes('#'), {
      error: (i) => `MCP_RESOURCE_URL must not contain a fragment (#) ${got(i.input)}`,
    })
    .optional(),
  OIDC_ISSUER: httpUrl('OIDC_ISSUER').default('http://localhost:8080/realms/mcp'),
  OIDC_JWKS_URL: httpUrl('OIDC_JWKS_URL').optional(),
  OIDC_ALGORITHMS: z
    .string()
    .refine(
      (value) =>
        splitList(value).length > 0 &&
        splitList(value).every((a) => (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(a)),
      {
        error: (i) =>
          `OIDC_ALGORITHMS must be a comma list of ${ASYMMETRIC_ALGORITHMS.join(', ')} ${got(i.input)}`,
      },
    )
    .transform(splitList)
    .default(['RS256']),
  OIDC_CLOCK_TOLERANCE_SECONDS: integer('OIDC_CLOCK_TOLERANCE_SECONDS', 0, 300).default(30),
  // RFC 6749 §3.3 scope-token: printable ASCII without space, `"` or `\`.
  MCP_REQUIRED_SCOPE: z
    .string()
    .regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, {
      error: (i) => `MCP_REQUIRED_SCOPE must be a single OAuth scope token ${got(i.input)}`,
    })
    .default('mcp:tools'),
  VALKEY_URL: z
    .string()
    // The value is not echoed: it may carry a password.
    .refine((value) => isUrlWithProtocol(value, ['redis:', 'rediss:', 'valkey:', 'valkeys:']), {
      error: 'VALKEY_URL must be a redis://, rediss://, valkey:// or valkeys:// URL',
    })
    .default('redis://127.0.0.1:6379'),
  LOG_LEVEL: z
    .enum(LOG_LEVELS, { error: (i) => `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} ${got(i.input)}` })
    .default('info'),
});

type Variable = keyof z.input<typeof schema>;
const VARIABLES = Object.keys(schema.shape) as Variable[];

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty value means "not set": compose files and .env templates pass `VAR=` for unset knobs.
  const present: Partial<Record<Variable, string>> = {};
  for (const name of VARIABLES) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') present[name] = value.trim();
  }

  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const variables = parsed.error.issues.map((issue) => String(issue.path[0] ?? 'environment'));
    const messages = parsed.error.issues.map((issue, n) =>
      issue.message.includes(variables[n] ?? '') ? issue.message : `${variables[n]}: ${issue.message}`,
    );
    throw new ConfigError(messages.join('; '), variables);
  }

  const e = parsed.data;
  const issuer = e.OIDC_ISSUER;
  return Object.freeze({
    host: e.MCP_HOST,
    port: e.MCP_PORT,
    resourceUrl: e.MCP_RESOURCE_URL ?? `http://localhost:${e.MCP_PORT}/mcp`,
    issuer,
    jwksUrl: e.OIDC_JWKS_URL ?? `${issuer.replace(/\/+$/, '')}/protocol/openid-connect/certs`,
    algorithms: Object.freeze([...e.OIDC_ALGORITHMS]),
    clockToleranceSeconds: e.OIDC_CLOCK_TOLERANCE_SECONDS,
    requiredScope: e.MCP_REQUIRED_SCOPE,
    valkeyUrl: e.VALKEY_URL,
    logLevel: e.LOG_LEVEL,
  });
}
