// Signing-key rotation for the realm (RS256, the algorithm the MCP server accepts). Keycloak signs with the active
// key of highest priority and publishes every enabled key in its JWKS, so rotation is two steps:
//   1. rotate: add a new generated RSA key with a higher priority. New tokens are signed with it; tokens signed
//      with the old key still verify because the old key is still published. Resource servers that cache the
//      JWKS pick the new key up on the first unknown `kid` (jose refetches), without a restart.
//   2. retire: once every token signed with the old key has expired (the access-token lifespan, 5 min here), remove
//      the old keys. Their tokens are then rejected as soon as a server's JWKS cache expires.
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { SeedError } from '../errors.ts';

const KEY_PROVIDER = 'org.keycloak.keys.KeyProvider';
const ALGORITHM = 'RS256';

export interface SigningKey {
  kid: string;
  componentId: string;
  providerName: string;
  priority: number;
  status: string;
}

export async function listSigningKeys(admin: KcAdminClient, realm: string): Promise<SigningKey[]> {
  const metadata = await admin.realms.getKeys({ realm });
  const components = await admin.components.find({ type: KEY_PROVIDER });
  const names = new Map(components.map((c) => [c.id, c.name ?? '']));
  return (metadata.keys ?? [])
    .filter(
      (k) => k.algorithm === ALGORITHM && (k as { use?: string }).use === 'SIG' && k.kid && k.providerId,
    )
    .map((k) => ({
      kid: k.kid as string,
      componentId: k.providerId as string,
      providerName: names.get(k.providerId) ?? '',
      priority: Number(k.providerPriority ?? 0),
      status: String(k.status ?? ''),
    }))
    .sort((a, b) => b.priority - a.priority);
}

/** Adds a new RS256 key above every existing one; returns it (it signs from now on). */
export async function rotateSigningKey(admin: KcAdminClient, realm: string): Promise<SigningKey> {
  const before = await listSigningKeys(admin, realm);
  const realmRep = await admin.realms.findOne({ realm });
  if (!realmRep?.id) throw new SeedError('realm_missing', `realm "${realm}" does not exist`);
  const priority = Math.max(100, ...before.map((k) => k.priority)) + 10;
  const name = `rsa-rotated-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await admin.components.create({
    name,
    providerId: 'rsa-generated',
    providerType: KEY_PROVIDER,
    parentId: realmRep.id,
    config: {
      priority: [String(priority)],
      enabled: ['true'],
      active: ['true'],
      algorithm: [ALGORITHM],
      keySize: ['2048'],
    },
  });
  const added = (await listSigningKeys(admin, realm)).find((k) => !before.some((b) => b.kid === k.kid));
  if (!added) throw new SeedError('keycloak_request_failed', 'Keycloak did not publish the new signing key');
  return added;
}

/** Removes every RS256 key but the highest-priority active one; returns the removed keys. */
export async function retireOldSigningKeys(admin: KcAdminClient, realm: string): Promise<SigningKey[]> {
  const keys = await listSigningKeys(admin, realm);
  const current = keys.find((k) => k.status === 'ACTIVE');
  if (!current) throw new SeedError('keycloak_request_failed', `realm "${realm}" has no active RS256 key`);
  const old = keys.filter((k) => k.componentId !== current.componentId);
  for (const key of old) await admin.components.del({ id: key.componentId });
  return old;
}
