// The seed's upstream step: when SEED_BROKER_ISSUER is set, the upstream is tested first — its discovery document,
// its verdict on the client credentials, Keycloak's own reach (testUpstream.ts) — and a failure names the setting
// and changes nothing. Then the first-login flow, the OpenID Connect identity provider, the claim → mcp-admin
// mapper and the browser flow binding (SEED_BROKER_ONLY) are created or converged. Idempotent: found again by alias
// and name, updated in place. Unset: nothing is created and nothing is removed.
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { httpStatusOf } from '../adminSession.ts';
import { SeedError } from '../errors.ts';
import { ensureBrowserBinding, ensureFirstLoginFlow } from './flows.ts';
import { ADMIN_MAPPER_NAME, adminRoleMapper, identityProvider } from './identityProvider.ts';
import { brokerRedirectUri, brokerSettings, type BrokerFields, type BrokerSettings } from './settings.ts';
import { testKeycloakReach, testUpstream } from './testUpstream.ts';

export async function ensureBroker(
  admin: KcAdminClient,
  config: BrokerFields & { KEYCLOAK_REALM: string },
  /** The realm's public issuer (the stack card's): the redirect URI the upstream must know is built from it. */
  realmIssuer: string,
  adminRole: { name: string },
  say: (line: string) => void,
): Promise<void> {
  const settings = brokerSettings(config);
  const realm = config.KEYCLOAK_REALM;
  if (!settings) {
    const left = await admin.identityProviders.findOne({ realm, alias: config.SEED_BROKER_ALIAS });
    say(
      left
        ? `upstream identity provider: SEED_BROKER_ISSUER is not set; "${config.SEED_BROKER_ALIAS}" is left as it is`
        : 'upstream identity provider: SEED_BROKER_ISSUER is not set: none',
    );
    return;
  }
  const redirectUri = brokerRedirectUri(realmIssuer, settings.alias);
  const upstream = await testUpstream(settings, redirectUri);
  if ('problem' in upstream) throw new SeedError(upstream.problem.code, upstream.problem.message);
  const reach = await testKeycloakReach(admin, realm, settings);
  if (reach) throw new SeedError(reach.code, reach.message);

  const flowCreated = await ensureFirstLoginFlow(admin);
  const wanted = identityProvider(settings, upstream.metadata);
  const existing = await admin.identityProviders.findOne({ realm, alias: settings.alias });
  if (existing && existing.providerId !== 'oidc') {
    throw new SeedError(
      'config_invalid',
      `SEED_BROKER_ALIAS: the realm already has an identity provider "${settings.alias}" of type ` +
        `${existing.providerId}: choose another alias`,
    );
  }
  try {
    if (existing) {
      await admin.identityProviders.update(
        { realm, alias: settings.alias },
        { ...wanted, internalId: existing.internalId },
      );
    } else {
      await admin.identityProviders.create({ realm, ...wanted });
    }
  } catch (error) {
    throw refusal(error, settings);
  }
  const mapper = await ensureAdminMapper(admin, realm, settings, adminRole.name);
  const login = await ensureBrowserBinding(admin, realm, settings.only, settings.alias);

  say(
    `upstream identity provider "${settings.alias}": ${upstream.metadata.issuer} (client ${settings.clientId}, ` +
      `${settings.clientAuth}${upstream.metadata.pkceS256 ? ', PKCE S256' : ''}, sync ${settings.syncMode}), ` +
      (settings.required
        ? `only ${settings.required.claim} ~ /${settings.required.pattern}/ may log in, `
        : '') +
      `${mapper}, ${login} — ${existing ? 'converged' : 'created'}` +
      (flowCreated ? ` (first-login flow created)` : ''),
  );
  say(`upstream identity provider: the redirect URI registered at the upstream must be ${redirectUri}`);
  if (upstream.credentials.verdict === 'unchecked') {
    say(
      `upstream identity provider: the client credentials could not be checked (${upstream.credentials.reason}); ` +
        'the first login will tell',
    );
  }
}

/** The claim → mcp-admin mapper (or none, removed); what it maps, in words. */
async function ensureAdminMapper(
  admin: KcAdminClient,
  realm: string,
  settings: BrokerSettings,
  role: string,
): Promise<string> {
  const mappers = await admin.identityProviders.findMappers({ realm, alias: settings.alias });
  const existing = mappers.find((m) => m.name === ADMIN_MAPPER_NAME);
  const wanted = adminRoleMapper(settings, role);
  if (!wanted) {
    if (existing?.id)
      await admin.identityProviders.delMapper({ realm, alias: settings.alias, id: existing.id });
    return `nobody gets ${role} from it`;
  }
  if (existing?.id) {
    await admin.identityProviders.updateMapper(
      { realm, alias: settings.alias, id: existing.id },
      { ...wanted, id: existing.id },
    );
  } else {
    await admin.identityProviders.createMapper({
      realm,
      alias: settings.alias,
      identityProviderMapper: wanted,
    });
  }
  return `${settings.admin?.claim} = ${settings.admin?.value} → ${role}`;
}

/** Keycloak's refusal of the provider, as a SeedError naming the setting where one is to blame. */
function refusal(error: unknown, settings: BrokerSettings): unknown {
  const status = httpStatusOf(error);
  const data = (error as { responseData?: unknown }).responseData;
  const said =
    typeof data === 'object' && data !== null
      ? String(
          (data as Record<string, unknown>).errorMessage ?? (data as Record<string, unknown>).error ?? '',
        )
      : '';
  if (status === 409) {
    return new SeedError(
      'config_invalid',
      `SEED_BROKER_DISPLAY_NAME: Keycloak refused the provider (${said || 'conflict'}): another identity provider ` +
        `of the realm is already called "${settings.displayName}"`,
    );
  }
  if (status === 400) {
    return new SeedError('broker_rejected', `Keycloak refused the identity provider: ${said || 'HTTP 400'}`);
  }
  return error;
}
