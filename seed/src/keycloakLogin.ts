// Keycloak's login and consent pages driven over plain HTTP, as a person in a browser would: the one place that
// knows their forms (the doctor and the tests that log in without a browser both use it). Knows nothing of the
// client: it is handed the first response of an authorization request and returns the redirect back.
import { createHash, randomBytes } from 'node:crypto';

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Just enough of a browser's cookie jar for Keycloak's pages: one host, names and values. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  store(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const index = pair?.indexOf('=') ?? -1;
      if (!pair || index < 1) continue;
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      if (value === '' || /max-age=0/i.test(header)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

export class KeycloakFormError extends Error {
  readonly code = 'keycloak_form';
}

export type Send = (url: string, init: RequestInit) => Promise<Response>;

/**
 * From the answer to an authorization request to Keycloak's redirect back to the client: fills the login form
 * when one is shown (no session yet), then answers the consent screen when one is shown (self-registered
 * clients must ask; `consent: 'deny'` presses No). Returns the final 302 response; its Location carries
 * `code` or `error`. `send` must not follow redirects.
 */
export async function passKeycloakForms(
  first: Response,
  options: {
    jar: CookieJar;
    credentials: { username: string; password: string };
    consent?: 'accept' | 'deny';
    send: Send;
  },
): Promise<Response> {
  const { jar, send } = options;
  // Keycloak's own redirects (login → consent screen, required actions) are followed here; the first redirect
  // elsewhere is the one back to the client.
  const keycloakOrigin = new URL(first.url).origin;
  const withinKeycloak = (r: Response) => {
    const location = r.headers.get('location');
    return (
      r.status >= 300 &&
      r.status < 400 &&
      location !== null &&
      new URL(location, first.url).origin === keycloakOrigin
    );
  };
  let response = first;
  let loginSent = false;
  jar.store(response);
  for (let step = 0; step < 8 && (response.status === 200 || withinKeycloak(response)); step += 1) {
    if (response.status !== 200) {
      await response.body?.cancel();
      response = await send(new URL(response.headers.get('location') as string, first.url).href, {
        headers: { cookie: jar.header() },
      });
      jar.store(response);
      continue;
    }
    const page = await response.text();
    const login = /<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"/.exec(page)?.[1];
    const consent = consentForm(page);
    if (login && loginSent) {
      // The form again after our POST: Keycloak refused the password. Posting it again would only count as
      // another failed attempt against the user's brute-force limit.
      throw new KeycloakFormError(`Keycloak refused the login${inputError(page)}`);
    }
    if (login) {
      loginSent = true;
      response = await post(send, jar, new URL(decodeHtml(login), first.url).href, {
        ...options.credentials,
        credentialId: '',
      });
    } else if (consent) {
      const answer: Record<string, string> =
        options.consent === 'deny' ? { cancel: 'No' } : { accept: 'Yes' };
      response = await post(send, jar, new URL(consent.action, first.url).href, {
        ...consent.hidden,
        ...answer,
      });
    } else {
      throw new KeycloakFormError(
        `Keycloak showed a page with neither a login nor a consent form${inputError(page)}`,
      );
    }
  }
  if (response.status !== 302 || !response.headers.get('location')) {
    const body = await response.text().catch(() => '');
    throw new KeycloakFormError(
      `the login did not redirect back (HTTP ${response.status})${inputError(body)}`,
    );
  }
  return response;
}

/** Keycloak's own words under the form (wrong password, locked account, …), as ": words", or nothing. */
function inputError(page: string): string {
  const message = /<span[^>]*id="input-error"[^>]*>([^<]+)/.exec(page)?.[1]?.trim();
  return message ? `: ${message}` : '';
}

/** The consent screen: the form holding the accept button, its action and its hidden fields. */
function consentForm(page: string): { action: string; hidden: Record<string, string> } | undefined {
  for (const match of page.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)) {
    const [, action = '', inner = ''] = match;
    if (!/name="accept"/.test(inner)) continue;
    const hidden: Record<string, string> = {};
    for (const input of inner.matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
      const name = /name="([^"]+)"/.exec(input[0])?.[1];
      const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? '';
      if (name) hidden[name] = decodeHtml(value);
    }
    return { action: decodeHtml(action), hidden };
  }
  return undefined;
}

async function post(
  send: Send,
  jar: CookieJar,
  url: string,
  fields: Record<string, string>,
): Promise<Response> {
  const response = await send(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
    body: new URLSearchParams(fields),
  });
  jar.store(response);
  return response;
}

export function decodeHtml(value: string): string {
  return value
    .replace(/&amp;/g, '&')
    .replace(/&#x3d;|&#61;/gi, '=')
    .replace(/&quot;/g, '"');
}
