// Users, roles and clients in the realm imported from realm-export/, then the upstreams' scopes (MCP_UPSTREAMS_FILE,
// upstreams/seedUpstreams.ts); results merged into the stack card. Idempotent: a re-run converges to the same
// state and the same passwords (taken from the card it wrote).
import type { SeedConfig } from './config.ts';
import { openAdminSession } from './adminSession.ts';
import { ADMIN_ROLE, ADMIN_SCOPE } from './contracts.ts';
import { checkRealm, ensureAdminScopeRoles, ensureRealmRole } from './ensureRealm.ts';
import { guardMasterRealm, pinMasterFrontend } from './guardMasterRealm.ts';
import { ensureBroker } from './broker/ensureBroker.ts';
import {
  CIMD_POLICY as CIMD_POLICY_NAME,
  ensureCimdPolicy,
  relayRedirectUris,
} from './cimd/ensureCimdPolicy.ts';
import { cimdSettings } from './cimd/settings.ts';
import { ensureLdap } from './ldap/ensureLdap.ts';
import { ensureUsers, type DemoUserSpec } from './ensureUsers.ts';
import { ensureM2mClient } from './clients/ensureM2mClient.ts';
import { ensurePublicClient } from './clients/ensurePublicClient.ts';
import { CONSOLE_CLIENT_ID, consoleClient, hostPreset, type PresetOptions } from './clients/presets.ts';
import { SeedError } from './errors.ts';
import { generateSecret } from './passwords.ts';
import { readStackCard, updateStackCard, type StackCard } from './stackCard.ts';
import { readUpstreams } from './upstreams/readUpstreams.ts';
import { seedUpstreams } from './upstreams/seedUpstreams.ts';
import { waitForKeycloak } from './waitForKeycloak.ts';

export async function seed(
  config: SeedConfig,
  say: (line: string) => void,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<StackCard> {
  const card = await readStackCard(config.STACK_CARD_PATH);
  if (!card) {
    throw new SeedError(
      'config_invalid',
      `no stack card at ${config.STACK_CARD_PATH}: the launcher writes it before the seed runs (STACK_CARD_PATH)`,
    );
  }
  // Read before Keycloak is touched: a broken file fails the seed with nothing half-done.
  const upstreams = readUpstreams(config.MCP_UPSTREAMS_FILE, env);
  await waitForKeycloak(config.KEYCLOAK_URL, config.SEED_WAIT_SECONDS, say);
  const admin = await openAdminSession(config);
  const scopeIds = await checkRealm(admin, config.KEYCLOAK_REALM);
  if (await guardMasterRealm(admin))
    say('master realm: brute-force protection turned on (the bootstrap admin)');
  const adminRole = await ensureRealmRole(admin, ADMIN_ROLE);
  const adminScopeId = scopeIds.get(ADMIN_SCOPE);
  if (adminScopeId && (await ensureAdminScopeRoles(admin, adminScopeId)))
    say(`client scope ${ADMIN_SCOPE}: realm-role mapper added (tokens of hosts that register with a scope)`);
  await ensureLdap(admin, config, adminRole, say);
  await ensureBroker(admin, config, card.issuer, adminRole, say);

  const previous = (username: string) => card.users.find((u) => u.username === username)?.password;
  const specs: DemoUserSpec[] = [
    {
      username: 'alice',
      firstName: 'Alice',
      roles: [ADMIN_ROLE],
      password: config.SEED_ALICE_PASSWORD ?? previous('alice') ?? generateSecret(),
    },
    {
      username: 'bob',
      firstName: 'Bob',
      roles: [],
      password: config.SEED_BOB_PASSWORD ?? previous('bob') ?? generateSecret(),
    },
  ];
  const { users, created } = await ensureUsers(admin, specs, new Map([[ADMIN_ROLE, adminRole]]));
  say(
    `users: ${users.map((u) => `${u.username}${u.roles.length ? ` (${u.roles.join(', ')})` : ''}`).join(', ')}` +
      (created.length ? ` — created ${created.join(', ')}` : ' — already present, converged'),
  );
  const m2m = await ensureM2mClient(admin, config.SEED_M2M_CLIENT_ID, scopeIds);
  say(
    `confidential client ${m2m.clientId} (client_credentials; mcp:tools optional)${m2m.created ? ' — created' : ''}`,
  );

  const consoleSpec = consoleClient(config.SEED_MCP_URL ?? card.mcpUrl);
  const consoleResult = await ensurePublicClient(admin, consoleSpec, scopeIds);
  say(
    `public client ${consoleResult.clientId} (browser console, ${consoleSpec.redirectUris[0]})` +
      (consoleResult.created ? ' — created' : ''),
  );
  const presets: Record<string, { clientId: string; redirectUris: string[] }> = {};
  const createdPresets: string[] = [];
  for (const name of config.SEED_PRESETS) {
    const spec = hostPreset(name, presetOptions(config));
    const result = await ensurePublicClient(admin, spec, scopeIds);
    if (result.created) createdPresets.push(spec.clientId);
    presets[name] = { clientId: spec.clientId, redirectUris: spec.redirectUris };
  }
  if (config.SEED_PRESETS.length > 0) {
    say(
      `host presets: ${Object.values(presets)
        .map((p) => p.clientId)
        .join(', ')}${createdPresets.length ? ` — created ${createdPresets.join(', ')}` : ''}`,
    );
  }

  const cimd = cimdSettings(config, await relayRedirectUris(admin));
  const cimdOutcome = await ensureCimdPolicy(admin, cimd);
  say(
    cimdOutcome === 'unsupported'
      ? 'client ID metadata documents: this Keycloak has no cimd feature or no mcp-cimd-client executor — skipped'
      : `client ID metadata documents: ${
          cimd.documentHosts.length ? `fetched from ${cimd.documentHosts.join(', ')}` : 'off (none trusted)'
        } (policy ${CIMD_POLICY_NAME}${cimdOutcome === 'written' ? ', written' : ''})`,
  );

  const upstreamResult = await seedUpstreams(
    admin,
    {
      upstreams,
      builtinUrl: card.mcpUrl,
      publicClients: publicClientIds(config),
      m2mClientId: config.SEED_M2M_CLIENT_ID,
    },
    say,
  );

  if (!config.MCP_UPSTREAMS_FILE) say('upstreams: MCP_UPSTREAMS_FILE is not set: none seeded');

  // Last Keycloak call of the run (it ends this session's tokens): the production profile's public port serves no
  // master realm, so the admin console logs in on the admin listener.
  if (card.keycloakAdminUrl && (await pinMasterFrontend(admin, card.keycloakAdminUrl)))
    say(`master realm: served at ${card.keycloakAdminUrl} (the admin listener; not on the public port)`);

  return updateStackCard(config.STACK_CARD_PATH, (current) => ({
    ...current,
    // Without a file the card's list stays as its writer (launcher, compose) made it: a by-hand run that was not
    // given the file must not make the card deny upstreams the running server has.
    ...(config.MCP_UPSTREAMS_FILE && { upstreams: upstreamResult.upstreams }),
    ...(upstreamResult.gateway && { gateway: upstreamResult.gateway }),
    users,
    clients: {
      ...current.clients,
      m2m: { clientId: m2m.clientId, clientSecret: m2m.clientSecret },
      console: { clientId: consoleResult.clientId },
      presets,
    },
  }));
}

export function presetOptions(config: SeedConfig): PresetOptions {
  return {
    librechatUrl: config.SEED_LIBRECHAT_URL,
    librechatServerName: config.SEED_LIBRECHAT_SERVER_NAME,
    mcpRemotePort: config.SEED_MCP_REMOTE_PORT,
  };
}

/** The public clients the seed manages (console, host presets): each may ask for every upstream scope. */
export function publicClientIds(config: SeedConfig): string[] {
  return [
    CONSOLE_CLIENT_ID,
    ...config.SEED_PRESETS.map((n) => hostPreset(n, presetOptions(config)).clientId),
  ];
}
