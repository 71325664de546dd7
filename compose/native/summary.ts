import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { say, seconds } from './output.ts';
import { redactValkeyUrl } from './valkeyConfig.ts';

export function printSummary(
  card: StackCard,
  cardPath: string,
  timings: Record<string, number>,
  secretsPath: string,
): void {
  const users = card.users.map((u) => `${u.username}${u.roles.length ? ` (${u.roles.join(', ')})` : ''}`);
  const lines = [
    '',
    `MCP server    ${card.mcpUrl}`,
    `  metadata    ${card.resourceMetadataUrl}`,
    // The gateway's upstreams (the built-in tools, first, are the lines above).
    ...(card.upstreams ?? [])
      .slice(1)
      .map((u) => `  upstream    ${u.mcpUrl}  (${u.name}; scope ${u.scopes.join(' ')})`),
    `Keycloak      ${card.keycloakUrl}  (realm ${card.realm}, issuer ${card.issuer})`,
    `  admin UI    ${card.keycloakUrl}/admin  (bootstrap admin credentials: ${secretsPath})`,
    `Valkey        ${redactValkeyUrl(card.valkeyUrl)}`,
    `Demo users    ${users.join(', ')}  (passwords: ${cardPath}, "users")`,
    ...(card.clients.m2m
      ? [`M2M client    ${card.clients.m2m.clientId}  (secret: ${cardPath}, "clients.m2m")`]
      : []),
    '',
    `Started in ${seconds(card.startupMs ?? 0)} — ` +
      Object.entries(timings)
        .map(([name, ms]) => `${name} ${seconds(ms)}`)
        .join(', '),
  ];
  for (const line of lines) say(line);
}
