// Step "identity" at an upstream path: what the upstream learns about the caller. `none`: nothing (the
// upstream sees the gateway). `token-exchange`: a token Keycloak issued for the upstream's own API, obtained by
// RFC 8693 with the caller's token — which itself stays with the gateway and Keycloak.
// Why not headers with the caller's claims: an upstream cannot tell such headers from forged ones unless every
// hop is trusted, and they cannot be checked offline; an exchanged token is signed, audience-bound and short.
import { readBearerToken } from '../auth/readBearerToken.ts';
import type { UpstreamConnection } from './upstreamConnection.ts';
import type { UpstreamSpec } from './upstreamsFile.ts';
import { TokenExchangeError, type ExchangeToken } from './tokenExchange.ts';

/** Sets the connection's credential for this caller; returns a message for the caller when that failed. */
export async function lendIdentity(
  spec: UpstreamSpec,
  exchange: ExchangeToken | undefined,
  authorization: string,
  connection: UpstreamConnection,
): Promise<string | undefined> {
  const identity = spec.identity;
  if (identity.type === 'none') return undefined;
  const token = readBearerToken(authorization);
  if (!exchange || token === undefined)
    return `upstream ${spec.name}: the gateway has no token exchange client`;
  try {
    const exchanged = await exchange(token, identity.audience);
    connection.credential = { header: identity.header, value: `Bearer ${exchanged}` };
    return undefined;
  } catch (error) {
    if (!(error instanceof TokenExchangeError)) throw error;
    return `upstream ${spec.name}: ${error.message}`;
  }
}
