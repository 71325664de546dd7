// The realm side of the gateway, generated from MCP_UPSTREAMS_FILE: a client scope per upstream scope with the
// upstream's audience, scopes named by tool rules, the scopes made requestable (realm default optional, DCR
// allow-lists, console, presets, M2M client) and, for token-exchange upstreams, the gateway's client.
// Idempotent: a re-run converges and changes nothing more. Nothing is removed (an upstream dropped from the file
// keeps its scope: a token still in flight, or a second gateway seeded with `upstreams --file`, may rely on it).
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import type ClientScopeRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientScopeRepresentation.js';
import type { UpstreamSpec } from '@mcp-keycloak-stack/mcp-server/upstreamsFile';
import type { StackCard, StackUpstream } from '../stackCard.ts';
import { cardUpstreams } from './cardUpstreams.ts';
import { ensureClientScope } from './ensureClientScope.ts';
import { ensureGatewayClient } from './ensureGatewayClient.ts';
import { addClientOptionalScopes, addRealmOptionalScopes, type ScopeRef } from './optionalScopes.ts';
import { upstreamRealmPlan } from './realmPlan.ts';
import { allowScopesForRegistration } from './registrationPolicies.ts';

export interface UpstreamSeedInput {
  upstreams: readonly UpstreamSpec[];
  /** The built-in tools' resource URL (the card's mcpUrl): every upstream URL is derived from it. */
  builtinUrl: string;
  /** Public clients (console, host presets) that get every upstream and rule scope as optional. */
  publicClients: readonly string[];
  /** The M2M client: every upstream scope as optional, so client_credentials may ask for one. */
  m2mClientId: string;
}

export interface UpstreamSeedResult {
  /** The card's `upstreams` for this file and base URL, the built-in one first. */
  upstreams: StackUpstream[];
  /** Set when an upstream uses token exchange. */
  gateway?: NonNullable<StackCard['gateway']>;
}

export async function seedUpstreams(
  admin: KcAdminClient,
  input: UpstreamSeedInput,
  say: (line: string) => void,
): Promise<UpstreamSeedResult> {
  const upstreams = cardUpstreams(input.builtinUrl, input.upstreams);
  if (input.upstreams.length === 0) return { upstreams };
  const plan = upstreamRealmPlan(input.upstreams, input.builtinUrl);
  if (plan.builtinScopes.length > 0) {
    say(
      `upstreams: ${plan.builtinScopes.join(', ')} belong to the built-in tools; their mappers stay as ` +
        'realm-export/ has them (no upstream audience is added to them)',
    );
  }

  // Before the scopes: their token-exchange mappers name the gateway's client.
  const exchange =
    plan.exchangeAudiences.length > 0 ? await ensureGatewayClient(admin, plan.exchangeAudiences) : undefined;
  if (exchange) {
    say(
      `confidential client ${exchange.clientId} (token exchange for ${plan.exchangeAudiences.join(', ')})` +
        (exchange.created ? ' — created' : '') +
        (exchange.createdTargets.length
          ? `; target client(s) ${exchange.createdTargets.join(', ')} created`
          : ''),
    );
  }

  const existing = new Map<string, ClientScopeRepresentation>(
    (await admin.clientScopes.find()).filter((s) => s.name).map((s) => [s.name as string, s]),
  );
  const notes: string[] = [];
  const upstreamRefs: ScopeRef[] = [];
  for (const scope of plan.upstreamScopes) {
    const outcome = await ensureClientScope(admin, scope, existing, { createOnly: false });
    upstreamRefs.push({ id: outcome.id, name: scope.name });
    if (outcome.created) notes.push(`${scope.name} created`);
    else if (outcome.changed.length) notes.push(`${scope.name} converged (${outcome.changed.join(', ')})`);
  }
  const ruleRefs: ScopeRef[] = [];
  for (const scope of plan.ruleScopes) {
    const outcome = await ensureClientScope(admin, scope, existing, { createOnly: true });
    ruleRefs.push({ id: outcome.id, name: scope.name });
    if (outcome.created) notes.push(`${scope.name} created (named by tool rules)`);
  }

  const requestable = [...upstreamRefs, ...ruleRefs];
  const realmAdded = await addRealmOptionalScopes(admin, upstreamRefs);
  if (realmAdded.length) notes.push(`realm default optional scopes += ${realmAdded.join(', ')}`);
  const scopeNames = new Set([...existing.keys(), ...requestable.map((s) => s.name)]);
  const policies = await allowScopesForRegistration(
    admin,
    requestable.map((s) => s.name),
    scopeNames,
  );
  if (policies.changed.length)
    notes.push(`registration allow-lists (${policies.changed.join(', ')}) updated`);
  if (policies.dropped.length) {
    notes.push(`dropped ${policies.dropped.join(', ')} from them (no such client scope)`);
  }
  const missingClients: string[] = [];
  const clientsByAdded = new Map<string, string[]>(); // "mcp:a, mcp:b" -> the clients that got just those
  for (const [clientId, scopes] of [
    ...input.publicClients.map((c) => [c, requestable] as const),
    [input.m2mClientId, upstreamRefs] as const,
  ]) {
    const added = await addClientOptionalScopes(admin, clientId, scopes);
    if (added === undefined) missingClients.push(clientId);
    else if (added.length) {
      const key = added.join(', ');
      clientsByAdded.set(key, [...(clientsByAdded.get(key) ?? []), clientId]);
    }
  }
  for (const [added, clients] of clientsByAdded)
    notes.push(`optional scopes += ${added} for ${clients.join(', ')}`);

  for (const u of upstreams.slice(1)) say(`upstream ${u.name}: ${u.mcpUrl} (${u.scopes.join(', ')})`);
  say(`upstream scopes: ${notes.length ? notes.join('; ') : 'already present, converged'}`);
  if (missingClients.length)
    say(`upstream scopes: no client ${missingClients.join(', ')} in the realm (skipped)`);
  return {
    upstreams,
    ...(exchange && { gateway: { clientId: exchange.clientId, clientSecret: exchange.clientSecret } }),
  };
}
