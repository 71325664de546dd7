// One client scope of the upstream plan in the realm: created, or converged (attributes and the mappers the plan
// names; other mappers, e.g. added by hand, are left alone).
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import type ClientScopeRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientScopeRepresentation.js';
import type ProtocolMapperRepresentation from '@keycloak/keycloak-admin-client/lib/defs/protocolMapperRepresentation.js';
import { SeedError } from '../errors.ts';
import type { ScopePlan } from './realmPlan.ts';

export interface ScopeOutcome {
  id: string;
  created: boolean;
  /** Names of what changed on an existing scope (attributes, mappers); empty when it already matched. */
  changed: string[];
}

function attributesOf(plan: ScopePlan): Record<string, string> {
  return {
    'include.in.token.scope': 'true',
    'display.on.consent.screen': 'true',
    'consent.screen.text': plan.consentText,
  };
}

/** Whether a mapper differs from the wanted one in type or in any config value the plan sets. */
function differs(existing: ProtocolMapperRepresentation, wanted: ProtocolMapperRepresentation): boolean {
  if (existing.protocolMapper !== wanted.protocolMapper || existing.protocol !== wanted.protocol) return true;
  const config = (existing.config ?? {}) as Record<string, unknown>;
  return Object.entries(wanted.config ?? {}).some(([key, value]) => config[key] !== value);
}

/**
 * `existing`: the realm's scopes by name (read once by the caller). `createOnly`: a scope that exists is not
 * touched at all (scopes named only by tool rules, which may be the realm's own, such as mcp:admin).
 */
export async function ensureClientScope(
  admin: KcAdminClient,
  plan: ScopePlan,
  existing: ReadonlyMap<string, ClientScopeRepresentation>,
  options: { createOnly: boolean },
): Promise<ScopeOutcome> {
  const found = existing.get(plan.name);
  if (!found?.id) {
    const { id } = await admin.clientScopes.create({
      name: plan.name,
      description: plan.description,
      protocol: 'openid-connect',
      attributes: attributesOf(plan),
      protocolMappers: plan.mappers,
    });
    // Some Keycloak versions answer 201 without an id the client can parse: look it up by name then.
    const scopeId = id || (await admin.clientScopes.findOneByName({ name: plan.name }))?.id;
    if (!scopeId)
      throw new SeedError('keycloak_request_failed', `could not create client scope ${plan.name}`);
    return { id: scopeId, created: true, changed: [] };
  }
  if (options.createOnly) return { id: found.id, created: false, changed: [] };

  const changed: string[] = [];
  const attributes = { ...found.attributes, ...attributesOf(plan) };
  const attributesDiffer = Object.entries(attributesOf(plan)).some(([k, v]) => found.attributes?.[k] !== v);
  if (attributesDiffer || found.description !== plan.description || found.protocol !== 'openid-connect') {
    await admin.clientScopes.update(
      { id: found.id },
      { ...found, description: plan.description, protocol: 'openid-connect', attributes },
    );
    changed.push('attributes');
  }
  const mappers = await admin.clientScopes.listProtocolMappers({ id: found.id });
  for (const wanted of plan.mappers) {
    const current = mappers.find((m) => m.name === wanted.name);
    if (!current?.id) {
      await admin.clientScopes.addProtocolMapper({ id: found.id }, wanted);
      changed.push(`mapper ${wanted.name} added`);
    } else if (differs(current, wanted)) {
      await admin.clientScopes.updateProtocolMapper(
        { id: found.id, mapperId: current.id },
        { ...current, ...wanted, config: { ...current.config, ...wanted.config }, id: current.id },
      );
      changed.push(`mapper ${wanted.name} updated`);
    }
  }
  return { id: found.id, created: false, changed };
}
