// The launcher's only reader of the environment: every knob validated, messages name the variable.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_UPSTREAMS_FILE, REPO_ROOT } from './paths.ts';

export class SettingsError extends Error {
  readonly code = 'settings_invalid';
}

const port = (name: string, fallback: number) =>
  z.coerce
    .number({ error: `${name} must be a TCP port number` })
    .int(`${name} must be a whole number`)
    .min(1, `${name} must be between 1 and 65535`)
    .max(65535, `${name} must be between 1 and 65535`)
    .default(fallback);

/** The Keycloak releases the stack is made for, realm export and registration policy included. */
const SUPPORTED_KEYCLOAK = /^26\.7\.\d+$/;
/**
 * Older releases a stack may still run until it is upgraded (docs/upgrade.md): tested with 26.5.6, whose realm
 * import, seed and registration policy work, but a new stack belongs on a supported release.
 */
const UPGRADE_SOURCE_KEYCLOAK = /^26\.5\.\d+$/;

const schema = z.object({
  KEYCLOAK_VERSION: z
    .string()
    .refine(
      (v) => SUPPORTED_KEYCLOAK.test(v) || UPGRADE_SOURCE_KEYCLOAK.test(v),
      'KEYCLOAK_VERSION must be a Keycloak 26.7.x release, e.g. 26.7.3 (26.5.x only to run a stack made with ' +
        'it until it is upgraded, docs/upgrade.md)',
    )
    .default('26.7.3'),
  KC_PORT: port('KC_PORT', 8080),
  KC_MANAGEMENT_PORT: port('KC_MANAGEMENT_PORT', 9000),
  MCP_PORT: port('MCP_PORT', 3000),
  // The MCP server's private /metrics listener (on 127.0.0.1), never its public port.
  MCP_METRICS_PORT: port('MCP_METRICS_PORT', 9464),
  VALKEY_PORT: port('VALKEY_PORT', 6379),
  KEYCLOAK_REALM: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'KEYCLOAK_REALM must be a realm name')
    .default('mcp'),
  KC_BOOTSTRAP_ADMIN_USERNAME: z
    .string()
    .min(1, 'KC_BOOTSTRAP_ADMIN_USERNAME must not be empty')
    .default('admin'),
  KC_BOOTSTRAP_ADMIN_PASSWORD: z
    .string()
    .min(12, 'KC_BOOTSTRAP_ADMIN_PASSWORD must be at least 12 characters (or unset: one is generated)')
    .optional(),
  // Self-registered clients with no session for this long are deleted (seed/src/janitor/pruneClients.ts).
  DCR_UNUSED_CLIENT_SECONDS: z.coerce
    .number({ error: 'DCR_UNUSED_CLIENT_SECONDS must be a number of seconds' })
    .int('DCR_UNUSED_CLIENT_SECONDS must be a whole number')
    .min(0, 'DCR_UNUSED_CLIENT_SECONDS must not be negative')
    .default(86_400),
  KC_START_TIMEOUT_SECONDS: z.coerce
    .number({ error: 'KC_START_TIMEOUT_SECONDS must be a number of seconds' })
    .int()
    .min(10, 'KC_START_TIMEOUT_SECONDS must be at least 10')
    .default(240),
  // The gateway's upstreams (mcp-server/src/gateway/upstreamsFile.ts), for the seed and the MCP server alike.
  // Unset: the repository's compose/gateway/upstreams.yaml; empty: no upstreams, only the built-in tools.
  MCP_UPSTREAMS_FILE: z.string().optional(),
  STACK_DIR: z.string().min(1).default(join(REPO_ROOT, '.stack')),
  STACK_CACHE_DIR: z.string().min(1).optional(),
  XDG_CACHE_HOME: z.string().optional(),
  HOME: z.string().min(1).default(homedir()),
  JAVA_HOME: z.string().optional(),
  // Keycloak's JVM class-data archive (classDataSharing.ts); off: start without one.
  KEYCLOAK_CDS: z.enum(['on', 'off'], { error: 'KEYCLOAK_CDS must be on or off' }).default('on'),
});

export interface Settings {
  keycloakVersion: string;
  /** True for an older release accepted only as the source of an upgrade (26.5.x); the launcher says so. */
  keycloakUpgradeSource: boolean;
  ports: {
    keycloak: number;
    keycloakManagement: number;
    mcp: number;
    mcpMetrics: number;
    valkey: number;
  };
  realm: string;
  adminUsername: string;
  adminPasswordFromEnv: string | undefined;
  keycloakStartTimeoutMs: number;
  unusedClientSeconds: number;
  stackDir: string;
  cacheDir: string;
  javaHome: string | undefined;
  classDataSharing: boolean;
  /** Absolute path of the upstreams file given to the seed and the MCP server; undefined: none. */
  upstreamsFile: string | undefined;
  /** Public URLs: what browsers and MCP clients use, and what tokens carry. */
  keycloakUrl: string;
  issuer: string;
  mcpUrl: string;
  resourceMetadataUrl: string;
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    const message = issue?.message ?? 'invalid value';
    throw new SettingsError(message.includes(variable) ? message : `${variable}: ${message}`);
  }
  const e = parsed.data;
  const distinct = new Set([e.KC_PORT, e.KC_MANAGEMENT_PORT, e.MCP_PORT, e.MCP_METRICS_PORT, e.VALKEY_PORT]);
  if (distinct.size !== 5) {
    throw new SettingsError(
      'KC_PORT, KC_MANAGEMENT_PORT, MCP_PORT, MCP_METRICS_PORT and VALKEY_PORT must all differ',
    );
  }
  const keycloakUrl = `http://localhost:${e.KC_PORT}`;
  const mcpBase = `http://localhost:${e.MCP_PORT}`;
  return Object.freeze({
    keycloakVersion: e.KEYCLOAK_VERSION,
    keycloakUpgradeSource: UPGRADE_SOURCE_KEYCLOAK.test(e.KEYCLOAK_VERSION),
    ports: {
      keycloak: e.KC_PORT,
      keycloakManagement: e.KC_MANAGEMENT_PORT,
      mcp: e.MCP_PORT,
      mcpMetrics: e.MCP_METRICS_PORT,
      valkey: e.VALKEY_PORT,
    },
    realm: e.KEYCLOAK_REALM,
    adminUsername: e.KC_BOOTSTRAP_ADMIN_USERNAME,
    adminPasswordFromEnv: e.KC_BOOTSTRAP_ADMIN_PASSWORD,
    keycloakStartTimeoutMs: e.KC_START_TIMEOUT_SECONDS * 1000,
    unusedClientSeconds: e.DCR_UNUSED_CLIENT_SECONDS,
    stackDir: resolve(e.STACK_DIR),
    cacheDir: resolve(
      e.STACK_CACHE_DIR ?? join(e.XDG_CACHE_HOME ?? join(e.HOME, '.cache'), 'mcp-keycloak-stack'),
    ),
    javaHome: e.JAVA_HOME,
    classDataSharing: e.KEYCLOAK_CDS === 'on',
    upstreamsFile:
      e.MCP_UPSTREAMS_FILE === undefined
        ? DEFAULT_UPSTREAMS_FILE
        : e.MCP_UPSTREAMS_FILE.trim() === ''
          ? undefined
          : resolve(e.MCP_UPSTREAMS_FILE),
    keycloakUrl,
    issuer: `${keycloakUrl}/realms/${e.KEYCLOAK_REALM}`,
    mcpUrl: `${mcpBase}/mcp`,
    resourceMetadataUrl: `${mcpBase}/.well-known/oauth-protected-resource/mcp`,
  });
}
