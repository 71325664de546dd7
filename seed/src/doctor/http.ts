// Small HTTP helpers for the doctor: every request has a timeout, failures become readable sentences.
import type { CookieJar } from '../keycloakLogin.ts';
import { KeycloakFormError, passKeycloakForms } from '../keycloakLogin.ts';
import { describeFetchError } from '../waitForKeycloak.ts';

export { CookieJar, pkcePair } from '../keycloakLogin.ts';

export class ProbeError extends Error {}

export async function request(url: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10_000), ...init });
  } catch (error) {
    throw new ProbeError(`${init.method ?? 'GET'} ${url} failed: ${describeFetchError(error)}`);
  }
}

export async function getJson(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ response: Response; body: Record<string, unknown> }> {
  const response = await request(url, { headers: { accept: 'application/json', ...headers } });
  if (!response.ok) throw new ProbeError(`GET ${url} answered HTTP ${response.status}`);
  try {
    return { response, body: (await response.json()) as Record<string, unknown> };
  } catch {
    throw new ProbeError(`GET ${url} did not answer JSON`);
  }
}

export function decodeJwt(token: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  const [header, payload] = token.split('.');
  if (!header || !payload) throw new ProbeError('the token is not a JWT');
  const part = (p: string) =>
    JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: part(header), payload: part(payload) };
}

/**
 * Follows an authorization request the way a browser would: Keycloak's login form (when there is no session yet)
 * and consent screen (accepted), then the redirect to the client's loopback URI, whose query is returned (code or error). Nothing listens there:
 * the doctor reads the code from the Location header.
 */
export async function authorize(
  url: URL,
  jar: CookieJar,
  credentials: { username: string; password: string },
): Promise<URLSearchParams> {
  const first = await request(url.toString(), { headers: { cookie: jar.header() } });
  try {
    const back = await passKeycloakForms(first, { jar, credentials, send: request });
    return new URL(back.headers.get('location') as string).searchParams;
  } catch (error) {
    if (error instanceof KeycloakFormError) throw new ProbeError(error.message);
    throw error;
  }
}
