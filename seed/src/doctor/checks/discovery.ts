// Discovery, what an MCP host does first: call /mcp without a token and follow the 401 to the protected resource
// metadata (prm), then fetch the authorization server metadata at both paths hosts try (as-metadata).
import { CheckFailed, defineCheck, str, trim } from '../check.ts';
import { getJson, request } from '../http.ts';

export const prm = defineCheck({
  id: 'prm',
  needs: [],
  fallbackFix: 'start the MCP server and check MCP_RESOURCE_URL',
  async run({ mcpUrl, issuer }) {
    const unauthenticated = await request(mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    const challenge = unauthenticated.headers.get('www-authenticate') ?? '';
    const named = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
    if (unauthenticated.status !== 401 || !named) {
      throw new CheckFailed(
        `POST ${mcpUrl} without a token answered HTTP ${unauthenticated.status} ` +
          `without a WWW-Authenticate resource_metadata (${challenge || 'no header'})`,
        'the MCP server must answer 401 with WWW-Authenticate: Bearer resource_metadata="…" (RFC 9728 §5.1)',
      );
    }
    const { response, body } = await getJson(named);
    const produces = { mcpDate: Date.parse(response.headers.get('date') ?? '') };
    const servers = Array.isArray(body.authorization_servers) ? body.authorization_servers.map(String) : [];
    if (str(body.resource) !== mcpUrl) {
      throw new CheckFailed(
        `${named} names resource ${JSON.stringify(body.resource)}, not ${mcpUrl}`,
        `set the MCP server's MCP_RESOURCE_URL to ${mcpUrl}`,
        produces,
      );
    }
    if (!servers.map(trim).includes(issuer)) {
      throw new CheckFailed(
        `${named} names authorization_servers ${JSON.stringify(servers)}, not ${issuer}`,
        `set the MCP server's OIDC_ISSUER to ${issuer} (the issuer Keycloak puts in tokens)`,
        produces,
      );
    }
    return { detail: `${named} names ${issuer}`, produces };
  },
});

// Hosts try the RFC 8414 path-inserted URL first, then OpenID Connect discovery.
export const asMetadata = defineCheck({
  id: 'as-metadata',
  needs: [],
  fallbackFix: 'start Keycloak and check that the realm exists',
  async run({ issuer }) {
    const url = new URL(issuer);
    const rfc8414 = `${url.origin}/.well-known/oauth-authorization-server${url.pathname === '/' ? '' : url.pathname}`;
    const oidc = `${issuer}/.well-known/openid-configuration`;
    const problems: string[] = [];
    let metadata: Record<string, unknown> | undefined;
    let keycloakDate: number | undefined;
    for (const where of [rfc8414, oidc]) {
      try {
        const { response, body } = await getJson(where);
        // Kept even when it names another issuer: hosts would go on with it, and the token checks then show
        // where the mismatch bites.
        metadata ??= body;
        if (trim(str(body.issuer) ?? '') !== issuer) {
          problems.push(`${where} names issuer ${JSON.stringify(body.issuer)}`);
          continue;
        }
        metadata = body;
        keycloakDate = Date.parse(response.headers.get('date') ?? '');
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
    const produces = { metadata, ...(keycloakDate === undefined ? {} : { keycloakDate }) };
    if (problems.length > 0) {
      throw new CheckFailed(
        problems.join('; '),
        `is the realm there, and is Keycloak's public hostname (KC_HOSTNAME) the one in ${issuer}?`,
        produces,
      );
    }
    return { detail: `${rfc8414} and ${oidc} both name ${issuer}`, produces };
  },
});
