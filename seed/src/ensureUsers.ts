import type KcAdminClient from '@keycloak/keycloak-admin-client';
import type { StackUser } from './stackCard.ts';

export interface DemoUserSpec {
  username: string;
  firstName: string;
  roles: string[];
  /** Where the password comes from: the environment, the previous stack card, or freshly generated. */
  password: string;
}

/**
 * Converges each user to the spec: creates it if missing, fixes drift (disabled, pending required actions,
 * missing profile fields that would make Keycloak ask for them at login, roles granted or removed by hand),
 * and sets the password. Never creates a duplicate: lookups are by exact username.
 */
export async function ensureUsers(
  admin: KcAdminClient,
  specs: DemoUserSpec[],
  managedRoles: Map<string, { id: string; name: string }>,
): Promise<{ users: StackUser[]; created: string[] }> {
  const created: string[] = [];
  const users: StackUser[] = [];
  for (const spec of specs) {
    const profile = {
      username: spec.username,
      enabled: true,
      email: `${spec.username}@example.test`,
      emailVerified: true,
      firstName: spec.firstName,
      lastName: 'Demo',
      requiredActions: [],
    };
    const [existing] = await admin.users.find({ username: spec.username, exact: true });
    let id = existing?.id;
    if (!id) {
      id = (await admin.users.create(profile)).id;
      created.push(spec.username);
    } else {
      await admin.users.update({ id }, profile);
    }
    await admin.users.resetPassword({
      id,
      credential: { type: 'password', value: spec.password, temporary: false },
    });
    await reconcileRoles(admin, id, spec.roles, managedRoles);
    users.push({ username: spec.username, password: spec.password, roles: [...spec.roles] });
  }
  return { users, created };
}

async function reconcileRoles(
  admin: KcAdminClient,
  id: string,
  wanted: string[],
  managedRoles: Map<string, { id: string; name: string }>,
): Promise<void> {
  const current = new Set((await admin.users.listRealmRoleMappings({ id })).map((r) => r.name));
  const toAdd = [...managedRoles.values()].filter((r) => wanted.includes(r.name) && !current.has(r.name));
  const toRemove = [...managedRoles.values()].filter((r) => !wanted.includes(r.name) && current.has(r.name));
  if (toAdd.length > 0) await admin.users.addRealmRoleMappings({ id, roles: toAdd });
  if (toRemove.length > 0) await admin.users.delRealmRoleMappings({ id, roles: toRemove });
}
