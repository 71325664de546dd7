// The stack card (.stack/stack.json): how tests, benchmarks and people find a running stack.
// Contract: docs/ARCHITECTURE.md, "Stack card" — fields may be added, never removed or renamed without a version bump.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface StackUser {
  username: string;
  password: string;
  roles: string[];
}

/** One protected resource the MCP server serves: the built-in tools or an upstream of MCP_UPSTREAMS_FILE. */
export interface StackUpstream {
  /** `builtin` for the server's own tools (always first), else the upstream's name in the file. */
  name: string;
  /** The resource URL: what a token's `aud` must contain to be accepted there. */
  mcpUrl: string;
  /** Its RFC 9728 metadata document. */
  resourceMetadataUrl: string;
  /** Every request there needs all of these. */
  scopes: string[];
}

export interface StackCard {
  version: 1;
  mode: 'native' | 'compose';
  status?: 'starting' | 'ready' | 'stopped';
  issuer: string;
  keycloakUrl: string;
  realm: string;
  mcpUrl: string;
  resourceMetadataUrl: string;
  valkeyUrl: string;
  users: StackUser[];
  clients: {
    m2m?: { clientId: string; clientSecret: string };
    console?: { clientId: string };
    /** Pre-registered public clients for known MCP hosts (seed/src/clients/presets.ts), by host name. */
    presets?: Record<string, { clientId: string; redirectUris: string[] }>;
  };
  /** Added fields (version 1 compatible). */
  keycloakManagementUrl?: string;
  /**
   * Where Keycloak's admin API and the master realm are served when keycloakUrl does not serve them (the production
   * profile's loopback admin listener); absent: keycloakUrl serves everything.
   */
  keycloakAdminUrl?: string;
  /** Where servers fetch the JWKS (may be an internal address; tokens still carry the public issuer). */
  jwksUrl?: string;
  mcpHealthUrl?: string;
  launcherPid?: number;
  startedAt?: string;
  readyAt?: string;
  startupMs?: number;
  logsDir?: string;
  /** Every protected resource of the MCP server, the built-in one first (seed/src/upstreams/cardUpstreams.ts). */
  upstreams?: StackUpstream[];
  /** The gateway's token-exchange client (GATEWAY_CLIENT_ID), when an upstream uses token exchange. */
  gateway?: { clientId: string; clientSecret: string };
}

export class StackCardError extends Error {
  readonly code = 'stack_card_invalid';
}

export async function readStackCard(path: string): Promise<StackCard | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let card: unknown;
  try {
    card = JSON.parse(text);
  } catch {
    throw new StackCardError(`${path} is not valid JSON; delete it and start the stack again`);
  }
  if (typeof card !== 'object' || card === null || (card as { version?: unknown }).version !== 1) {
    throw new StackCardError(`${path} is not a version 1 stack card; delete it and start the stack again`);
  }
  return card as StackCard;
}

/** Atomic (write to a temp file, then rename) so a reader never sees half a card; 0600: it holds secrets. */
export async function writeStackCard(path: string, card: StackCard): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(card, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, path);
}

export async function updateStackCard(
  path: string,
  change: (card: StackCard) => StackCard,
): Promise<StackCard> {
  const current = await readStackCard(path);
  if (!current) throw new StackCardError(`no stack card at ${path}: start the stack first (npm start)`);
  const next = change(current);
  await writeStackCard(path, next);
  return next;
}
