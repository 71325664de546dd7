// Finds the running stack through its card (seed/src/stackCard.ts), as every consumer of the stack does.
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readStackCard, type StackCard } from '@mcp-keycloak-stack/seed/stackCard';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

export function stackCardPath(): string {
  return resolve(process.env.STACK_CARD_PATH ?? join(REPO_ROOT, '.stack', 'stack.json'));
}

export async function loadStack(): Promise<StackCard> {
  const card = await readStackCard(stackCardPath());
  if (!card || card.status !== 'ready') {
    throw new Error(
      `no ready stack at ${stackCardPath()}: run \`npm test\` (it starts one) or \`npm start\``,
    );
  }
  return card;
}

/** The bootstrap admin, for tests that must change the realm (kept beside the card, mode 0600). */
export async function loadAdminCredentials(): Promise<{ username: string; password: string }> {
  const secrets = JSON.parse(await readFile(join(dirname(stackCardPath()), 'secrets.json'), 'utf8')) as {
    keycloakAdminUsername: string;
    keycloakAdminPassword: string;
  };
  return { username: secrets.keycloakAdminUsername, password: secrets.keycloakAdminPassword };
}

export function user(card: StackCard, username: string): { username: string; password: string } {
  const found = card.users.find((u) => u.username === username);
  if (!found) throw new Error(`the stack card has no user ${username}`);
  return found;
}

export function decodeJwtPayload(token: string): Record<string, unknown> {
  const [, payload] = token.split('.');
  return JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}
