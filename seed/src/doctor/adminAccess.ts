// The admin API for the doctor's checks: logged in on master, working on the target realm. A refused login becomes
// a failed check that names both causes Keycloak cannot tell apart — a wrong password, or an admin locked out by
// someone's failed logins — instead of a bare "invalid_grant".
import KcAdminClient from '@keycloak/keycloak-admin-client';
import { ADMIN_REFUSED_HINT, adminLogin, refusedGrant } from '../adminLogin.ts';
import { httpStatusOf } from '../adminSession.ts';
import { CheckFailed } from './check.ts';

export interface AdminAccess {
  keycloakUrl: string;
  realm: string;
  username: string;
  password: string;
}

export async function loggedInAdmin(access: AdminAccess): Promise<KcAdminClient> {
  const admin = new KcAdminClient({ baseUrl: access.keycloakUrl, realmName: 'master' });
  try {
    await adminLogin(admin, { username: access.username, password: access.password });
  } catch (error) {
    if (!refusedGrant(error)) throw error;
    throw new CheckFailed(
      `Keycloak refused the admin login for "${access.username}" (HTTP ${httpStatusOf(error)})`,
      `check KEYCLOAK_ADMIN_USERNAME and KEYCLOAK_ADMIN_PASSWORD: ${ADMIN_REFUSED_HINT}`,
    );
  }
  admin.setConfig({ realmName: access.realm });
  return admin;
}
