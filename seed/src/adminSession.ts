import KcAdminClient from '@keycloak/keycloak-admin-client';
import { ADMIN_REFUSED_HINT, adminLogin, refusedGrant } from './adminLogin.ts';
import type { SeedConfig } from './config.ts';
import { SeedError } from './errors.ts';
import { describeFetchError } from './waitForKeycloak.ts';

/**
 * Logs in to the master realm with admin-cli; the client returned works on the target realm.
 *
 * Two clients, because the admin client refreshes its token against its *current* realm: one pointed at the
 * target realm sent master's refresh token there, which Keycloak refuses ("HTTP 400: invalid_grant") — so any
 * run longer than the 60 s lifespan of master's access tokens failed, e.g. the first compose `up` on a loaded
 * machine. The login client stays on master and hands its tokens, refreshed there, to the working one.
 */
export async function openAdminSession(config: SeedConfig): Promise<KcAdminClient> {
  const login = new KcAdminClient({ baseUrl: config.KEYCLOAK_URL, realmName: 'master' });
  try {
    await adminLogin(login, {
      username: config.KEYCLOAK_ADMIN_USERNAME,
      password: config.KEYCLOAK_ADMIN_PASSWORD,
    });
  } catch (error) {
    const status = httpStatusOf(error);
    if (refusedGrant(error)) {
      throw new SeedError(
        'admin_credentials_rejected',
        `Keycloak rejected the admin login for "${config.KEYCLOAK_ADMIN_USERNAME}" (HTTP ${status}): ` +
          `check KEYCLOAK_ADMIN_USERNAME and KEYCLOAK_ADMIN_PASSWORD: ${ADMIN_REFUSED_HINT}`,
      );
    }
    throw new SeedError(
      'keycloak_unreachable',
      `could not log in to Keycloak at ${config.KEYCLOAK_URL}: ${status ? `HTTP ${status}` : describeFetchError(error)}`,
    );
  }
  const admin = new KcAdminClient({ baseUrl: config.KEYCLOAK_URL, realmName: config.KEYCLOAK_REALM });
  admin.registerTokenProvider({ getAccessToken: () => login.getAccessToken() });
  return admin;
}

export function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { response?: { status?: unknown } }).response?.status;
  return typeof status === 'number' ? status : undefined;
}
