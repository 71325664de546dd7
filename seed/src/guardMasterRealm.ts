// The master realm holds the bootstrap admin, and Keycloak creates it with brute-force protection off: its
// admin-cli password login on the public port could be guessed without limit. The seed turns protection on
// (idempotently, every run), with the same per-user settings as the mcp realm (realm-export/README.md).
import type KcAdminClient from '@keycloak/keycloak-admin-client';

export const MASTER_BRUTE_FORCE = {
  bruteForceProtected: true,
  permanentLockout: false,
  failureFactor: 30,
  waitIncrementSeconds: 60,
  maxFailureWaitSeconds: 900,
  maxDeltaTimeSeconds: 43200,
} as const;

/** Returns true when it had to change the realm. */
export async function guardMasterRealm(admin: KcAdminClient): Promise<boolean> {
  const master = await admin.realms.findOne({ realm: 'master' });
  if (!master) return false;
  const current = master as Record<string, unknown>;
  const drift = Object.entries(MASTER_BRUTE_FORCE).some(([key, value]) => current[key] !== value);
  if (!drift) return false;
  await admin.realms.update({ realm: 'master' }, { ...MASTER_BRUTE_FORCE });
  return true;
}
