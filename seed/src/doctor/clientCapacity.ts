// How full the realm is: anonymous registration stops at the max-clients policy, and every client counts
// (presets, the M2M client, every self-registered host). Needs the admin API; the doctor skips it without one.
import { loggedInAdmin, type AdminAccess } from './adminAccess.ts';

export type { AdminAccess } from './adminAccess.ts';

export interface Capacity {
  clients: number;
  /** The anonymous max-clients policy's limit; undefined when the realm has none. */
  maxClients: number | undefined;
}

export const WARN_AT = 0.8;

export async function readClientCapacity(access: AdminAccess): Promise<Capacity> {
  const admin = await loggedInAdmin(access);
  const policies = await admin.components.find({
    type: 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy',
  });
  const limit = policies.find((p) => p.providerId === 'max-clients' && p.subType === 'anonymous')?.config?.[
    'max-clients'
  ]?.[0];
  let clients = 0;
  for (let first = 0; ; first += 500) {
    const page = await admin.clients.find({ first, max: 500 });
    clients += page.length;
    if (page.length < 500) break;
  }
  return { clients, maxClients: limit === undefined ? undefined : Number(limit) };
}

/** pass / warn (≥ 80 %) / fail (full): the sentence the doctor prints, and the fix when it is not a pass. */
export function judgeCapacity(capacity: Capacity): {
  status: 'pass' | 'warn' | 'fail';
  detail: string;
  fix?: string;
} {
  const { clients, maxClients } = capacity;
  if (maxClients === undefined || !Number.isFinite(maxClients)) {
    return {
      status: 'warn',
      detail: `${clients} clients and no max-clients policy: registrations are unbounded`,
      fix: 'keep the anonymous max-clients policy (realm-export/README.md)',
    };
  }
  const detail = `${clients} of ${maxClients} clients (${Math.round((clients / maxClients) * 100)} %)`;
  const fix =
    'delete unused self-registered clients (npm run seed -- prune-clients --unused-for 3600), check the ' +
    'registration rate limit at your proxy, or raise max-clients (realm-export/README.md)';
  if (clients >= maxClients)
    return { status: 'fail', detail: `${detail}: anonymous registration is refused`, fix };
  if (clients >= maxClients * WARN_AT) return { status: 'warn', detail: `${detail}: nearly full`, fix };
  return { status: 'pass', detail };
}
