import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const REALM_EXPORT_DIR = join(REPO_ROOT, 'realm-export');
export const INSTALL_SCRIPT = join(REPO_ROOT, 'compose', 'native', 'install-prerequisites.sh');
/** The upstreams the gateway serves by default (its stdio commands are relative to the repository root). */
export const DEFAULT_UPSTREAMS_FILE = join(REPO_ROOT, 'compose', 'gateway', 'upstreams.yaml');

/** Everything a running stack keeps on disk lives under the stack dir (git-ignored). */
export function stackPaths(stackDir: string) {
  return {
    card: join(stackDir, 'stack.json'),
    lock: join(stackDir, 'launcher.json'),
    secrets: join(stackDir, 'secrets.json'),
    logs: join(stackDir, 'logs'),
    keycloakData: join(stackDir, 'keycloak'),
    keycloakHome: join(stackDir, 'keycloak-home'),
    valkeyData: join(stackDir, 'valkey'),
    valkeyConfig: join(stackDir, 'valkey.conf'),
  };
}
