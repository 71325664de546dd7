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
  // Off, as in the mcp realm: left at Keycloak's default (1 s), two quick wrong guesses by anyone locked the
  // admin out for a minute, and a CI run once found the admin locked with no failure on record.
  quickLoginCheckMilliSeconds: 0,
  minimumQuickLoginWaitSeconds: 60,
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

/**
 * Where the master realm is served when the public port does not serve it — the production profile's loopback
 * admin listener, the card's keycloakAdminUrl — becomes its frontend URL, so that the admin console, served there,
 * also logs in there. Returns true when it changed it. Call it last: the tokens issued before name the old URL as
 * their issuer, and Keycloak no longer accepts them.
 */
export async function pinMasterFrontend(admin: KcAdminClient, url: string): Promise<boolean> {
  const master = await admin.realms.findOne({ realm: 'master' });
  if (!master || master.attributes?.frontendUrl === url) return false;
  await admin.realms.update({ realm: 'master' }, { attributes: { ...master.attributes, frontendUrl: url } });
  return true;
}
