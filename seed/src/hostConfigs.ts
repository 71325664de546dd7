// Ready-to-paste configuration for each known MCP host, pointing at this stack. Nothing secret: hosts use public
// clients (PKCE), either registered on the fly (DCR) or the seeded preset named in each block.
import type { StackCard } from './stackCard.ts';

const SERVER_NAME = 'mcp-keycloak-stack';
const json = (value: unknown) => JSON.stringify(value, null, 2);

export function hostConfigs(card: StackCard): { host: string; title: string; text: string }[] {
  const url = card.mcpUrl;
  const issuer = card.issuer;
  const preset = (name: string) => card.clients.presets?.[name]?.clientId;
  const blocks: { host: string; title: string; text: string }[] = [];
  blocks.push({
    host: 'vscode',
    title: 'VS Code — .vscode/mcp.json (DCR; where DCR is off, VS Code asks for a client ID)',
    text:
      json({ servers: { [SERVER_NAME]: { type: 'http', url } } }) +
      (preset('vscode') ? `\nclient ID when asked: ${preset('vscode')}` : ''),
  });
  blocks.push({
    host: 'claude-code',
    title: 'Claude Code',
    text:
      `claude mcp add --transport http ${SERVER_NAME} ${url}` +
      (preset('claude-code')
        ? `\n# without DCR: claude mcp add --transport http --client-id ${preset('claude-code')} --callback-port 8976 ${SERVER_NAME} ${url}`
        : ''),
  });
  const remotePreset = card.clients.presets?.['mcp-remote'];
  const remotePort = remotePreset ? new URL(remotePreset.redirectUris[0] ?? 'http://x:3334').port : '3334';
  const remoteArgs = ['-y', 'mcp-remote', url, remotePort];
  if (remotePreset)
    remoteArgs.push(
      '--static-oauth-client-info',
      json({ client_id: remotePreset.clientId }).replace(/\s+/g, ''),
    );
  blocks.push({
    host: 'claude-desktop',
    title: 'Claude Desktop — claude_desktop_config.json (through mcp-remote on a fixed callback port)',
    text: json({ mcpServers: { [SERVER_NAME]: { command: 'npx', args: remoteArgs } } }),
  });
  blocks.push({
    host: 'cursor',
    title: 'Cursor — ~/.cursor/mcp.json',
    text:
      json({ mcpServers: { [SERVER_NAME]: { url } } }) +
      (preset('cursor') ? `\nclient ID where DCR is off: ${preset('cursor')}` : ''),
  });
  blocks.push({
    host: 'mcp-inspector',
    title: 'MCP Inspector — npx @modelcontextprotocol/inspector, then in the UI',
    text: [
      'Transport Type: Streamable HTTP',
      `URL: ${url}`,
      ...(preset('mcp-inspector')
        ? [`Authentication > OAuth 2.0 Flow > Client ID: ${preset('mcp-inspector')}`]
        : []),
      'Scope: openid mcp:tools',
    ].join('\n'),
  });
  const librechat = card.clients.presets?.librechat;
  if (librechat) {
    const serverName =
      /\/api\/mcp\/([^/]+)\/oauth\/callback$/.exec(librechat.redirectUris[0] ?? '')?.[1] ?? SERVER_NAME;
    blocks.push({
      host: 'librechat',
      title:
        'LibreChat — librechat.yaml (from a container, replace localhost by host.docker.internal in url)',
      text: [
        'mcpServers:',
        `  ${decodeURIComponent(serverName)}:`,
        '    type: streamable-http',
        `    url: ${url}`,
        '    startup: false',
        '    oauth:',
        `      client_id: ${librechat.clientId}`,
        `      authorization_url: ${issuer}/protocol/openid-connect/auth`,
        `      token_url: ${issuer}/protocol/openid-connect/token`,
        `      redirect_uri: ${librechat.redirectUris[0]}`,
        '      scope: "openid mcp:tools offline_access"',
        '      code_challenge_methods_supported: ["S256"]',
        '      grant_types_supported: ["authorization_code", "refresh_token"]',
      ].join('\n'),
    });
  }
  blocks.push({
    host: 'mcp-remote',
    title: 'mcp-remote (stdio bridge for any stdio-only host)',
    text: `npx ${remoteArgs
      .slice(1)
      .map((a) => (a.startsWith('{') ? `'${a}'` : a))
      .join(' ')}`,
  });
  return blocks;
}

export function renderHostConfigs(card: StackCard, opts: { only: string | undefined }): string {
  const blocks = hostConfigs(card).filter((b) => !opts.only || b.host === opts.only);
  if (blocks.length === 0) return `no configuration for "${opts.only}"`;
  return blocks.map((b) => `── ${b.title}\n${b.text}`).join('\n\n');
}
