// How each service of the native stack is started: the same processes docker-compose.yml runs as containers.
import { join } from 'node:path';
import { MALLOC_ENV, SEMI_SPACE_NODE_OPTION } from '@mcp-keycloak-stack/mcp-server/heapTuning';
import type { ChildSpec } from './managedChild.ts';
import { REPO_ROOT, stackPaths } from './paths.ts';
import type { StackSecrets } from './secrets.ts';
import type { Settings } from './settings.ts';
import { valkeyUrlWithPassword } from './valkeyConfig.ts';

export function valkeySpec(settings: Settings, server: string): ChildSpec {
  const paths = stackPaths(settings.stackDir);
  return {
    name: 'Valkey',
    command: server,
    // The config file (valkeyConfig.ts) holds the password and disables CONFIG. AOF on so per-user counts
    // survive a restart; RDB snapshots off (AOF alone is the durable copy).
    args: [
      paths.valkeyConfig,
      '--port',
      String(settings.ports.valkey),
      '--bind',
      '127.0.0.1',
      '--protected-mode',
      'yes',
      '--dir',
      paths.valkeyData,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--save',
      '',
      '--daemonize',
      'no',
    ],
    logFile: join(paths.logs, 'valkey.log'),
  };
}

export function keycloakSpec(
  settings: Settings,
  home: string,
  secrets: StackSecrets,
  javaHome: string | undefined,
  /** Extra JVM options (the class-data archive, classDataSharing.ts), before the user's own JAVA_OPTS_APPEND. */
  javaOptions: string[] = [],
): ChildSpec {
  const paths = stackPaths(settings.stackDir);
  const javaOptsAppend = [...javaOptions, process.env.JAVA_OPTS_APPEND ?? ''].join(' ').trim();
  const h2 = join(paths.keycloakData, 'h2', 'keycloakdb');
  return {
    name: 'Keycloak',
    command: join(home, 'bin', 'kc.sh'),
    args: [
      'start',
      '--optimized',
      '--http-enabled=true',
      '--http-host=127.0.0.1',
      `--http-port=${settings.ports.keycloak}`,
      `--http-management-port=${settings.ports.keycloakManagement}`,
      // One public issuer whatever address a request came in on (127.0.0.1 or localhost).
      `--hostname=${settings.keycloakUrl}`,
      '--import-realm',
      // One node: no cluster transport (JGroups 7800/57800) on the machine's interfaces, no discovery of
      // stale nodes. In 26.7 --cache is a run-time option: the build's --cache=local alone does not do it.
      '--cache=local',
      // The database lives with this stack, not in the shared cached dist.
      `--db-url=jdbc:h2:file:${h2};NON_KEYWORDS=VALUE`,
    ],
    env: {
      ...process.env,
      ...(javaHome ? { JAVA_HOME: javaHome } : {}),
      KC_BOOTSTRAP_ADMIN_USERNAME: secrets.keycloakAdminUsername,
      KC_BOOTSTRAP_ADMIN_PASSWORD: secrets.keycloakAdminPassword,
      // Read by the ${MCP_RESOURCE_URL:…} placeholder in realm-export/ at import.
      MCP_RESOURCE_URL: settings.mcpUrl,
      JAVA_OPTS_KC_HEAP: process.env.JAVA_OPTS_KC_HEAP ?? '-Xms64m -Xmx768m',
      ...(javaOptsAppend && { JAVA_OPTS_APPEND: javaOptsAppend }),
    },
    cwd: home,
    logFile: join(paths.logs, 'keycloak.log'),
  };
}

export function seedSpec(settings: Settings, secrets: StackSecrets): ChildSpec {
  const paths = stackPaths(settings.stackDir);
  return {
    name: 'seed',
    command: process.execPath,
    args: ['--import', 'tsx', join(REPO_ROOT, 'seed', 'src', 'main.ts')],
    env: {
      ...process.env,
      KEYCLOAK_URL: `http://127.0.0.1:${settings.ports.keycloak}`,
      KEYCLOAK_REALM: settings.realm,
      KEYCLOAK_ADMIN_USERNAME: secrets.keycloakAdminUsername,
      KEYCLOAK_ADMIN_PASSWORD: secrets.keycloakAdminPassword,
      STACK_CARD_PATH: paths.card,
      // Empty when there is none, so that one set in the launcher's environment cannot slip through.
      MCP_UPSTREAMS_FILE: settings.upstreamsFile ?? '',
    },
    cwd: REPO_ROOT,
    logFile: join(paths.logs, 'seed.log'),
  };
}

/** Deletes self-registered clients unused for a day, every 10 minutes (seed/src/janitor/). */
export function janitorSpec(settings: Settings, secrets: StackSecrets): ChildSpec {
  const seed = seedSpec(settings, secrets);
  const paths = stackPaths(settings.stackDir);
  return {
    ...seed,
    name: 'client janitor',
    args: [
      ...seed.args,
      'prune-clients',
      '--every',
      '600',
      '--unused-for',
      String(settings.unusedClientSeconds),
    ],
    logFile: join(paths.logs, 'janitor.log'),
  };
}

/** `gateway`: the token-exchange client the seed made (stack card `gateway`), when an upstream needs one. */
export function mcpServerEnv(
  settings: Settings,
  secrets: StackSecrets,
  gateway?: { clientId: string; clientSecret: string },
): NodeJS.ProcessEnv {
  return {
    MCP_HOST: '127.0.0.1',
    MCP_PORT: String(settings.ports.mcp),
    MCP_RESOURCE_URL: settings.mcpUrl,
    OIDC_ISSUER: settings.issuer,
    // Fetched over loopback while tokens keep the public issuer (docs/ARCHITECTURE.md, "One public issuer").
    OIDC_JWKS_URL: `http://127.0.0.1:${settings.ports.keycloak}/realms/${settings.realm}/protocol/openid-connect/certs`,
    VALKEY_URL: valkeyUrlWithPassword(settings.ports.valkey, secrets.valkeyPassword),
    MCP_METRICS_PORT: String(settings.ports.mcpMetrics),
    MCP_METRICS_HOST: '127.0.0.1',
    MCP_UPSTREAMS_FILE: settings.upstreamsFile ?? '',
    ...(gateway && {
      MCP_GATEWAY_CLIENT_ID: gateway.clientId,
      MCP_GATEWAY_CLIENT_SECRET: gateway.clientSecret,
    }),
  };
}

export function mcpServerSpec(
  settings: Settings,
  secrets: StackSecrets,
  gateway?: { clientId: string; clientSecret: string },
): ChildSpec {
  const paths = stackPaths(settings.stackDir);
  return {
    name: 'MCP server',
    command: process.execPath,
    args: [SEMI_SPACE_NODE_OPTION, '--import', 'tsx', join(REPO_ROOT, 'mcp-server', 'src', 'main.ts')],
    env: { ...process.env, ...MALLOC_ENV, ...mcpServerEnv(settings, secrets, gateway) },
    // The upstreams file's stdio commands name node_modules/… relative to the repository root.
    cwd: REPO_ROOT,
    logFile: join(paths.logs, 'mcp-server.log'),
  };
}
