// The realm doctor: walks the path a real MCP host takes against a running Keycloak + MCP server and says, for
// each step that breaks clients, pass or fail with a one-line fix. Checks run in order and share what they learn
// (metadata, a probe client, a token); a check whose input is missing is skipped, naming what it waited for.
// The probe client registered through anonymous DCR is deleted at the end, whatever happened.
import { judgeCapacity, readClientCapacity, type AdminAccess } from './clientCapacity.ts';
import { ProbeError, CookieJar, authorize, decodeJwt, getJson, pkcePair, request } from './http.ts';

export interface DoctorOptions {
  /** The canonical MCP resource URL (what tokens must carry in aud). */
  mcpUrl: string;
  /** The issuer the MCP server expects (its OIDC_ISSUER). */
  issuer: string;
  /** The JWKS URL the MCP server is configured with (its OIDC_JWKS_URL). */
  jwksUrl: string;
  /** A browser client's origin that must get CORS (the MCP Inspector's by default). */
  browserOrigin: string;
  /** A person who can log in; without one, the token checks are skipped. */
  user: { username: string; password: string } | undefined;
  maxClockSkewSeconds: number;
  /** The bootstrap admin, when known (native stacks): enables the client-capacity check. */
  admin?: AdminAccess | undefined;
  /** The local clock in ms (injectable so a test can skew it). */
  now?: () => number;
}

export const CHECKS = {
  prm: 'Protected Resource Metadata reachable and naming this issuer',
  'as-metadata': 'Authorization server metadata (RFC 8414 path and OIDC path)',
  registration: 'Anonymous Dynamic Client Registration with a loopback redirect URI',
  pkce: 'PKCE S256 advertised and enforced',
  cors: 'CORS for a browser client',
  'token-audience': 'Access token carries aud = the MCP URL',
  'offline-access': 'offline_access allowed (refresh survives restarts)',
  issuer: 'Issuer in tokens = issuer the MCP server expects',
  jwks: "JWKS reachable at the MCP server's configured URL and holding the token's key",
  'server-accepts': 'The MCP server accepts the token',
  clock: 'Clock skew between this machine, Keycloak and the MCP server',
  'client-capacity': "Room for new registrations under the realm's max-clients",
} as const;
export type CheckId = keyof typeof CHECKS;

export interface CheckResult {
  id: CheckId;
  title: string;
  status: 'pass' | 'warn' | 'fail' | 'skip';
  detail: string;
  fix?: string;
}

class CheckFailed extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}
class Skip extends Error {}
class Warning extends CheckFailed {}

const trim = (url: string) => url.replace(/\/+$/, '');
const str = (value: unknown) => (typeof value === 'string' ? value : undefined);

interface Probe {
  clientId: string;
  registrationClientUri: string;
  registrationAccessToken: string;
  redirectUri: string;
}

interface Tokens {
  access: string;
  claims: Record<string, unknown>;
  kid: string | undefined;
}

export async function runDoctor(options: DoctorOptions): Promise<CheckResult[]> {
  const now = options.now ?? Date.now;
  const issuer = trim(options.issuer);
  const mcpUrl = options.mcpUrl;
  const results: CheckResult[] = [];
  const dates: { keycloak?: number; mcp?: number } = {};
  let metadata: Record<string, unknown> | undefined;
  let probe: Probe | undefined;
  let tokens: Tokens | undefined;
  const jar = new CookieJar();

  const check = async (id: CheckId, body: () => Promise<string>) => {
    try {
      results.push({ id, title: CHECKS[id], status: 'pass', detail: await body() });
    } catch (error) {
      if (error instanceof Skip) {
        results.push({ id, title: CHECKS[id], status: 'skip', detail: error.message });
      } else if (error instanceof Warning) {
        results.push({ id, title: CHECKS[id], status: 'warn', detail: error.message, fix: error.fix });
      } else if (error instanceof CheckFailed) {
        results.push({ id, title: CHECKS[id], status: 'fail', detail: error.message, fix: error.fix });
      } else {
        const message = error instanceof Error ? error.message : String(error);
        results.push({ id, title: CHECKS[id], status: 'fail', detail: message, fix: FIXES[id] });
      }
    }
  };
  const endpoint = (name: string) => {
    const value = str(metadata?.[name]);
    if (!value) throw new Skip(`no ${name} (authorization server metadata failed)`);
    return value;
  };

  // 1. What an MCP host does first: call /mcp without a token, follow the 401 to the resource metadata.
  await check('prm', async () => {
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
    dates.mcp = Date.parse(response.headers.get('date') ?? '');
    const servers = Array.isArray(body.authorization_servers) ? body.authorization_servers.map(String) : [];
    if (str(body.resource) !== mcpUrl) {
      throw new CheckFailed(
        `${named} names resource ${JSON.stringify(body.resource)}, not ${mcpUrl}`,
        `set the MCP server's MCP_RESOURCE_URL to ${mcpUrl}`,
      );
    }
    if (!servers.map(trim).includes(issuer)) {
      throw new CheckFailed(
        `${named} names authorization_servers ${JSON.stringify(servers)}, not ${issuer}`,
        `set the MCP server's OIDC_ISSUER to ${issuer} (the issuer Keycloak puts in tokens)`,
      );
    }
    return `${named} names ${issuer}`;
  });

  // 2. Hosts try the RFC 8414 path-inserted URL first, then OpenID Connect discovery.
  await check('as-metadata', async () => {
    const url = new URL(issuer);
    const rfc8414 = `${url.origin}/.well-known/oauth-authorization-server${url.pathname === '/' ? '' : url.pathname}`;
    const oidc = `${issuer}/.well-known/openid-configuration`;
    const problems: string[] = [];
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
        dates.keycloak = Date.parse(response.headers.get('date') ?? '');
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
    if (problems.length > 0) {
      throw new CheckFailed(
        problems.join('; '),
        `is the realm there, and is Keycloak's public hostname (KC_HOSTNAME) the one in ${issuer}?`,
      );
    }
    return `${rfc8414} and ${oidc} both name ${issuer}`;
  });

  // 3. Anonymous DCR, as a desktop host does it (loopback redirect, public client), from a browser origin.
  await check('registration', async () => {
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
    const registration = await request(registrationEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: probeRegistration(redirectUri),
    });
    const body = (await registration.json().catch(() => ({}))) as Record<string, unknown>;
    if (registration.status !== 201 || !str(body.client_id)) {
      throw new CheckFailed(
        `anonymous registration answered HTTP ${registration.status}: ` +
          `${str(body.error_description) ?? str(body.error) ?? 'no reason given'}`,
        'anonymous client-registration policies must accept loopback redirect URIs (the mcp-registration policy, ' +
          '127.0.0.1, sender check off) and list openid, mcp:tools, offline_access (realm-export/README.md)',
      );
    }
    probe = {
      clientId: str(body.client_id) as string,
      registrationClientUri: str(body.registration_client_uri) ?? '',
      registrationAccessToken: str(body.registration_access_token) ?? '',
      redirectUri,
    };
    return `registered ${probe.clientId} with ${redirectUri}`;
  });

  try {
    await check('pkce', async () => {
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
      const url = new URL(endpoint('authorization_endpoint'));
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
      return `S256 advertised; a request without code_challenge was refused (${error ?? `HTTP ${response.status}`})`;
    });

    await check('cors', async () => {
      if (!metadata) throw new Skip('no authorization server metadata');
      const problems: string[] = [];
      const { response } = await getJson(`${issuer}/.well-known/openid-configuration`, {
        origin: options.browserOrigin,
      });
      if (!response.headers.get('access-control-allow-origin'))
        problems.push('the metadata has no CORS header');
      // A browser client (the Inspector) registers itself from its page: Keycloak checks the Origin against the
      // registration-web-origins policy. This second probe is deleted at once.
      const registrationEndpoint = str(metadata.registration_endpoint);
      if (!registrationEndpoint) throw new Skip('no registration_endpoint');
      const browserRegistration = await request(registrationEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: options.browserOrigin },
        body: probeRegistration(`${options.browserOrigin}/oauth/callback`),
      });
      const registered = (await browserRegistration.json().catch(() => ({}))) as Record<string, unknown>;
      await deleteProbe(registered);
      const allowed = browserRegistration.headers.get('access-control-allow-origin');
      if (browserRegistration.status !== 201 || (allowed !== options.browserOrigin && allowed !== '*')) {
        problems.push(
          `registration from that origin answered HTTP ${browserRegistration.status} ` +
            `(${str(registered.error_description) ?? str(registered.error) ?? `allowed origin ${JSON.stringify(allowed)}`})`,
        );
      }
      if (problems.length > 0) {
        throw new CheckFailed(
          `a browser client on ${options.browserOrigin} is refused: ${problems.join('; ')}`,
          `add ${options.browserOrigin} to the anonymous "Allowed Registration Web Origins" policy ` +
            '(registration-web-origins)',
        );
      }
      return `metadata and registration answer ${options.browserOrigin} with CORS headers`;
    });

    await check('token-audience', async () => {
      if (!probe) throw new Skip('no probe client (registration failed)');
      if (!options.user) throw new Skip('no user to log in with (DOCTOR_USERNAME, DOCTOR_PASSWORD)');
      const response = await codeFlow('openid mcp:tools');
      const access = str(response.access_token);
      if (!access) throw new CheckFailed(tokenError(response), 'see the error above');
      const { header, payload } = decodeJwt(access);
      tokens = { access, claims: payload, kid: str(header.kid) };
      const aud = ([] as unknown[]).concat(payload.aud ?? []).map(String);
      if (!aud.includes(mcpUrl)) {
        throw new CheckFailed(
          `aud is ${JSON.stringify(payload.aud ?? null)}, not ${mcpUrl}`,
          `give the client scope mcp:tools an audience mapper with included.custom.audience = ${mcpUrl}`,
        );
      }
      return `logged in as ${options.user.username}; aud includes ${mcpUrl}`;
    });

    await check('offline-access', async () => {
      if (!probe) throw new Skip('no probe client (registration failed)');
      if (!options.user) throw new Skip('no user to log in with (DOCTOR_USERNAME, DOCTOR_PASSWORD)');
      const fix =
        'offline_access must be allowed for DCR clients (allowed-client-templates) and its client scope ' +
        'mapped to the realm role offline_access, which users hold through the default roles';
      const response = await codeFlow('openid mcp:tools offline_access');
      const refresh = str(response.refresh_token);
      if (!refresh) throw new CheckFailed(tokenError(response), fix);
      const typ = str(decodeJwt(refresh).payload.typ);
      if (typ !== 'Offline') {
        throw new CheckFailed(`asking for offline_access gave a refresh token of type ${typ}`, fix);
      }
      return 'asking for offline_access gives an offline refresh token';
    });

    await check('issuer', async () => {
      if (!tokens) throw new Skip('no access token');
      const iss = str(tokens.claims.iss);
      if (iss !== issuer) {
        throw new CheckFailed(
          `tokens carry iss ${JSON.stringify(iss)}, the MCP server expects ${issuer}`,
          "set Keycloak's public hostname (KC_HOSTNAME, a full URL) so iss is one URL whatever address " +
            'clients use, and the MCP server OIDC_ISSUER to that same issuer',
        );
      }
      return `iss = ${issuer}`;
    });

    await check('jwks', async () => {
      if (!tokens) throw new Skip('no access token');
      const fix = `OIDC_JWKS_URL of the MCP server must serve this realm's keys (${issuer}/protocol/openid-connect/certs, or its internal address)`;
      let body: Record<string, unknown>;
      try {
        body = (await getJson(options.jwksUrl)).body;
      } catch (error) {
        throw new CheckFailed((error as Error).message, fix);
      }
      const kids = Array.isArray(body.keys) ? body.keys.map((k) => str((k as { kid?: unknown }).kid)) : [];
      if (!tokens.kid || !kids.includes(tokens.kid)) {
        throw new CheckFailed(`${options.jwksUrl} does not hold the token's key ${tokens.kid}`, fix);
      }
      return `${options.jwksUrl} holds key ${tokens.kid}`;
    });

    await check('server-accepts', async () => {
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
      return 'initialize with the bearer token answered 200';
    });
  } finally {
    if (probe) {
      await deleteProbe({
        registration_client_uri: probe.registrationClientUri,
        registration_access_token: probe.registrationAccessToken,
      });
    }
  }

  await check('clock', async () => {
    const local = now();
    const skews: string[] = [];
    let worst = 0;
    const compare = (name: string, at: number | undefined) => {
      if (at === undefined || Number.isNaN(at)) return;
      const seconds = Math.round((at - local) / 1000);
      worst = Math.max(worst, Math.abs(seconds));
      skews.push(`${name} ${seconds >= 0 ? '+' : ''}${seconds}s`);
    };
    compare('Keycloak', dates.keycloak);
    compare('MCP server', dates.mcp);
    const iat = tokens?.claims.iat;
    if (typeof iat === 'number') compare('token iat', iat * 1000);
    if (skews.length === 0) throw new Skip('no Date header or token to compare with');
    if (worst > options.maxClockSkewSeconds) {
      throw new CheckFailed(
        `clocks differ by up to ${worst}s (${skews.join(', ')}; allowed ${options.maxClockSkewSeconds}s)`,
        'synchronise the clocks (NTP) of the Keycloak and MCP server hosts: tokens are refused as not yet ' +
          'valid or expired',
      );
    }
    return `within ${options.maxClockSkewSeconds}s (${skews.join(', ')})`;
  });

  await check('client-capacity', async () => {
    if (!options.admin) throw new Skip('no admin credentials (KEYCLOAK_ADMIN_USERNAME/PASSWORD)');
    const verdict = judgeCapacity(await readClientCapacity(options.admin));
    if (verdict.status === 'fail') throw new CheckFailed(verdict.detail, verdict.fix ?? '');
    if (verdict.status === 'warn') throw new Warning(verdict.detail, verdict.fix ?? '');
    return verdict.detail;
  });

  return results;

  async function codeFlow(scope: string): Promise<Record<string, unknown>> {
    if (!probe || !options.user) throw new Skip('no probe client or user');
    const { verifier, challenge } = pkcePair();
    const url = new URL(endpoint('authorization_endpoint'));
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: probe.clientId,
      redirect_uri: probe.redirectUri,
      scope,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: mcpUrl,
      state: pkcePair().verifier.slice(0, 16),
    }).toString();
    const query = await authorize(url, jar, options.user);
    const code = query.get('code');
    if (!code) {
      throw new ProbeError(
        `authorization failed: ${query.get('error') ?? 'no code'} ${query.get('error_description') ?? ''}`.trim(),
      );
    }
    const response = await request(endpoint('token_endpoint'), {
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
}

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
async function deleteProbe(registered: Record<string, unknown>): Promise<void> {
  const uri = str(registered.registration_client_uri);
  const token = str(registered.registration_access_token);
  if (!uri || !token) return;
  await request(uri, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }).catch(
    () => undefined,
  );
}

function tokenError(response: Record<string, unknown>): string {
  return `the token endpoint refused: ${str(response.error) ?? 'no token'} ${str(response.error_description) ?? ''}`.trim();
}

const FIXES: Record<CheckId, string> = {
  prm: 'start the MCP server and check MCP_RESOURCE_URL',
  'as-metadata': 'start Keycloak and check that the realm exists',
  registration: 'check the anonymous client-registration policies (realm-export/README.md)',
  pkce: 'check the PKCE client policy (realm-export/README.md)',
  cors: 'check the registration-web-origins policy',
  'token-audience': 'check the login (DOCTOR_USERNAME, DOCTOR_PASSWORD) and the mcp:tools audience mapper',
  'offline-access': 'check offline_access for DCR clients (realm-export/README.md)',
  issuer: "check Keycloak's hostname and the MCP server's OIDC_ISSUER",
  jwks: "check the MCP server's OIDC_JWKS_URL",
  'server-accepts': "check the MCP server's log",
  clock: 'synchronise the clocks (NTP)',
  'client-capacity': 'check KEYCLOAK_URL and the admin credentials',
};

export function formatResults(results: CheckResult[]): string {
  const mark = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' } as const;
  const lines = results.map(
    (r) => `${mark[r.status]}  ${r.title}: ${r.detail}${r.fix ? `\n      fix: ${r.fix}` : ''}`,
  );
  const failed = results.filter((r) => r.status === 'fail').length;
  lines.push(failed ? `${failed} check(s) failed` : 'all checks passed');
  return lines.join('\n');
}
