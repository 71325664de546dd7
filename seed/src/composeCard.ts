// Compose mode (STACK_MODE=compose): no launcher runs on the host, so the seed container writes the base stack
// card itself — with the URLs a person or a test on the host uses (published ports), not the internal names the
// containers use — plus secrets.json beside it (the bootstrap admin, which the end-to-end suite reads).
// Demo users and clients of an earlier card are kept, so a re-run keeps their passwords.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SeedError } from './errors.ts';
import { readStackCard, writeStackCard, type StackCard } from './stackCard.ts';
import { cardUpstreams, resourceMetadataUrlOf, type UpstreamRef } from './upstreams/cardUpstreams.ts';
import { readUpstreams } from './upstreams/readUpstreams.ts';

const trim = (url: string) => url.replace(/\/+$/, '');

function publicUrl(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value || !URL.canParse(value) || !/^(https?|redis|rediss):$/.test(new URL(value).protocol)) {
    throw new SeedError(
      'config_invalid',
      // Not echoed: STACK_PUBLIC_VALKEY_URL carries the Valkey password.
      `${name} must be an absolute http(s) or redis(s) URL reachable from the host`,
    );
  }
  return trim(value);
}

/**
 * Builds the compose card from the STACK_PUBLIC_* variables docker-compose.yml passes to the seed; `upstreams`:
 * those of MCP_UPSTREAMS_FILE (the mounted compose/gateway/upstreams.yaml).
 */
export function composeCard(
  env: NodeJS.ProcessEnv,
  previous: StackCard | undefined,
  upstreams: readonly UpstreamRef[] = [],
): StackCard {
  const realm = env.KEYCLOAK_REALM || 'mcp';
  const keycloakUrl = publicUrl(env, 'STACK_PUBLIC_KEYCLOAK_URL');
  const mcpUrl = publicUrl(env, 'STACK_PUBLIC_MCP_URL');
  const mcp = new URL(mcpUrl);
  return {
    version: 1,
    mode: 'compose',
    status: 'starting',
    issuer: `${keycloakUrl}/realms/${realm}`,
    keycloakUrl,
    keycloakManagementUrl: publicUrl(env, 'STACK_PUBLIC_KEYCLOAK_MANAGEMENT_URL'),
    // Only the production profile has one: its public port serves neither /admin nor the master realm.
    ...(env.STACK_PUBLIC_KEYCLOAK_ADMIN_URL && {
      keycloakAdminUrl: publicUrl(env, 'STACK_PUBLIC_KEYCLOAK_ADMIN_URL'),
    }),
    realm,
    jwksUrl: `${keycloakUrl}/realms/${realm}/protocol/openid-connect/certs`,
    mcpUrl,
    mcpHealthUrl: `${mcp.origin}/healthz`,
    resourceMetadataUrl: resourceMetadataUrlOf(mcpUrl),
    upstreams: cardUpstreams(mcpUrl, upstreams),
    valkeyUrl: publicUrl(env, 'STACK_PUBLIC_VALKEY_URL'),
    users: previous?.users ?? [],
    clients: previous?.clients ?? {},
    startedAt: new Date().toISOString(),
  };
}

/** No-op unless STACK_MODE=compose. */
export async function writeComposeCard(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (env.STACK_MODE !== 'compose') return;
  const cardPath = env.STACK_CARD_PATH || '.stack/stack.json';
  const previous = await readStackCard(cardPath).catch(() => undefined);
  const upstreams = readUpstreams(env.MCP_UPSTREAMS_FILE?.trim() || undefined, env);
  await writeStackCard(cardPath, composeCard(env, previous, upstreams));
  const secretsPath = join(dirname(cardPath), 'secrets.json');
  const existing = await readFile(secretsPath, 'utf8').catch(() => undefined);
  const secrets = {
    keycloakAdminUsername: env.KEYCLOAK_ADMIN_USERNAME || 'admin',
    keycloakAdminPassword: env.KEYCLOAK_ADMIN_PASSWORD ?? '',
  };
  if (existing !== `${JSON.stringify(secrets, null, 2)}\n`) {
    await mkdir(dirname(secretsPath), { recursive: true, mode: 0o700 });
    await writeFile(secretsPath, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  }
}
