import KcAdminClient from '@keycloak/keycloak-admin-client';
import type { SeedConfig } from './config.ts';
import { SeedError } from './errors.ts';
import { describeFetchError } from './waitForKeycloak.ts';

/** Logs in to the master realm with admin-cli, then points the client at the target realm. */
export async function openAdminSession(config: SeedConfig): Promise<KcAdminClient> {
  const admin = new KcAdminClient({ baseUrl: config.KEYCLOAK_URL, realmName: 'master' });
  try {
    await admin.auth({
      grantType: 'password',
      clientId: 'admin-cli',
      username: config.KEYCLOAK_ADMIN_USERNAME,
      password: config.KEYCLOAK_ADMIN_PASSWORD,
    });
  } catch (error) {
    const status = httpStatusOf(error);
    if (status === 401 || status === 400) {
      throw new SeedError(
        'admin_credentials_rejected',
        `Keycloak rejected the admin login for "${config.KEYCLOAK_ADMIN_USERNAME}" (HTTP ${status}): ` +
          'check KEYCLOAK_ADMIN_USERNAME and KEYCLOAK_ADMIN_PASSWORD',
      );
    }
    throw new SeedError(
      'keycloak_unreachable',
      `could not log in to Keycloak at ${config.KEYCLOAK_URL}: ${status ? `HTTP ${status}` : describeFetchError(error)}`,
    );
  }
  admin.setConfig({ realmName: config.KEYCLOAK_REALM });
  return admin;
}

export function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { response?: { status?: unknown } }).response?.status;
  return typeof status === 'number' ? status : undefined;
}
