// The MCP server's only reader of process.env. Every variable is validated once, here; a bad value stops the
// process with a message that names the variable and shows what it got.
import { z } from 'zod';
import { loadUpstreamsFile, UpstreamsFileError, type UpstreamSpec } from './gateway/upstreamsFile.ts';
import { TOOLS_SCOPE } from './mcp/toolAccess.ts';
import { readSecretFile } from './secretFile.ts';

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
  /** MCP_REPLICA_ID: the prefix of the gateway's session ids (sticky routing at a balancer); null alone. */
  readonly replicaId: string | null;
  readonly logLevel: LogLevel;
  /** Every trusted issuer, `issuer` first; a token's `iss` must be one of them, exactly. */
  readonly issuers: readonly string[];
  /** JWKS URL per issuer, same order as `issuers`. */
  readonly jwksUrls: readonly string[];
  /** When set, only tokens whose `azp`/`client_id` is listed are accepted. */
  readonly allowedClients: readonly string[] | null;
  /** Clients whose service-account (no user) tokens are accepted; every other service account is refused. */
  readonly serviceAccountClients: readonly string[];
  /** Longest accepted token lifetime (`exp - iat`), seconds; 0 = no cap. */
  readonly maxTokenLifetimeSeconds: number;
  readonly jwksCacheMaxAgeSeconds: number;
  readonly jwksCooldownSeconds: number;
  /** Verified tokens kept (keyed by SHA-256 of the token, never past `exp`); 0 turns the cache off. */
  readonly tokenCacheSize: number;
  readonly tokenValidation: 'jwt' | 'introspection';
  readonly introspection: {
    readonly url: string;
    readonly clientId: string;
    readonly clientSecret: string;
  } | null;
  /** Tool calls + MCP requests per subject per window, shared by every replica through Valkey; 0 = off. */
  readonly rateLimit: number;
  readonly rateLimitWindowSeconds: number;
  /** What happens to tool calls while Valkey is down: refused (`closed`) or run uncounted (`open`). */
  readonly storeFailureMode: 'closed' | 'open';
  /** Browser origins allowed on /mcp (DNS-rebinding protection); requests without Origin always pass. */
  readonly allowedOrigins: readonly string[];
  readonly maxBodyBytes: number;
  /** A request body must arrive within this time, or the request is answered 408 and its socket closed. */
  readonly bodyTimeoutSeconds: number;
  readonly trustProxy: boolean;
  readonly metricsEnabled: boolean;
  /** Where /metrics is served: null = on the MCP listener (MCP_METRICS_PORT=mcp, public); else a listener
   * of its own (port 0 = any free). */
  readonly metricsListener: { readonly host: string; readonly port: number } | null;
  readonly shutdownGraceSeconds: number;
  /** The MCP servers behind the gateway (MCP_UPSTREAMS_FILE); empty when no file is configured. */
  readonly upstreams: readonly UpstreamSpec[];
  /** The gateway's own client at Keycloak, for upstreams with `identity: token-exchange`; else null. */
  readonly tokenExchange: {
    readonly tokenUrl: string;
    readonly clientId: string;
    readonly clientSecret: string;
  } | null;
  /** V8 old-generation headroom over the live heap after a full GC, in percent; 0 = V8's own heuristics. */
  readonly heapGrowingPercent: number;
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

const httpUrlList = (name: string) =>
  z
    .string()
    .refine(
      (value) =>
        splitList(value).length > 0 &&
        splitList(value).every((url) => isUrlWithProtocol(url, ['http:', 'https:'])),
      { error: (issue) => `${name} must be a comma list of absolute http(s) URLs ${got(issue.input)}` },
    )
    .transform(splitList);

const integer = (name: string, min: number, max: number) =>
  z
    .string()
    .refine((value) => /^\d+$/.test(value.trim()) && Number(value) >= min && Number(value) <= max, {
      error: (issue) => `${name} must be a whole number from ${min} to ${max} ${got(issue.input)}`,
    })
    .transform(Number);

function isOrigin(value: string): boolean {
  return URL.canParse(value) && new URL(value).origin === value;
}

const boolean = (name: string) =>
  z
    .enum(['true', 'false', '1', '0'], {
      error: (i) => `${name} must be true or false ${got(i.input)}`,
    })
    .transform((value) => value === 'true' || value === '1');

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
  // A comma list: several realms or issuers may be trusted; the first is the one advertised first.
  OIDC_ISSUER: httpUrlList('OIDC_ISSUER').default(['http://localhost:8080/realms/mcp']),
  OIDC_JWKS_URL: httpUrlList('OIDC_JWKS_URL').optional(),
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
    .default(TOOLS_SCOPE),
  VALKEY_URL: z
    .string()
    // The value is not echoed: it may carry a password.
    .refine((value) => isUrlWithProtocol(value, ['redis:', 'rediss:', 'valkey:', 'valkeys:']), {
      error: 'VALKEY_URL must be a redis://, rediss://, valkey:// or valkeys:// URL',
    })
    .default('redis://127.0.0.1:6379'),
  // The Valkey password from a file (compose secrets), put into VALKEY_URL; the URL then carries none itself.
  VALKEY_PASSWORD_FILE: z.string().optional(),
  // This replica's name in a group behind one balancer: gateway session ids start with it, so the balancer can
  // send a session's requests to the replica that holds it (compose/production/nginx.conf).
  MCP_REPLICA_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,40}$/, {
      error: (i) => `MCP_REPLICA_ID must be 1-40 letters, digits, _ or - ${got(i.input)}`,
    })
    .optional(),
  OIDC_ALLOWED_CLIENTS: z.string().transform(splitList).optional(),
  // The seed's M2M client by default: anonymous registration could otherwise mint machine clients.
  OIDC_SERVICE_ACCOUNT_CLIENTS: z
    .string()
    .regex(/^[A-Za-z0-9_.:,\s-]*$/, {
      error: (i) => `OIDC_SERVICE_ACCOUNT_CLIENTS must be a comma list of client ids ${got(i.input)}`,
    })
    .transform(splitList)
    .default(['mcp-m2m']),
  // The realm's access-token lifespan (realm-export: 300 s); 0 turns the cap off.
  OIDC_MAX_TOKEN_LIFETIME_SECONDS: integer('OIDC_MAX_TOKEN_LIFETIME_SECONDS', 0, 31_536_000).default(300),
  OIDC_JWKS_CACHE_MAX_AGE_SECONDS: integer('OIDC_JWKS_CACHE_MAX_AGE_SECONDS', 1, 86400).default(600),
  OIDC_JWKS_COOLDOWN_SECONDS: integer('OIDC_JWKS_COOLDOWN_SECONDS', 0, 3600).default(30),
  OIDC_TOKEN_CACHE_SIZE: integer('OIDC_TOKEN_CACHE_SIZE', 0, 1_000_000).default(10_000),
  OIDC_TOKEN_VALIDATION: z
    .enum(['jwt', 'introspection'], {
      error: (i) => `OIDC_TOKEN_VALIDATION must be jwt or introspection ${got(i.input)}`,
    })
    .default('jwt'),
  OIDC_INTROSPECTION_URL: httpUrl('OIDC_INTROSPECTION_URL').optional(),
  OIDC_INTROSPECTION_CLIENT_ID: z.string().optional(),
  OIDC_INTROSPECTION_CLIENT_SECRET: z.string().optional(),
  OIDC_INTROSPECTION_CLIENT_SECRET_FILE: z.string().optional(),
  MCP_RATE_LIMIT: integer('MCP_RATE_LIMIT', 0, 100_000_000).default(600),
  MCP_RATE_LIMIT_WINDOW_SECONDS: integer('MCP_RATE_LIMIT_WINDOW_SECONDS', 1, 86400).default(60),
  MCP_STORE_FAILURE_MODE: z
    .enum(['closed', 'open'], {
      error: (i) => `MCP_STORE_FAILURE_MODE must be closed or open ${got(i.input)}`,
    })
    .default('closed'),
  MCP_ALLOWED_ORIGINS: z
    .string()
    .refine((value) => splitList(value).every((o) => o === '*' || isOrigin(o)), {
      error: (i) =>
        `MCP_ALLOWED_ORIGINS must be a comma list of origins like http://localhost:6274, or * ${got(i.input)}`,
    })
    .transform(splitList)
    .optional(),
  MCP_MAX_BODY_BYTES: integer('MCP_MAX_BODY_BYTES', 1024, 64 * 1024 * 1024).default(1024 * 1024),
  MCP_BODY_TIMEOUT_SECONDS: integer('MCP_BODY_TIMEOUT_SECONDS', 1, 600).default(30),
  MCP_TRUST_PROXY: boolean('MCP_TRUST_PROXY').default(false),
  MCP_METRICS_ENABLED: boolean('MCP_METRICS_ENABLED').default(true),
  // A listener of its own by default: the MCP port faces clients. `mcp` puts /metrics on the MCP port (public).
  MCP_METRICS_PORT: z
    .string()
    .refine((value) => value === 'mcp' || (/^\d+$/.test(value) && Number(value) <= 65535), {
      error: (i) => `MCP_METRICS_PORT must be a port from 0 to 65535, or mcp ${got(i.input)}`,
    })
    .transform((value) => (value === 'mcp' ? ('mcp' as const) : Number(value)))
    .default(9464),
  MCP_METRICS_HOST: z
    .string()
    .regex(/^[A-Za-z0-9.:[\]-]+$/, {
      error: (i) => `MCP_METRICS_HOST must be a host name or IP address ${got(i.input)}`,
    })
    .default('127.0.0.1'),
  MCP_SHUTDOWN_GRACE_SECONDS: integer('MCP_SHUTDOWN_GRACE_SECONDS', 0, 600).default(10),
  // YAML or JSON (gateway/upstreamsFile.ts); unset = only the built-in tools.
  MCP_UPSTREAMS_FILE: z.string().min(1).optional(),
  // The gateway's confidential client (seeded as mcp-gateway), needed only by token-exchange upstreams.
  MCP_GATEWAY_CLIENT_ID: z.string().optional(),
  MCP_GATEWAY_CLIENT_SECRET: z.string().optional(),
  MCP_GATEWAY_CLIENT_SECRET_FILE: z.string().optional(),
  MCP_GATEWAY_TOKEN_URL: httpUrl('MCP_GATEWAY_TOKEN_URL').optional(),
  MCP_HEAP_GROWING_PERCENT: integer('MCP_HEAP_GROWING_PERCENT', 0, 1000).default(50),
  LOG_LEVEL: z
    .enum(LOG_LEVELS, { error: (i) => `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} ${got(i.input)}` })
    .default('info'),
});

type Variable = keyof z.input<typeof schema>;
/** Every variable the server reads (docker-compose.yml passes each one: compose/test/composeEnvironment.test.ts). */
export const VARIABLES = Object.keys(schema.shape) as readonly Variable[];

/**
 * A Keycloak endpoint next to the keys: an OIDC_JWKS_URL on an internal address (compose, a cluster) gives
 * the endpoint on that address too, where the public issuer may not be reachable.
 */
function besideKeys(jwksUrl: string, issuer: string, endpoint: 'token' | 'token/introspect'): string {
  return /\/protocol\/openid-connect\/certs$/.test(jwksUrl)
    ? jwksUrl.replace(/\/certs$/, `/${endpoint}`)
    : `${issuer.replace(/\/+$/, '')}/protocol/openid-connect/${endpoint}`;
}

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
  const issuers = e.OIDC_ISSUER;
  const issuer = issuers[0] as string;
  const problems: [Variable, string][] = [];
  /** VAR itself, or the content of VAR_FILE; both set is a problem (which one would win is a guess). */
  const secret = (name: Variable, fileName: Variable): string | undefined => {
    const path = e[fileName] as string | undefined;
    if (path === undefined) return e[name] as string | undefined;
    if (e[name] !== undefined) {
      problems.push([fileName, `${name} and ${fileName} are both set: keep one`]);
      return undefined;
    }
    const read = readSecretFile(fileName, path);
    if (read.ok) return read.value;
    problems.push([fileName, read.problem]);
    return undefined;
  };
  const introspectionSecret = secret(
    'OIDC_INTROSPECTION_CLIENT_SECRET',
    'OIDC_INTROSPECTION_CLIENT_SECRET_FILE',
  );
  const gatewaySecret = secret('MCP_GATEWAY_CLIENT_SECRET', 'MCP_GATEWAY_CLIENT_SECRET_FILE');
  let valkeyUrl = e.VALKEY_URL;
  if (e.VALKEY_PASSWORD_FILE) {
    const url = new URL(valkeyUrl);
    const read = readSecretFile('VALKEY_PASSWORD_FILE', e.VALKEY_PASSWORD_FILE);
    if (url.password) {
      problems.push([
        'VALKEY_PASSWORD_FILE',
        'VALKEY_URL carries a password and VALKEY_PASSWORD_FILE is set: keep one',
      ]);
    } else if (!read.ok) {
      problems.push(['VALKEY_PASSWORD_FILE', read.problem]);
    } else {
      url.password = encodeURIComponent(read.value);
      valkeyUrl = url.toString();
    }
  }
  const jwksUrls = issuers.map(
    (iss, n) => e.OIDC_JWKS_URL?.[n] ?? `${iss.replace(/\/+$/, '')}/protocol/openid-connect/certs`,
  );
  if (e.OIDC_JWKS_URL && e.OIDC_JWKS_URL.length !== issuers.length) {
    problems.push([
      'OIDC_JWKS_URL',
      `OIDC_JWKS_URL must list one URL per OIDC_ISSUER (${issuers.length}) (got ${e.OIDC_JWKS_URL.length})`,
    ]);
  }
  let introspection: Config['introspection'] = null;
  if (e.OIDC_TOKEN_VALIDATION === 'introspection') {
    if (!e.OIDC_INTROSPECTION_CLIENT_ID)
      problems.push([
        'OIDC_INTROSPECTION_CLIENT_ID',
        'OIDC_INTROSPECTION_CLIENT_ID is required when OIDC_TOKEN_VALIDATION=introspection',
      ]);
    if (!introspectionSecret && !e.OIDC_INTROSPECTION_CLIENT_SECRET_FILE)
      problems.push([
        'OIDC_INTROSPECTION_CLIENT_SECRET',
        'OIDC_INTROSPECTION_CLIENT_SECRET (or _FILE) is required when OIDC_TOKEN_VALIDATION=introspection',
      ]);
    if (issuers.length !== 1)
      problems.push(['OIDC_ISSUER', 'introspection mode supports exactly one OIDC_ISSUER']);
    introspection = {
      url: e.OIDC_INTROSPECTION_URL ?? besideKeys(jwksUrls[0] as string, issuer, 'token/introspect'),
      clientId: e.OIDC_INTROSPECTION_CLIENT_ID ?? '',
      clientSecret: introspectionSecret ?? '',
    };
  }
  let upstreams: UpstreamSpec[] = [];
  if (e.MCP_UPSTREAMS_FILE) {
    try {
      // `${VAR}` in the file is filled from this same environment: secrets stay out of the file.
      upstreams = loadUpstreamsFile(e.MCP_UPSTREAMS_FILE, env);
    } catch (error) {
      if (!(error instanceof UpstreamsFileError)) throw error;
      problems.push(['MCP_UPSTREAMS_FILE', `MCP_UPSTREAMS_FILE: ${error.message}`]);
    }
  }
  let tokenExchange: Config['tokenExchange'] = null;
  if (upstreams.some((u) => u.identity.type === 'token-exchange')) {
    if (!e.MCP_GATEWAY_CLIENT_ID)
      problems.push([
        'MCP_GATEWAY_CLIENT_ID',
        'MCP_GATEWAY_CLIENT_ID is required: an upstream uses identity: token-exchange',
      ]);
    if (!gatewaySecret && !e.MCP_GATEWAY_CLIENT_SECRET_FILE)
      problems.push([
        'MCP_GATEWAY_CLIENT_SECRET',
        'MCP_GATEWAY_CLIENT_SECRET (or _FILE) is required: an upstream uses identity: token-exchange',
      ]);
    tokenExchange = {
      tokenUrl: e.MCP_GATEWAY_TOKEN_URL ?? besideKeys(jwksUrls[0] as string, issuer, 'token'),
      clientId: e.MCP_GATEWAY_CLIENT_ID ?? '',
      clientSecret: gatewaySecret ?? '',
    };
  }
  if (problems.length > 0) {
    throw new ConfigError(
      problems.map(([, m]) => m).join('; '),
      problems.map(([v]) => v),
    );
  }
  const resourceUrl = e.MCP_RESOURCE_URL ?? `http://localhost:${e.MCP_PORT}/mcp`;
  return Object.freeze({
    host: e.MCP_HOST,
    port: e.MCP_PORT,
    resourceUrl,
    issuer,
    jwksUrl: jwksUrls[0] as string,
    issuers: Object.freeze([...issuers]),
    jwksUrls: Object.freeze(jwksUrls),
    allowedClients:
      e.OIDC_ALLOWED_CLIENTS && e.OIDC_ALLOWED_CLIENTS.length > 0
        ? Object.freeze([...e.OIDC_ALLOWED_CLIENTS])
        : null,
    serviceAccountClients: Object.freeze([...e.OIDC_SERVICE_ACCOUNT_CLIENTS]),
    maxTokenLifetimeSeconds: e.OIDC_MAX_TOKEN_LIFETIME_SECONDS,
    jwksCacheMaxAgeSeconds: e.OIDC_JWKS_CACHE_MAX_AGE_SECONDS,
    jwksCooldownSeconds: e.OIDC_JWKS_COOLDOWN_SECONDS,
    tokenCacheSize: e.OIDC_TOKEN_CACHE_SIZE,
    tokenValidation: e.OIDC_TOKEN_VALIDATION,
    introspection,
    rateLimit: e.MCP_RATE_LIMIT,
    rateLimitWindowSeconds: e.MCP_RATE_LIMIT_WINDOW_SECONDS,
    storeFailureMode: e.MCP_STORE_FAILURE_MODE,
    // Default: only the resource's own origin (a console served by this server); browser clients elsewhere
    // (e.g. the MCP Inspector) must be listed.
    allowedOrigins: Object.freeze(e.MCP_ALLOWED_ORIGINS ?? [new URL(resourceUrl).origin]),
    maxBodyBytes: e.MCP_MAX_BODY_BYTES,
    bodyTimeoutSeconds: e.MCP_BODY_TIMEOUT_SECONDS,
    trustProxy: e.MCP_TRUST_PROXY,
    metricsEnabled: e.MCP_METRICS_ENABLED,
    metricsListener:
      e.MCP_METRICS_PORT === 'mcp' ? null : { host: e.MCP_METRICS_HOST, port: e.MCP_METRICS_PORT },
    shutdownGraceSeconds: e.MCP_SHUTDOWN_GRACE_SECONDS,
    heapGrowingPercent: e.MCP_HEAP_GROWING_PERCENT,
    upstreams: Object.freeze(upstreams),
    tokenExchange,
    algorithms: Object.freeze([...e.OIDC_ALGORITHMS]),
    clockToleranceSeconds: e.OIDC_CLOCK_TOLERANCE_SECONDS,
    requiredScope: e.MCP_REQUIRED_SCOPE,
    valkeyUrl,
    replicaId: e.MCP_REPLICA_ID ?? null,
    logLevel: e.LOG_LEVEL,
  });
}
