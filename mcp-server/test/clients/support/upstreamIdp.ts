// A corporate identity provider for the brokering test, built in the stack's own Keycloak as a second realm: known to
// ours only through one confidential client registered here (anonymous registration stays refused, as the default
// realm policies have it), a `groups` claim in its tokens, a group and three people. `remove` deletes the realm.
import { randomBytes, randomUUID } from 'node:crypto';
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';

export const UPSTREAM_ADMIN_GROUP = 'mcp-admins';

export interface UpstreamPerson {
  username: string;
  password: string;
  email: string;
}

export interface UpstreamIdp {
  realm: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** In the admin group. */
  erin: UpstreamPerson;
  /** In no group. */
  frank: UpstreamPerson;
  /** Claims the email of a local account (`claimedEmail`). */
  mallory: UpstreamPerson;
  /** Takes a person out of the admin group. */
  leaveAdminGroup(person: UpstreamPerson): Promise<void>;
  remove(): Promise<void>;
}

export async function createUpstreamIdp(
  card: StackCard,
  keycloak: () => Promise<KcAdminClient>,
  redirectUri: string,
  claimedEmail: string,
): Promise<UpstreamIdp> {
  const realm = `corp-${randomUUID().slice(0, 8)}`;
  const admin = await keycloak();
  await admin.realms.create({
    realm,
    displayName: 'Corp IdP (test)',
    enabled: true,
    registrationAllowed: false,
  });
  const clientId = 'mcp-stack-broker';
  const clientSecret = randomBytes(24).toString('base64url');
  await admin.clients.create({
    realm,
    clientId,
    secret: clientSecret,
    publicClient: false,
    clientAuthenticatorType: 'client-secret',
    standardFlowEnabled: true,
    directAccessGrantsEnabled: false,
    serviceAccountsEnabled: false,
    implicitFlowEnabled: false,
    redirectUris: [redirectUri],
    protocolMappers: [
      {
        name: 'groups',
        protocol: 'openid-connect',
        protocolMapper: 'oidc-group-membership-mapper',
        config: {
          'claim.name': 'groups',
          'full.path': 'false',
          'id.token.claim': 'true',
          'access.token.claim': 'true',
          'userinfo.token.claim': 'true',
        },
      },
    ],
  });
  const { id: groupId } = await admin.groups.create({ realm, name: UPSTREAM_ADMIN_GROUP });
  const person = async (username: string, email: string, lastName: string, groups: string[] = []) => {
    const password = randomBytes(18).toString('base64url');
    const { id } = await admin.users.create({
      realm,
      username,
      email,
      emailVerified: true,
      firstName: username[0]?.toUpperCase() + username.slice(1),
      lastName,
      enabled: true,
      credentials: [{ type: 'password', value: password, temporary: false }],
    });
    for (const group of groups) await admin.users.addToGroup({ realm, id, groupId: group });
    return { username, password, email };
  };
  return {
    realm,
    issuer: `${card.keycloakUrl}/realms/${realm}`,
    clientId,
    clientSecret,
    erin: await person('erin', 'erin@corp.example.test', 'Admin', [groupId]),
    frank: await person('frank', 'frank@corp.example.test', 'Staff'),
    mallory: await person('mallory', claimedEmail, 'Impostor'),
    leaveAdminGroup: async (person) => {
      const kc = await keycloak();
      const [found] = await kc.users.find({ realm, username: person.username, exact: true });
      if (found?.id) await kc.users.delFromGroup({ realm, id: found.id, groupId });
    },
    remove: async () => (await keycloak()).realms.del({ realm }),
  };
}
