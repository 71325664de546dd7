// The upstream identity provider (when SEED_BROKER_ISSUER is set): its discovery document, read from here; its verdict
// on the client credentials (a token request with a code that cannot be valid, broker/testUpstream.ts); then, with
// the admin API, Keycloak's own reach and the realm's provider (configured but never seeded, or seeded for another
// issuer, is a warning). A failure names the setting.
import { brokerRedirectUri } from '../../broker/settings.ts';
import { UPSTREAM_ONLY_BROWSER_FLOW } from '../../broker/identityProvider.ts';
import { testKeycloakReach, testUpstream, type BrokerProblem } from '../../broker/testUpstream.ts';
import { CheckFailed, defineCheck, Skip, Warning } from '../check.ts';
import { loggedInAdmin } from '../adminAccess.ts';

const failed = (problem: BrokerProblem) =>
  new CheckFailed(
    `${problem.settings[0]}: ${problem.message}`,
    `fix ${problem.settings.join(' or ')} (docs/broker.md), then run npm run seed`,
  );

export const broker = defineCheck({
  id: 'broker',
  needs: [],
  fallbackFix: 'check KEYCLOAK_URL, the admin credentials and the SEED_BROKER_* settings (docs/broker.md)',
  async run({ broker: settings, admin: access, issuer }) {
    if (!settings) throw new Skip('SEED_BROKER_ISSUER is not set');
    const upstream = await testUpstream(settings, brokerRedirectUri(issuer, settings.alias));
    if ('problem' in upstream) throw failed(upstream.problem);
    const credentials =
      upstream.credentials.verdict === 'accepted'
        ? `accepts client ${settings.clientId} (${settings.clientAuth})`
        : `could not check client ${settings.clientId}: ${upstream.credentials.reason}`;
    let detail = `${upstream.metadata.issuer} publishes its metadata and ${credentials}`;
    if (!access)
      throw new Warning(
        detail,
        "give the doctor the admin credentials (KEYCLOAK_ADMIN_USERNAME/PASSWORD) to check Keycloak's side",
      );
    const admin = await loggedInAdmin(access);
    const reach = await testKeycloakReach(admin, access.realm, settings);
    if (reach) throw failed(reach);
    detail += '; Keycloak reads it too';
    const provider = await admin.identityProviders.findOne({ realm: access.realm, alias: settings.alias });
    if (!provider) {
      throw new Warning(
        `${detail}, but realm "${access.realm}" has no identity provider "${settings.alias}"`,
        'run npm run seed with the same SEED_BROKER_* settings',
      );
    }
    if (
      provider.config?.issuer !== upstream.metadata.issuer ||
      provider.config?.clientId !== settings.clientId
    ) {
      throw new Warning(
        `${detail}, but identity provider "${settings.alias}" is set up for ${String(provider.config?.issuer)} ` +
          `(client ${String(provider.config?.clientId)})`,
        'run npm run seed with the same SEED_BROKER_* settings',
      );
    }
    if (upstream.credentials.verdict !== 'accepted') {
      throw new Warning(detail, 'log in once through the upstream to see that the client credentials work');
    }
    const bound = (await admin.realms.findOne({ realm: access.realm }))?.browserFlow;
    if (settings.only !== (bound === UPSTREAM_ONLY_BROWSER_FLOW)) {
      throw new Warning(
        `${detail}, but SEED_BROKER_ONLY=${settings.only} and the realm's browser flow is "${bound}"`,
        'run npm run seed with the same SEED_BROKER_* settings',
      );
    }
    return { detail: `${detail}; realm "${access.realm}" has identity provider "${settings.alias}"` };
  },
});
