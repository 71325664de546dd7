// Small HTTP helpers for the doctor: every request has a timeout, failures become readable sentences.
import { createHash, randomBytes } from 'node:crypto';
import { describeFetchError } from '../waitForKeycloak.ts';

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

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Just enough of a cookie jar for Keycloak's login form (one host). */
export class CookieJar {
  private readonly cookies = new Map<string, string>();
  store(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const pair = header.split(';')[0] ?? '';
      const index = pair.indexOf('=');
      if (index < 1) continue;
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      if (value === '' || /max-age=0/i.test(header)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ');
  }
}

const decodeHtml = (value: string) =>
  value
    .replace(/&amp;/g, '&')
    .replace(/&#x3d;|&#61;/gi, '=')
    .replace(/&quot;/g, '"');

/**
 * Follows an authorization request the way a browser would: Keycloak's login form (when there is no session yet),
 * then the redirect to the client's loopback URI, whose query is returned (code or error). Nothing listens there:
 * the doctor reads the code from the Location header.
 */
export async function authorize(
  url: URL,
  jar: CookieJar,
  credentials: { username: string; password: string },
): Promise<URLSearchParams> {
  let response = await request(url.toString(), { headers: { cookie: jar.header() } });
  jar.store(response);
  if (response.status === 200) {
    const page = await response.text();
    const action = /<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"/.exec(page)?.[1];
    if (!action) throw new ProbeError('Keycloak did not render its login form');
    response = await request(decodeHtml(action), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
      body: new URLSearchParams({ ...credentials, credentialId: '' }),
    });
    jar.store(response);
  }
  const location = response.headers.get('location');
  if (response.status !== 302 || !location) {
    const body = await response.text();
    const message = /<span[^>]*id="input-error"[^>]*>([^<]+)/.exec(body)?.[1]?.trim();
    throw new ProbeError(
      `the login did not redirect back (HTTP ${response.status}${message ? `: ${message}` : ''})`,
    );
  }
  return new URL(location).searchParams;
}
