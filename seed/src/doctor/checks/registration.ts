// Registration as hosts do it: anonymous DCR of a public client with a loopback redirect URI (registration), the
// PKCE S256 rule checked with that probe client (pkce), and a browser client's CORS and registration from its
// page (cors). The runner deletes the probe client at the end (deleteProbe).
import { CheckFailed, defineCheck, endpoint, Skip, str } from '../check.ts';
import { getJson, request } from '../http.ts';

export const registration = defineCheck({
  id: 'registration',
  needs: ['metadata'],
  fallbackFix: 'check the anonymous client-registration policies (realm-export/README.md)',
  async run(_settings, { metadata }) {
    const registrationEndpoint = str(metadata?.registration_endpoint);
    if (!metadata) throw new Skip('no authorization server metadata');
    if (!registrationEndpoint) {
      throw new CheckFailed(
        'the metadata has no registration_endpoint',
        'MCP hosts need Dynamic Client Registration: use Keycloak with client registration enabled',
      );
    }
    const port = 49152 + Math.floor(Math.random() * 16000);
    const redirectUri = `http://127.0.0.1:${port}/callback`;
    const response = await request(registrationEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: probeRegistration(redirectUri),
    });
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (response.status !== 201 || !str(body.client_id)) {
      throw new CheckFailed(
        `anonymous registration answered HTTP ${response.status}: ` +
          `${str(body.error_description) ?? str(body.error) ?? 'no reason given'}`,
        'anonymous client-registration policies must accept loopback redirect URIs (the mcp-registration policy, ' +
          '127.0.0.1, sender check off) and list openid, mcp:tools, offline_access (realm-export/README.md)',
      );
    }
    const probe = {
      clientId: str(body.client_id) as string,
      registrationClientUri: str(body.registration_client_uri) ?? '',
      registrationAccessToken: str(body.registration_access_token) ?? '',
      redirectUri,
    };
    return { detail: `registered ${probe.clientId} with ${redirectUri}`, produces: { probe } };
  },
});

export const pkce = defineCheck({
  id: 'pkce',
  needs: ['metadata', 'probe'],
  fallbackFix: 'check the PKCE client policy (realm-export/README.md)',
  async run(_settings, { metadata, probe }) {
    const methods = Array.isArray(metadata?.code_challenge_methods_supported)
      ? metadata.code_challenge_methods_supported.map(String)
      : [];
    if (!metadata) throw new Skip('no authorization server metadata');
    if (!methods.includes('S256')) {
      throw new CheckFailed(
        `code_challenge_methods_supported is ${JSON.stringify(methods)}`,
        'Keycloak advertises S256 unless PKCE is disabled: check the realm',
      );
    }
    if (!probe) throw new Skip('no probe client (registration failed)');
    const url = new URL(endpoint(metadata, 'authorization_endpoint'));
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: probe.clientId,
      redirect_uri: probe.redirectUri,
      scope: 'openid mcp:tools',
    }).toString();
    const response = await request(url.toString());
    const location = response.headers.get('location');
    const error = location ? new URL(location).searchParams.get('error') : undefined;
    if (response.status === 200 || (response.status === 302 && !error)) {
      throw new CheckFailed(
        'an authorization request without code_challenge was accepted (Keycloak showed its login form)',
        'add the client policy for public clients with the pkce-enforcer executor (realm-export: ' +
          'clientProfiles mcp-pkce-s256, clientPolicies mcp-public-clients-pkce)',
      );
    }
    return {
      detail: `S256 advertised; a request without code_challenge was refused (${error ?? `HTTP ${response.status}`})`,
    };
  },
});

export const cors = defineCheck({
  id: 'cors',
  needs: ['metadata'],
  fallbackFix: 'check the registration-web-origins policy',
  async run({ issuer, browserOrigin }, { metadata }) {
    if (!metadata) throw new Skip('no authorization server metadata');
    const problems: string[] = [];
    const { response } = await getJson(`${issuer}/.well-known/openid-configuration`, {
      origin: browserOrigin,
    });
    if (!response.headers.get('access-control-allow-origin'))
      problems.push('the metadata has no CORS header');
    // A browser client (the Inspector) registers itself from its page: Keycloak checks the Origin against the
    // registration-web-origins policy. This second probe is deleted at once.
    const registrationEndpoint = str(metadata.registration_endpoint);
    if (!registrationEndpoint) throw new Skip('no registration_endpoint');
    const browserRegistration = await request(registrationEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: browserOrigin },
      body: probeRegistration(`${browserOrigin}/oauth/callback`),
    });
    const registered = (await browserRegistration.json().catch(() => ({}))) as Record<string, unknown>;
    await deleteProbe(registered);
    const allowed = browserRegistration.headers.get('access-control-allow-origin');
    if (browserRegistration.status !== 201 || (allowed !== browserOrigin && allowed !== '*')) {
      problems.push(
        `registration from that origin answered HTTP ${browserRegistration.status} ` +
          `(${str(registered.error_description) ?? str(registered.error) ?? `allowed origin ${JSON.stringify(allowed)}`})`,
      );
    }
    if (problems.length > 0) {
      throw new CheckFailed(
        `a browser client on ${browserOrigin} is refused: ${problems.join('; ')}`,
        `add ${browserOrigin} to the anonymous "Allowed Registration Web Origins" policy ` +
          '(registration-web-origins)',
      );
    }
    return { detail: `metadata and registration answer ${browserOrigin} with CORS headers` };
  },
});

function probeRegistration(redirectUri: string): string {
  return JSON.stringify({
    client_name: 'mcp-keycloak-stack doctor probe (deleted after the check)',
    redirect_uris: [redirectUri],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    scope: 'openid mcp:tools offline_access',
  });
}

/** Deletes a client registered through DCR with its registration access token (RFC 7592). */
export async function deleteProbe(registered: Record<string, unknown>): Promise<void> {
  const uri = str(registered.registration_client_uri);
  const token = str(registered.registration_access_token);
  if (!uri || !token) return;
  await request(uri, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }).catch(
    () => undefined,
  );
}
