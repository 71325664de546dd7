// Dynamic Client Registration may only ask for scopes on the allow-list of the realm's "allowed-client-templates"
// policies (realm-export/mcp-realm.json, components): the upstream scopes are added to it, anonymous and
// authenticated alike. Names already there, or put there by hand, stay, except names of client scopes that no
// longer exist: Keycloak refuses to save a list naming one, so the list could not be extended at all.
import type KcAdminClient from '@keycloak/keycloak-admin-client';

const POLICY_TYPE = 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy';
const PROVIDER = 'allowed-client-templates';
const LIST = 'allowed-client-scopes';
/** On the list without being a client scope (Keycloak accepts it there). */
const OPENID = 'openid';

export interface RegistrationListChange {
  /** Sub-types (anonymous, authenticated) whose list changed. */
  changed: string[];
  /** Names taken off because no client scope has them any more. */
  dropped: string[];
}

export async function allowScopesForRegistration(
  admin: KcAdminClient,
  names: readonly string[],
  existingScopes: ReadonlySet<string>,
): Promise<RegistrationListChange> {
  const policies = (await admin.components.find({ type: POLICY_TYPE })).filter(
    (p) => p.providerId === PROVIDER,
  );
  const changed: string[] = [];
  const dropped = new Set<string>();
  for (const policy of policies) {
    if (!policy.id) continue;
    const raw = policy.config?.[LIST];
    const current = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    const kept = current.filter((name) => name === OPENID || existingScopes.has(name));
    const missing = names.filter((name) => !kept.includes(name));
    if (missing.length === 0 && kept.length === current.length) continue;
    current.filter((name) => !kept.includes(name)).forEach((name) => dropped.add(name));
    await admin.components.update(
      { id: policy.id },
      { ...policy, config: { ...policy.config, [LIST]: [...kept, ...missing] } },
    );
    changed.push(policy.subType ?? policy.name ?? policy.id);
  }
  return { changed, dropped: [...dropped] };
}
