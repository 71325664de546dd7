// The running stack (found through its card, seed/src/stackCard.ts), an admin client on it, and extra realms built from
// realm-export/ (healthy or deliberately broken) that a test imports through the admin REST API and deletes.
import KcAdminClient from '@keycloak/keycloak-admin-client';
import type RealmRepresentation from '@keycloak/keycloak-admin-client/lib/defs/realmRepresentation.js';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readStackCard, type StackCard } from '../../../src/stackCard.ts';
import { generateSecret } from '../../../src/passwords.ts';
import { adminLogin } from '../../../src/adminLogin.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const cardPath = () => resolve(process.env.STACK_CARD_PATH ?? join(REPO_ROOT, '.stack', 'stack.json'));

export async function loadStack(): Promise<StackCard> {
  const card = await readStackCard(cardPath());
  if (!card || card.status !== 'ready') throw new Error(`no ready stack at ${cardPath()}: run npm test`);
  return card;
}

export async function adminCredentials(): Promise<{ username: string; password: string }> {
  const s = JSON.parse(await readFile(join(dirname(cardPath()), 'secrets.json'), 'utf8')) as {
    keycloakAdminUsername: string;
    keycloakAdminPassword: string;
  };
  return { username: s.keycloakAdminUsername, password: s.keycloakAdminPassword };
}

export async function adminClient(card: StackCard, realm = card.realm): Promise<KcAdminClient> {
  const admin = new KcAdminClient({
    baseUrl: card.keycloakAdminUrl ?? card.keycloakUrl,
    realmName: 'master',
  });
  await adminLogin(admin, await adminCredentials());
  admin.setConfig({ realmName: realm });
  return admin;
}

/** realm-export/mcp-realm.json as Keycloak would import it for this stack (placeholders resolved). */
export async function realmTemplate(card: StackCard, name: string): Promise<RealmRepresentation> {
  const text = await readFile(join(REPO_ROOT, 'realm-export', 'mcp-realm.json'), 'utf8');
  const resolved = text.replace(/\$\{MCP_RESOURCE_URL:[^}]*\}/g, card.mcpUrl);
  return { ...(JSON.parse(resolved) as RealmRepresentation), realm: name, displayName: name };
}

export interface ExtraRealm {
  name: string;
  issuer: string;
  admin: KcAdminClient;
  user: { username: string; password: string };
  remove(): Promise<void>;
}

/** Imports a realm built from the template (after `change`), with one user; `remove` deletes the realm. */
export async function importRealm(
  card: StackCard,
  prefix: string,
  change: (realm: RealmRepresentation) => void = () => {},
): Promise<ExtraRealm> {
  const name = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
  const realm = await realmTemplate(card, name);
  change(realm);
  const admin = await adminClient(card, name);
  await admin.realms.create(realm);
  const user = { username: 'probe-user', password: generateSecret() };
  const { id } = await admin.users.create({
    username: user.username,
    enabled: true,
    email: 'probe-user@example.test',
    emailVerified: true,
    firstName: 'Probe',
    lastName: 'User',
  });
  await admin.users.resetPassword({
    id,
    credential: { type: 'password', value: user.password, temporary: false },
  });
  return {
    name,
    issuer: `${card.keycloakUrl}/realms/${name}`,
    admin,
    user,
    remove: () => admin.realms.del({ realm: name }),
  };
}

type Component = { providerId?: string; subType?: string; config?: Record<string, string[]> };

/** The realm's anonymous client-registration policy of this provider (edited in place). */
export function anonymousPolicy(realm: RealmRepresentation, providerId: string): Component {
  const all = (realm.components as Record<string, Component[]> | undefined)?.[
    'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy'
  ];
  const found = all?.find((c) => c.providerId === providerId && c.subType === 'anonymous');
  if (!found) throw new Error(`realm-export has no anonymous ${providerId} policy`);
  return found;
}
