// Tokens, as the MCP server will see them: the probe client logs in with PKCE as the doctor's user; the access
// token must carry aud = the MCP URL (token-audience), offline_access must give an offline refresh token
// (offline-access), iss must be the issuer the server expects (issuer), the server's JWKS URL must hold the key
// (jwks), and the server must accept the token (server-accepts).
import { CheckFailed, defineCheck, endpoint, Skip, str, type DoctorSettings, type Probe } from '../check.ts';
import { ProbeError, authorize, decodeJwt, getJson, pkcePair, request } from '../http.ts';

const NO_USER = 'no user to log in with (DOCTOR_USERNAME, DOCTOR_PASSWORD)';

export const tokenAudience = defineCheck({
  id: 'token-audience',
  needs: ['metadata', 'probe'],
  fallbackFix: 'check the login (DOCTOR_USERNAME, DOCTOR_PASSWORD) and the mcp:tools audience mapper',
  async run(settings, { metadata, probe }) {
    if (!probe) throw new Skip('no probe client (registration failed)');
    if (!settings.user) throw new Skip(NO_USER);
    const response = await codeFlow(settings, metadata, probe, 'openid mcp:tools');
    const access = str(response.access_token);
    if (!access) throw new CheckFailed(tokenError(response), 'see the error above');
    const { header, payload } = decodeJwt(access);
    const produces = { tokens: { access, claims: payload, kid: str(header.kid) } };
    const aud = ([] as unknown[]).concat(payload.aud ?? []).map(String);
    if (!aud.includes(settings.mcpUrl)) {
      throw new CheckFailed(
        `aud is ${JSON.stringify(payload.aud ?? null)}, not ${settings.mcpUrl}`,
        `give the client scope mcp:tools an audience mapper with included.custom.audience = ${settings.mcpUrl}`,
        produces,
      );
    }
    return { detail: `logged in as ${settings.user.username}; aud includes ${settings.mcpUrl}`, produces };
  },
});

export const offlineAccess = defineCheck({
  id: 'offline-access',
  needs: ['metadata', 'probe'],
  fallbackFix: 'check offline_access for DCR clients (realm-export/README.md)',
  async run(settings, { metadata, probe }) {
    if (!probe) throw new Skip('no probe client (registration failed)');
    if (!settings.user) throw new Skip(NO_USER);
    const fix =
      'offline_access must be allowed for DCR clients (allowed-client-templates) and its client scope ' +
      'mapped to the realm role offline_access, which users hold through the default roles';
    const response = await codeFlow(settings, metadata, probe, 'openid mcp:tools offline_access');
    const refresh = str(response.refresh_token);
    if (!refresh) throw new CheckFailed(tokenError(response), fix);
    const typ = str(decodeJwt(refresh).payload.typ);
    if (typ !== 'Offline') {
      throw new CheckFailed(`asking for offline_access gave a refresh token of type ${typ}`, fix);
    }
    return { detail: 'asking for offline_access gives an offline refresh token' };
  },
});

export const issuerCheck = defineCheck({
  id: 'issuer',
  needs: ['tokens'],
  fallbackFix: "check Keycloak's hostname and the MCP server's OIDC_ISSUER",
  async run({ issuer }, { tokens }) {
    if (!tokens) throw new Skip('no access token');
    const iss = str(tokens.claims.iss);
    if (iss !== issuer) {
      throw new CheckFailed(
        `tokens carry iss ${JSON.stringify(iss)}, the MCP server expects ${issuer}`,
        "set Keycloak's public hostname (KC_HOSTNAME, a full URL) so iss is one URL whatever address " +
          'clients use, and the MCP server OIDC_ISSUER to that same issuer',
      );
    }
    return { detail: `iss = ${issuer}` };
  },
});

export const jwks = defineCheck({
  id: 'jwks',
  needs: ['tokens'],
  fallbackFix: "check the MCP server's OIDC_JWKS_URL",
  async run({ issuer, jwksUrl }, { tokens }) {
    if (!tokens) throw new Skip('no access token');
    const fix = `OIDC_JWKS_URL of the MCP server must serve this realm's keys (${issuer}/protocol/openid-connect/certs, or its internal address)`;
    let body: Record<string, unknown>;
    try {
      body = (await getJson(jwksUrl)).body;
    } catch (error) {
      throw new CheckFailed((error as Error).message, fix);
    }
    const kids = Array.isArray(body.keys) ? body.keys.map((k) => str((k as { kid?: unknown }).kid)) : [];
    if (!tokens.kid || !kids.includes(tokens.kid)) {
      throw new CheckFailed(`${jwksUrl} does not hold the token's key ${tokens.kid}`, fix);
    }
    return { detail: `${jwksUrl} holds key ${tokens.kid}` };
  },
});

export const serverAccepts = defineCheck({
  id: 'server-accepts',
  needs: ['tokens'],
  fallbackFix: "check the MCP server's log",
  async run({ mcpUrl }, { tokens }) {
    if (!tokens) throw new Skip('no access token');
    const response = await request(mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${tokens.access}`,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'mcp-keycloak-stack-doctor', version: '1' },
        },
      }),
    });
    await response.text();
    if (response.status !== 200) {
      throw new CheckFailed(
        `POST ${mcpUrl} with the token answered HTTP ${response.status} ` +
          `(${response.headers.get('www-authenticate') ?? 'no WWW-Authenticate'})`,
        "the MCP server's OIDC_ISSUER, OIDC_JWKS_URL and MCP_RESOURCE_URL must match this realm (see the checks above)",
      );
    }
    return { detail: 'initialize with the bearer token answered 200' };
  },
});

/** The authorization code flow with PKCE for the probe client, as the doctor's user; the token response. */
async function codeFlow(
  settings: DoctorSettings,
  metadata: Record<string, unknown> | undefined,
  probe: Probe,
  scope: string,
): Promise<Record<string, unknown>> {
  const { mcpUrl, user, jar } = settings;
  if (!user) throw new Skip('no probe client or user');
  const { verifier, challenge } = pkcePair();
  const url = new URL(endpoint(metadata, 'authorization_endpoint'));
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: probe.clientId,
    redirect_uri: probe.redirectUri,
    scope,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource: mcpUrl,
    state: pkcePair().verifier.slice(0, 16),
    // Empty: Keycloak's own login form even where every login goes to an upstream identity provider
    // (SEED_BROKER_ONLY; docs/broker.md). Without a default provider it changes nothing.
    kc_idp_hint: '',
  }).toString();
  const query = await authorize(url, jar, user);
  const code = query.get('code');
  if (!code) {
    throw new ProbeError(
      `authorization failed: ${query.get('error') ?? 'no code'} ${query.get('error_description') ?? ''}`.trim(),
    );
  }
  const response = await request(endpoint(metadata, 'token_endpoint'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: probe.redirectUri,
      client_id: probe.clientId,
      resource: mcpUrl,
    }),
  });
  return (await response.json().catch(() => ({ error: `HTTP ${response.status}` }))) as Record<
    string,
    unknown
  >;
}

function tokenError(response: Record<string, unknown>): string {
  return `the token endpoint refused: ${str(response.error) ?? 'no token'} ${str(response.error_description) ?? ''}`.trim();
}
