// Token exchange (RFC 8693, Keycloak 26's standard token exchange) for upstreams whose identity is
// token-exchange: the gateway's confidential client, allowed to exchange, and each target client the exchanged
// token is for. Like the M2M client, the gateway's secret is read back, never rotated.
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';
import { GATEWAY_CLIENT_ID } from '../contracts.ts';
import { SeedError } from '../errors.ts';
import { clientAudienceMapper } from './realmPlan.ts';

export interface GatewayClientOutcome {
  clientId: string;
  clientSecret: string;
  created: boolean;
  /** Target clients created now (an existing one is never changed). */
  createdTargets: string[];
}

/** Both clients below: confidential, and no flow of their own (no browser, password or service account). */
const FLOWLESS_CONFIDENTIAL: ClientRepresentation = {
  enabled: true,
  protocol: 'openid-connect',
  publicClient: false,
  clientAuthenticatorType: 'client-secret',
  standardFlowEnabled: false,
  implicitFlowEnabled: false,
  directAccessGrantsEnabled: false,
  serviceAccountsEnabled: false,
  fullScopeAllowed: false,
};

/** Exchanges tokens only: no browser flow, no password, no service account (it never acts for itself). */
export function gatewayClientRepresentation(): ClientRepresentation {
  return {
    clientId: GATEWAY_CLIENT_ID,
    name: 'MCP gateway (token exchange)',
    description:
      'Seeded by mcp-keycloak-stack: the MCP gateway trades a caller’s token for one meant for an upstream API',
    ...FLOWLESS_CONFIDENTIAL,
    attributes: {
      'standard.token.exchange.enabled': 'true',
      'oauth2.device.authorization.grant.enabled': 'false',
      'oidc.ciba.grant.enabled': 'false',
    },
  };
}

/** The upstream API's client when the realm lacks it: confidential, no flow at all (it only receives tokens). */
export function targetClientRepresentation(clientId: string): ClientRepresentation {
  return {
    clientId,
    name: `${clientId} (upstream API behind the MCP gateway)`,
    description: 'Seeded by mcp-keycloak-stack: the audience of tokens the MCP gateway exchanges for it',
    ...FLOWLESS_CONFIDENTIAL,
  };
}

export async function ensureGatewayClient(
  admin: KcAdminClient,
  targets: readonly string[],
): Promise<GatewayClientOutcome> {
  const createdTargets: string[] = [];
  for (const target of targets) {
    if ((await admin.clients.find({ clientId: target })).length > 0) continue;
    await admin.clients.create(targetClientRepresentation(target));
    createdTargets.push(target);
  }

  const wanted = gatewayClientRepresentation();
  const [existing] = await admin.clients.find({ clientId: GATEWAY_CLIENT_ID });
  let id = existing?.id;
  const created = !id;
  if (!id) id = (await admin.clients.create(wanted)).id;
  else {
    const attributes = { ...existing?.attributes, ...wanted.attributes };
    await admin.clients.update({ id }, { ...existing, ...wanted, attributes });
  }
  // The gateway's own (dedicated) mappers: an audience may be asked for only when the requester's tokens could
  // carry it. One per target; mappers for targets no longer in the file are left (another gateway may use them).
  const mappers = await admin.clients.listProtocolMappers({ id });
  for (const target of targets) {
    const mapper = clientAudienceMapper(`audience-${target}`, target);
    const current = mappers.find((m) => m.name === mapper.name);
    if (!current?.id) await admin.clients.addProtocolMapper({ id }, mapper);
    else if (current.config?.['included.client.audience'] !== target) {
      await admin.clients.updateProtocolMapper(
        { id, mapperId: current.id },
        { ...current, ...mapper, id: current.id },
      );
    }
  }
  const secret = await admin.clients.getClientSecret({ id });
  if (!secret.value)
    throw new SeedError('keycloak_request_failed', `client ${GATEWAY_CLIENT_ID} has no secret`);
  return { clientId: GATEWAY_CLIENT_ID, clientSecret: secret.value, created, createdTargets };
}
