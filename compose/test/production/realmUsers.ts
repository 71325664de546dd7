// Users and clients of the stack's realm through Keycloak's admin REST API, with the bootstrap admin: the drills
// add users for the load (each user has its own rate limit) and check after a restart that users and
// self-registered clients are still there. Knows only URLs and credentials.
import { randomBytes } from 'node:crypto';
import KcAdminClient from '@keycloak/keycloak-admin-client';
import { adminLogin } from '@mcp-keycloak-stack/seed/adminLogin';

export interface RealmAdmin {
  keycloakUrl: string;
  realm: string;
  username: string;
  password: string;
}

/** A fresh admin session (the admin-cli token is short-lived, and Keycloak may have restarted since). */
async function adminClient(admin: RealmAdmin): Promise<KcAdminClient> {
  const client = new KcAdminClient({ baseUrl: admin.keycloakUrl, realmName: 'master' });
  await adminLogin(client, { username: admin.username, password: admin.password });
  client.setConfig({ realmName: admin.realm });
  return client;
}

/**
 * `count` users `<prefix>-1` … with generated passwords (the realm's policy: 12+ characters, not the username)
 * and a complete profile, so Keycloak asks for nothing at their first login. Existing ones get a new password.
 */
export async function createUsers(
  admin: RealmAdmin,
  prefix: string,
  count: number,
): Promise<{ username: string; password: string }[]> {
  const client = await adminClient(admin);
  const users: { username: string; password: string }[] = [];
  for (let n = 1; n <= count; n += 1) {
    const username = `${prefix}-${n}`;
    const password = randomBytes(18).toString('base64url');
    const [existing] = await client.users.find({ username, exact: true });
    const id =
      existing?.id ??
      (
        await client.users.create({
          username,
          enabled: true,
          email: `${username}@example.test`,
          emailVerified: true,
          firstName: username,
          lastName: 'Drill',
          requiredActions: [],
        })
      ).id;
    await client.users.resetPassword({
      id,
      credential: { type: 'password', value: password, temporary: false },
    });
    users.push({ username, password });
  }
  return users;
}

/** Which of `usernames` the realm does not have. */
export async function missingUsers(admin: RealmAdmin, usernames: readonly string[]): Promise<string[]> {
  const client = await adminClient(admin);
  const missing: string[] = [];
  for (const username of usernames) {
    if ((await client.users.find({ username, exact: true })).length === 0) missing.push(username);
  }
  return missing;
}

/** Which of `clientIds` the realm does not have. */
export async function missingClients(admin: RealmAdmin, clientIds: readonly string[]): Promise<string[]> {
  const client = await adminClient(admin);
  const missing: string[] = [];
  for (const clientId of clientIds) {
    if ((await client.clients.find({ clientId })).length === 0) missing.push(clientId);
  }
  return missing;
}
