// Asks Keycloak itself to reach the directory (POST /admin/realms/{realm}/testLDAPConnection): first the
// connection (SEED_LDAP_URL, and the CA in Keycloak's truststore for ldaps:// or StartTLS), then the bind
// (SEED_LDAP_BIND_DN and the password of SEED_LDAP_BIND_PASSWORD_FILE). Keycloak is what will connect, from where
// it runs, with its truststore: a test from this machine would prove nothing about that.
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { httpStatusOf } from '../adminSession.ts';
import type { LdapSettings } from './settings.ts';

export type LdapProblem = {
  /** The settings to look at, the first the most likely. */
  settings: string[];
  message: string;
};

/** Undefined when Keycloak connects and binds; otherwise what failed, naming the settings. */
export async function testLdap(
  admin: KcAdminClient,
  realm: string,
  settings: LdapSettings,
): Promise<LdapProblem | undefined> {
  const payload = {
    connectionUrl: settings.url,
    bindDn: settings.bindDn,
    bindCredential: settings.bindPassword,
    useTruststoreSpi: 'always',
    connectionTimeout: '5000',
    startTls: String(settings.startTls),
    authType: 'simple',
  };
  const tls = settings.url.startsWith('ldaps:') || settings.startTls;
  const connection = await attempt(admin, realm, { ...payload, action: 'testConnection' });
  if (connection !== undefined) {
    return {
      settings: tls ? ['SEED_LDAP_URL', 'SEED_LDAP_START_TLS', 'KC_TRUSTSTORE_PATHS'] : ['SEED_LDAP_URL'],
      message:
        `Keycloak could not connect to ${settings.url}${settings.startTls ? ' with StartTLS' : ''}` +
        ` (${connection}): check SEED_LDAP_URL (host, port, ldap:// or ldaps://)` +
        (tls
          ? ", SEED_LDAP_START_TLS, and that the CA of the directory is in Keycloak's truststore (KC_TRUSTSTORE_PATHS)"
          : '') +
        ', and that Keycloak can reach the directory from where it runs',
    };
  }
  const bind = await attempt(admin, realm, { ...payload, action: 'testAuthentication' });
  if (bind !== undefined) {
    return {
      settings: ['SEED_LDAP_BIND_DN', 'SEED_LDAP_BIND_PASSWORD_FILE'],
      message:
        `the directory at ${settings.url} refused the bind as "${settings.bindDn}" (${bind}): check ` +
        'SEED_LDAP_BIND_DN and the password in SEED_LDAP_BIND_PASSWORD_FILE',
    };
  }
  return undefined;
}

/** Undefined on success; Keycloak's reason otherwise (its error text, or the HTTP status). */
async function attempt(
  admin: KcAdminClient,
  realm: string,
  payload: Record<string, string>,
): Promise<string | undefined> {
  try {
    await admin.realms.testLDAPConnection({ realm }, payload);
    return undefined;
  } catch (error) {
    const status = httpStatusOf(error);
    if (status === undefined || status >= 500 || status === 401 || status === 403) throw error;
    const data = (error as { responseData?: unknown }).responseData;
    const reason =
      typeof data === 'object' && data !== null
        ? ((data as Record<string, unknown>).errorMessage ?? (data as Record<string, unknown>).error)
        : undefined;
    return typeof reason === 'string' && reason !== '' ? `Keycloak says: ${reason}` : `HTTP ${status}`;
  }
}
