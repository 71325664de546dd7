// The bootstrap admin's password login (admin-cli at the master realm), retried briefly when refused.
//
// Why: with brute-force protection on (guardMasterRealm.ts), Keycloak 26 refuses a login of a user while another
// login of the same user is in flight — reported as `invalid_grant` (event `user_temporarily_disabled`), and gone a
// moment later. The seed, the janitor, the doctor and the tests all log in as the admin, sometimes at the same
// instant (CI runs failed on it). A real wrong password is refused every time, so it still fails, after at most
// three extra attempts (failures Keycloak counts towards the lockout, far below its 30).
import type KcAdminClient from '@keycloak/keycloak-admin-client';

export interface AdminCredentials {
  username: string;
  password: string;
}

const RETRY_DELAYS_MS = [250, 500, 1000];

export async function adminLogin(
  client: Pick<KcAdminClient, 'auth'>,
  credentials: AdminCredentials,
  delaysMs: readonly number[] = RETRY_DELAYS_MS,
): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await client.auth({ grantType: 'password', clientId: 'admin-cli', ...credentials });
      return;
    } catch (error) {
      const delay = delaysMs[attempt];
      if (delay === undefined || !refusedGrant(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** HTTP 400/401 from the token endpoint: a refused grant (wrong password, or a login already in flight). */
function refusedGrant(error: unknown): boolean {
  const status = (error as { response?: { status?: unknown } }).response?.status;
  return status === 400 || status === 401;
}
