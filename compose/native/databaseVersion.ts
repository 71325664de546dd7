// The Keycloak release that last ran on a stack's database, kept beside it (`.stack/keycloak/keycloak-version`, so
// backups carry it). Keycloak migrates its database forward when a newer release starts on it and has no way
// back: the launcher says when a start upgrades, refuses a start that would go back (docs/upgrade.md), and a
// backup's manifest names the release its database is really at, whatever KEYCLOAK_VERSION said at the time.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const MARKER = 'keycloak-version';

/** True when release `a` (major.minor.patch) is newer than `b`. */
export function newerRelease(a: string, b: string): boolean {
  const [x, y] = [a, b].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) if ((x?.[i] ?? 0) !== (y?.[i] ?? 0)) return (x?.[i] ?? 0) > (y?.[i] ?? 0);
  return false;
}

/** Undefined for a new database, or one last run by a launcher that did not record it yet. */
export async function readDatabaseVersion(keycloakData: string): Promise<string | undefined> {
  const text = await readFile(join(keycloakData, MARKER), 'utf8').catch(() => undefined);
  const version = text?.trim();
  return version && /^\d+\.\d+\.\d+$/.test(version) ? version : undefined;
}

/** Written once Keycloak is ready, i.e. once it has migrated the database to `version`. */
export async function recordDatabaseVersion(keycloakData: string, version: string): Promise<void> {
  const marker = join(keycloakData, MARKER);
  await writeFile(`${marker}.tmp`, `${version}\n`, { mode: 0o600 });
  await rename(`${marker}.tmp`, marker);
}

export type VersionStep =
  | { kind: 'same' }
  | { kind: 'unknown' }
  | { kind: 'upgrade'; from: string }
  | { kind: 'downgrade'; from: string };

/** What starting `wanted` on a database last run by `recorded` does. */
export function versionStep(recorded: string | undefined, wanted: string): VersionStep {
  if (recorded === undefined) return { kind: 'unknown' };
  if (newerRelease(wanted, recorded)) return { kind: 'upgrade', from: recorded };
  if (newerRelease(recorded, wanted)) return { kind: 'downgrade', from: recorded };
  return { kind: 'same' };
}
