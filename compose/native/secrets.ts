// Generated credentials that must stay stable across restarts of the same stack (0600, never committed).
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface StackSecrets {
  keycloakAdminUsername: string;
  keycloakAdminPassword: string;
  /** Valkey's requirepass: nothing on the machine talks to the stack's Valkey without it. */
  valkeyPassword: string;
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
  const keepAdmin = Boolean(
    existing?.keycloakAdminUsername && existing.keycloakAdminPassword && !wanted.passwordFromEnv,
  );
  if (keepAdmin && existing?.valkeyPassword) return existing as StackSecrets;
  // A stack made before Valkey had a password keeps its admin and gains a Valkey password.
  const secrets: StackSecrets = {
    keycloakAdminUsername: keepAdmin ? (existing?.keycloakAdminUsername as string) : wanted.username,
    keycloakAdminPassword: keepAdmin
      ? (existing?.keycloakAdminPassword as string)
      : (wanted.passwordFromEnv ?? randomBytes(18).toString('base64url')),
    valkeyPassword: existing?.valkeyPassword ?? randomBytes(24).toString('base64url'),
  };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}
