// The corporate directory (when SEED_LDAP_URL is set): Keycloak is asked to connect to it and to bind with the
// configured account, the way the seed does first (ldap/testConnection.ts); a failure names the setting. Needs the
// admin API; the realm's provider is looked for too (a directory configured but never seeded is a warning).
import { PROVIDER_NAME, USER_STORAGE_TYPE } from '../../ldap/components.ts';
import { testLdap } from '../../ldap/testConnection.ts';
import { CheckFailed, defineCheck, Skip, Warning } from '../check.ts';
import { loggedInAdmin } from '../adminAccess.ts';

export const ldap = defineCheck({
  id: 'ldap',
  needs: [],
  fallbackFix: 'check KEYCLOAK_URL, the admin credentials and the SEED_LDAP_* settings (docs/directory.md)',
  async run({ admin: access, ldap: settings }) {
    if (!settings) throw new Skip('SEED_LDAP_URL is not set');
    if (!access) throw new Skip('no admin credentials (KEYCLOAK_ADMIN_USERNAME/PASSWORD)');
    const admin = await loggedInAdmin(access);
    const problem = await testLdap(admin, access.realm, settings);
    if (problem) {
      throw new CheckFailed(
        `${problem.settings[0]}: ${problem.message}`,
        `fix ${problem.settings.join(' or ')} (docs/directory.md), then run npm run seed`,
      );
    }
    const detail = `Keycloak connects to ${settings.url} and binds as ${settings.bindDn}`;
    const realmId = (await admin.realms.findOne({ realm: access.realm }))?.id;
    const providers = await admin.components.find({ type: USER_STORAGE_TYPE, name: PROVIDER_NAME });
    if (!providers.some((p) => p.providerId === 'ldap' && p.parentId === realmId)) {
      throw new Warning(
        `${detail}, but realm "${access.realm}" has no "${PROVIDER_NAME}" LDAP provider`,
        'run npm run seed with the same SEED_LDAP_* settings',
      );
    }
    return { detail };
  },
});
