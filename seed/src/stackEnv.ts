// `npm run seed` / `npm run doctor` by hand, next to a running stack: the environment the launcher would pass is
// filled in from the stack card (URLs) and secrets.json beside it (the bootstrap admin). Variables already set win.
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readStackCard, type StackCard } from './stackCard.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function defaultCardPath(env: NodeJS.ProcessEnv): string {
  if (env.STACK_CARD_PATH) return resolve(env.STACK_CARD_PATH);
  return join(resolve(env.STACK_DIR ?? join(REPO_ROOT, '.stack')), 'stack.json');
}

export async function withStackDefaults(
  env: NodeJS.ProcessEnv,
): Promise<{ env: NodeJS.ProcessEnv; card: StackCard | undefined }> {
  const cardPath = defaultCardPath(env);
  const card = await readStackCard(cardPath).catch(() => undefined);
  const secrets = await readFile(join(dirname(cardPath), 'secrets.json'), 'utf8')
    .then((t) => JSON.parse(t) as { keycloakAdminUsername?: string; keycloakAdminPassword?: string })
    .catch(() => undefined);
  const filled: NodeJS.ProcessEnv = { ...env, STACK_CARD_PATH: cardPath };
  // Where the card's stack serves the admin API (the production profile's public port does not).
  if (!filled.KEYCLOAK_URL && card) filled.KEYCLOAK_URL = card.keycloakAdminUrl ?? card.keycloakUrl;
  if (!filled.KEYCLOAK_REALM && card) filled.KEYCLOAK_REALM = card.realm;
  // A password file (the production profile's secret) is the source of truth; the card's copy only fills a gap.
  const fromFile = Boolean(filled.KEYCLOAK_ADMIN_PASSWORD_FILE?.trim());
  if (!fromFile && !filled.KEYCLOAK_ADMIN_PASSWORD && secrets?.keycloakAdminPassword) {
    filled.KEYCLOAK_ADMIN_USERNAME ??= secrets.keycloakAdminUsername;
    filled.KEYCLOAK_ADMIN_PASSWORD = secrets.keycloakAdminPassword;
  }
  return { env: filled, card };
}
