// Ready-to-paste configuration for each known MCP host, pointing at this stack. Nothing secret: hosts use public
// clients (PKCE), either registered on the fly (DCR) or the seeded preset named in each block.
import type { StackCard } from './stackCard.ts';

const SERVER_NAME = 'mcp-keycloak-stack';
/** The Inspector release the client tests run (mcp-server/test/clients/inspector/package.json). */
export const INSPECTOR_VERSION = '2.12.0';
const INSPECTOR_PACKAGE = `@modelcontextprotocol/inspector@${INSPECTOR_VERSION}`;
/** The v2 CLI's default OAuth callback listener, one of the mcp-inspector preset's redirect URIs. */
const INSPECTOR_CLI_CALLBACK = 'http://127.0.0.1:6276/oauth/callback';
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
        ? `\n# with a fixed client id (no CIMD, no DCR): claude mcp add --transport http --client-id ${preset('claude-code')} --callback-port 8976 ${SERVER_NAME} ${url}`
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
  const inspector = preset('mcp-inspector');
  const inspectorCli = `npx ${INSPECTOR_PACKAGE} --cli ${url}${inspector ? ` --client-id ${inspector}` : ''}`;
  blocks.push({
    host: 'mcp-inspector',
    title: `MCP Inspector v2 — the CLI does OAuth itself (tested ${INSPECTOR_VERSION}; needs Node >= 22.19)`,
    text: [
      `${inspectorCli} --method tools/list`,
      `${inspectorCli} --stored-auth-only --method tools/call --tool-name whoami`,
      ...(inspector
        ? [
            `# ${inspector} is the seeded client (where DCR is off); without --client-id it registers itself (DCR).`,
            `# Callback: the default ${INSPECTOR_CLI_CALLBACK}; headless: MCP_INSPECTOR_SECRET_STORE=file`,
            `# web UI: npx ${INSPECTOR_PACKAGE}, Server Settings > OAuth Settings > Client ID: ${inspector}`,
          ]
        : [`# headless: MCP_INSPECTOR_SECRET_STORE=file; web UI: npx ${INSPECTOR_PACKAGE}`]),
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
