// The bootstrap admin's password login (admin-cli at the master realm): one login at a time per machine, and one
// retry when refused.
//
// Why: with brute-force protection on (guardMasterRealm.ts), Keycloak 26 refuses a login of a user while another
// login of the same user is in flight — reported as `invalid_grant` (event `user_temporarily_disabled`), not counted
// as a failure, gone a moment later. The seed, the janitor, the doctor and the test suites all log in as the admin,
// sometimes at the same instant (CI runs failed on it). So the processes of one machine take turns (a lock file per
// Keycloak and user in the temp dir), and a refusal is retried once, for a login from elsewhere (a container).
// Every retry of a wrong password is a failure Keycloak counts: three retries made a typo cost four, and eight runs
// of a tool with a typo locked the admin out (attack run); now it costs two.
import { createHash } from 'node:crypto';
import { open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type KcAdminClient from '@keycloak/keycloak-admin-client';

export interface AdminCredentials {
  username: string;
  password: string;
}

/**
 * What to tell a person when the admin login is refused: Keycloak answers a wrong password and a locked admin alike
 * (`invalid_grant`), and anyone who can reach the token endpoint can lock the admin with 30 wrong guesses.
 */
export const ADMIN_REFUSED_HINT =
  'the password is wrong, or the admin is locked for a while after 30 failed logins by anyone (brute-force ' +
  'protection; Keycloak answers both alike): a lock lifts by itself after 1–15 min, or at once when Keycloak ' +
  'restarts (docs/operations.md, "The admin is locked out")';

export interface AdminLoginOptions {
  /** Pause before each retry of a refused login. */
  retryDelaysMs?: readonly number[];
  /** Where the per-machine turn is taken (a lock file); the system temp dir by default. */
  lockDir?: string;
}

const RETRY_DELAYS_MS = [500];
// A turn is held for one login (≈ 0.1 s); a lock file older than this was left by a process that died.
const STALE_LOCK_MS = 15_000;
const MAX_WAIT_MS = 30_000;

export async function adminLogin(
  client: Pick<KcAdminClient, 'auth' | 'baseUrl'>,
  credentials: AdminCredentials,
  options: AdminLoginOptions = {},
): Promise<void> {
  const delays = options.retryDelaysMs ?? RETRY_DELAYS_MS;
  for (const delay of [...delays, undefined]) {
    const release = await takeTurn(
      turnLockPath(options.lockDir ?? tmpdir(), client.baseUrl, credentials.username),
    );
    try {
      await client.auth({ grantType: 'password', clientId: 'admin-cli', ...credentials });
      return;
    } catch (error) {
      if (delay === undefined || !refusedGrant(error)) throw error;
    } finally {
      await release();
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/** The lock file of one Keycloak and admin user (hashed: the temp dir is shared, the URL need not show there). */
export function turnLockPath(dir: string, baseUrl: string, username: string): string {
  const name = createHash('sha256').update(`${baseUrl}\n${username}`).digest('hex').slice(0, 16);
  return join(dir, `mcp-keycloak-stack-admin-login-${name}.lock`);
}

/**
 * Waits for this machine's turn to log in as this user at this Keycloak; returns its release. Never fails: when the
 * temp dir cannot hold a lock file, or the wait runs out, the login goes ahead without a turn (and may be refused).
 */
async function takeTurn(path: string): Promise<() => Promise<void>> {
  const deadline = Date.now() + MAX_WAIT_MS;
  for (;;) {
    try {
      await (await open(path, 'wx', 0o600)).close();
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || Date.now() > deadline) return async () => {};
    }
    const since = await stat(path).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (since > STALE_LOCK_MS) await rm(path, { force: true });
    else await new Promise((resolve) => setTimeout(resolve, 25 + Math.random() * 50));
  }
}

/** HTTP 400/401 from the token endpoint: a refused grant (wrong password, locked, or a login already in flight). */
export function refusedGrant(error: unknown): boolean {
  const status = (error as { response?: { status?: unknown } }).response?.status;
  return status === 400 || status === 401;
}
