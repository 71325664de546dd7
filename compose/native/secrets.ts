// Generated credentials that must stay stable across restarts of the same stack (0600, never committed).
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface StackSecrets {
  keycloakAdminUsername: string;
  keycloakAdminPassword: string;
}

/**
 * Keycloak only honours the bootstrap admin on its very first start (the user then lives in its database),
 * so the password generated then must be kept for the seed of every later start.
 */
export async function loadOrCreateSecrets(
  path: string,
  wanted: { username: string; passwordFromEnv: string | undefined },
): Promise<StackSecrets> {
  const existing = await readFile(path, 'utf8')
    .then((text) => JSON.parse(text) as Partial<StackSecrets>)
    .catch(() => undefined);
  if (existing?.keycloakAdminUsername && existing.keycloakAdminPassword && !wanted.passwordFromEnv) {
    return existing as StackSecrets;
  }
  const secrets: StackSecrets = {
    keycloakAdminUsername: wanted.username,
    keycloakAdminPassword: wanted.passwordFromEnv ?? randomBytes(18).toString('base64url'),
  };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}
