// Self-registered clients that nobody uses any more are deleted, so anonymous registrations cannot pile up
// to the realm's max-clients and lock real MCP hosts out. Which clients: those the registration policy
// stamped with `mcp.registered-at` (only anonymous DCR gets it; presets, the console and the M2M client never
// do), registered at least `unusedForSeconds` ago, with no user session and no offline session now — so no
// refresh token of theirs still works, and a host that comes back simply registers again.
import type KcAdminClient from '@keycloak/keycloak-admin-client';

/** Written by the registration policy (keycloak-extensions/mcp-registration-policy) after each registration. */
export const REGISTERED_AT_ATTRIBUTE = 'mcp.registered-at';

export interface PruneResult {
  /** clientIds deleted. */
  deleted: string[];
  /** Self-registered clients kept (younger, or still in use). */
  kept: number;
  /** Every client of the realm, self-registered or not, after the run (compare with max-clients). */
  remaining: number;
}

const PAGE = 100;

export async function pruneUnusedClients(
  admin: KcAdminClient,
  options: { unusedForSeconds: number; nowSeconds?: number },
): Promise<PruneResult> {
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const candidates: { id: string; clientId: string; registeredAt: number }[] = [];
  let total = 0;
  for (let first = 0; ; first += PAGE) {
    const page = await admin.clients.find({ first, max: PAGE });
    total += page.length;
    for (const client of page) {
      const stamp = Number(client.attributes?.[REGISTERED_AT_ATTRIBUTE]);
      if (client.id && client.clientId && Number.isFinite(stamp) && stamp > 0) {
        candidates.push({ id: client.id, clientId: client.clientId, registeredAt: stamp });
      }
    }
    if (page.length < PAGE) break;
  }
  const deleted: string[] = [];
  let kept = 0;
  for (const client of candidates) {
    if (now - client.registeredAt < options.unusedForSeconds || (await inUse(admin, client.id))) {
      kept += 1;
      continue;
    }
    try {
      await admin.clients.del({ id: client.id });
      deleted.push(client.clientId);
    } catch (error) {
      // Deleted meanwhile (another janitor, an admin): already what we wanted.
      if ((error as { response?: { status?: number } }).response?.status !== 404) throw error;
    }
  }
  return { deleted, kept, remaining: total - deleted.length };
}

async function inUse(admin: KcAdminClient, id: string): Promise<boolean> {
  const [online, offline] = await Promise.all([
    admin.clients.getSessionCount({ id }),
    admin.clients.getOfflineSessionCount({ id }),
  ]);
  return (online.count ?? 0) > 0 || (offline.count ?? 0) > 0;
}
