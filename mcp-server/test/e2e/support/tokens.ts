// Token-endpoint calls made the way MCP hosts make them (public client + PKCE, or confidential client).

export interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  expires_in: number;
  scope?: string;
  token_type: string;
}

export async function postForm(
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok) {
    throw new Error(
      `${url} answered ${response.status}: ${String(body.error)} ${String(body.error_description ?? '')}`,
    );
  }
  return body;
}

/**
 * A client_credentials token asked for `scope`: `mcp:tools` for the built-in /mcp (an optional scope of the seeded
 * M2M client, so a token is for /mcp only when asked for it), `mcp:<name>` for an upstream, '' for the client's
 * default scopes only.
 */
export async function clientCredentialsToken(
  tokenEndpoint: string,
  client: { clientId: string; clientSecret: string },
  scope: string,
): Promise<TokenResponse> {
  const basic = Buffer.from(
    `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`,
  );
  return (await postForm(
    tokenEndpoint,
    { grant_type: 'client_credentials', ...(scope ? { scope } : {}) },
    { authorization: `Basic ${basic.toString('base64')}` },
  )) as unknown as TokenResponse;
}
