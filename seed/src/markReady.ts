// `mark-ready`, the compose `stack-ready` one-shot (docker-compose.yml): the last service to start, once the MCP
// server is healthy. The seed writes the card with `status: starting` and cannot mark it ready itself — the MCP
// server starts only after the seed has exited — so this waits until the stack answers as a ready one does, then
// marks the card `ready` with `readyAt` and `startupMs` (since the seed's `startedAt`), as the native launcher
// does once every child is ready. Ready means both:
//   - the MCP server's /readyz answers 200: Valkey answers and the signing keys can be had from Keycloak;
//   - Keycloak serves the realm's discovery document with the card's issuer (KC_PUBLIC_URL), the `iss` the
//     server checks.
// Not ready within SEED_WAIT_SECONDS: exit 1 naming what still fails; the card stays "starting".
import { setTimeout as sleep } from 'node:timers/promises';
import { SeedError } from './errors.ts';
import { readStackCard, updateStackCard, type StackCard } from './stackCard.ts';
import { describeFetchError } from './waitForKeycloak.ts';

export interface ReadyOptions {
  cardPath: string;
  /** The MCP server's /readyz as the container reaches it (http://mcp-server:3000/readyz). */
  mcpReadyUrl: string;
  /** Keycloak as the container reaches it (http://keycloak:8080). */
  keycloakUrl: string;
  realm: string;
  waitSeconds: number;
}

const httpUrl = (env: NodeJS.ProcessEnv, name: string): string => {
  const value = env[name]?.trim();
  if (!value || !/^https?:\/\/[^\s]+$/.test(value)) {
    throw new SeedError('config_invalid', `${name} must be an absolute http(s) URL`);
  }
  return value.replace(/\/+$/, '');
};

/** From the stack-ready service's environment: STACK_READY_MCP_URL, KEYCLOAK_URL, KEYCLOAK_REALM, SEED_WAIT_SECONDS. */
export function readyOptionsFrom(env: NodeJS.ProcessEnv, cardPath: string): ReadyOptions {
  const realm = env.KEYCLOAK_REALM?.trim() || 'mcp';
  if (!/^[A-Za-z0-9_-]+$/.test(realm))
    throw new SeedError('config_invalid', 'KEYCLOAK_REALM must be a realm name');
  const wait = env.SEED_WAIT_SECONDS?.trim() || '120';
  if (!/^\d+$/.test(wait) || Number(wait) > 3600) {
    throw new SeedError('config_invalid', 'SEED_WAIT_SECONDS must be a whole number of seconds up to 3600');
  }
  return {
    cardPath,
    mcpReadyUrl: httpUrl(env, 'STACK_READY_MCP_URL'),
    keycloakUrl: httpUrl(env, 'KEYCLOAK_URL'),
    realm,
    waitSeconds: Number(wait),
  };
}

/** What /readyz says is failing: `valkey: connect ECONNREFUSED …`, or the status alone. */
function failingChecks(body: unknown): string {
  const checks = (body as { checks?: Record<string, { ok?: boolean; error?: string }> } | null)?.checks;
  const failing = Object.entries(checks ?? {})
    .filter(([, check]) => check?.ok === false)
    .map(([name, check]) => `${name}: ${check.error ?? 'failing'}`);
  return failing.length > 0 ? ` (${failing.join(', ')})` : '';
}

export async function markReady(
  options: ReadyOptions,
  say: (line: string) => void,
  deps: { fetch?: typeof fetch; pause?: (ms: number) => Promise<unknown> } = {},
): Promise<StackCard> {
  const get = deps.fetch ?? fetch;
  const pause = deps.pause ?? ((ms: number) => sleep(ms));
  const card = await readStackCard(options.cardPath);
  if (!card) {
    throw new SeedError(
      'stack_not_ready',
      `no stack card at ${options.cardPath}: the seed writes it before this runs`,
    );
  }
  const discoveryUrl = `${options.keycloakUrl}/realms/${options.realm}/.well-known/openid-configuration`;

  /** Why Keycloak is not ready yet, or undefined; a wrong issuer will not heal by waiting and throws. */
  async function keycloakProblem(): Promise<string | undefined> {
    try {
      const response = await get(discoveryUrl, { signal: AbortSignal.timeout(3000) });
      if (!response.ok) return `Keycloak's realm ${options.realm}: HTTP ${response.status}`;
      const { issuer } = (await response.json()) as { issuer?: unknown };
      if (issuer !== card?.issuer) {
        throw new SeedError(
          'stack_not_ready',
          `Keycloak's realm ${options.realm} says issuer ${String(issuer)}, the stack card ${card?.issuer}: tokens ` +
            `would carry an issuer the MCP server does not trust. KC_PUBLIC_URL must be the URL Keycloak is reached at.`,
        );
      }
      return undefined;
    } catch (error) {
      if (error instanceof SeedError) throw error;
      return `Keycloak at ${options.keycloakUrl}: ${describeFetchError(error)}`;
    }
  }

  async function mcpProblem(): Promise<string | undefined> {
    try {
      const response = await get(options.mcpReadyUrl, { signal: AbortSignal.timeout(3000) });
      if (response.ok) return undefined;
      const body = await response.json().catch(() => undefined);
      return `MCP server /readyz: HTTP ${response.status}${failingChecks(body)}`;
    } catch (error) {
      return `MCP server at ${options.mcpReadyUrl}: ${describeFetchError(error)}`;
    }
  }

  const deadline = Date.now() + options.waitSeconds * 1000;
  let lastReport = 0;
  for (;;) {
    const problems = (await Promise.all([keycloakProblem(), mcpProblem()])).filter(
      (problem): problem is string => problem !== undefined,
    );
    if (problems.length === 0) break;
    if (Date.now() >= deadline) {
      throw new SeedError(
        'stack_not_ready',
        `the stack was not ready within ${options.waitSeconds}s (SEED_WAIT_SECONDS): ${problems.join('; ')}. ` +
          'The stack card stays "starting"; `docker compose logs mcp-server keycloak valkey` says more.',
      );
    }
    if (Date.now() - lastReport >= 5000) {
      say(`waiting for a ready stack: ${problems.join('; ')}`);
      lastReport = Date.now();
    }
    await pause(1000);
  }
  const marked = await updateStackCard(options.cardPath, (current) => {
    const readyAt = new Date();
    const started = current.startedAt ? Date.parse(current.startedAt) : Number.NaN;
    return {
      ...current,
      status: 'ready',
      readyAt: readyAt.toISOString(),
      ...(Number.isFinite(started) ? { startupMs: readyAt.getTime() - started } : {}),
    };
  });
  const since =
    marked.startupMs === undefined ? '' : `, ${(marked.startupMs / 1000).toFixed(1)}s after the seed began`;
  say(`stack ready${since}: MCP server ${marked.mcpUrl}, issuer ${marked.issuer}; card ${options.cardPath}`);
  return marked;
}
