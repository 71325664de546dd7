// RFC 8693 token exchange at the authorization server (Keycloak 26's standard token exchange): the gateway,
// as its own confidential client, trades the caller's token for one whose audience is an upstream's own API.
// The caller's token goes to Keycloak only, never to the upstream. Exchanged tokens are cached (keyed by the
// SHA-256 of the caller's token and the audience, never past their `exp`). No Koa here.
import { basicAuthorization } from '../auth/basicAuthorization.ts';
import { TokenCache } from '../auth/tokenCache.ts';

export class TokenExchangeError extends Error {
  readonly code = 'token_exchange_failed';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TokenExchangeError';
  }
}

export interface TokenExchangeOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs?: number;
  cacheSize?: number;
}

export type ExchangeToken = (subjectToken: string, audience: string) => Promise<string>;

// Refresh a cached token this long before it expires, so an upstream never receives one about to lapse.
const EARLY_MS = 15_000;

export function tokenExchanger(options: TokenExchangeOptions): ExchangeToken {
  const authorization = basicAuthorization(options.clientId, options.clientSecret);
  const cache = new TokenCache<string>(options.cacheSize ?? 10_000);

  return async function exchange(subjectToken, audience) {
    const key = `${TokenCache.keyOf(subjectToken)}|${audience}`;
    const cached = cache.get(key);
    if (cached) return cached;
    let response: Response;
    try {
      response = await fetch(options.tokenUrl, {
        method: 'POST',
        headers: {
          authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
          subject_token: subjectToken,
          subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          audience,
        }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      });
    } catch (cause) {
      throw new TokenExchangeError('the token exchange endpoint is unreachable', { cause });
    }
    const body = (await response.json().catch(() => ({}))) as {
      access_token?: unknown;
      expires_in?: unknown;
      error?: unknown;
      error_description?: unknown;
    };
    if (!response.ok || typeof body.access_token !== 'string') {
      // Keycloak's error code and sentence are safe to pass on; they never contain the token.
      const why = [body.error, body.error_description].filter((v) => typeof v === 'string').join(': ');
      throw new TokenExchangeError(
        `token exchange refused (HTTP ${response.status}${why ? `, ${why}` : ''})`,
      );
    }
    const lifetimeMs = (typeof body.expires_in === 'number' ? body.expires_in : 60) * 1000;
    cache.set(key, body.access_token, Date.now() + lifetimeMs - EARLY_MS);
    return body.access_token;
  };
}
