// Pre-registered public clients for known MCP hosts, for sites that switch anonymous DCR off, plus the browser
// console's client. Redirect URIs are the ones each host really sends. Keycloak matches a loopback redirect URI
// registered without a port (http://127.0.0.1/callback) against any port (RFC 8252 §7.3), which is what hosts
// that pick a random port need; hosts with a fixed port get that exact URI.
import { ADMIN_SCOPE, OFFLINE_ACCESS_SCOPE, TOOLS_SCOPE } from '../contracts.ts';
import type { PublicClientSpec } from './ensurePublicClient.ts';

export const PRESET_NAMES = [
  'vscode',
  'claude-code',
  'claude-desktop',
  'cursor',
  'mcp-inspector',
  'librechat',
  'mcp-remote',
  'vscode-cimd',
  'claude-code-cimd',
] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export interface PresetOptions {
  /** Origin of LibreChat as the browser reaches it, e.g. http://localhost:3080. */
  librechatUrl: string;
  /** The key of this server under `mcpServers:` in librechat.yaml (it is part of LibreChat's callback path). */
  librechatServerName: string;
  /** The fixed callback port given to mcp-remote on its command line. */
  mcpRemotePort: number;
}

// mcp:tools optional, like every other MCP scope: Keycloak adds a client's default scopes to every token, so a
// default mcp:tools would put the built-in /mcp in the audience of a token asked only for an upstream
// (mcp:<name>). Hosts ask for mcp:tools anyway: the /mcp challenge and metadata name it.
const MCP_OPTIONAL_SCOPES = [TOOLS_SCOPE, ADMIN_SCOPE, OFFLINE_ACCESS_SCOPE];

// Consent on: a host preset is a public client whose id is no secret, and several accept a code on any loopback
// port (RFC 8252 §7.3), so any local process could name it. The consent screen (once per scope) makes the first
// mcp:tools and every first mcp:admin grant visible to the person instead of silent (RFC 8252 §8.6).
const HOST_SCOPES = {
  defaultScopes: [],
  optionalScopes: MCP_OPTIONAL_SCOPES,
  consentRequired: true,
};
const seeded = (host: string) =>
  `Seeded by mcp-keycloak-stack for ${host} (public client, PKCE S256); use it where anonymous DCR is off`;

/**
 * A host's client ID metadata document, pre-registered (docs/cimd.md): the client id is the document's URL, name
 * and redirect URIs are the document's. The attributes are those Keycloak's CIMD provider writes on a client it
 * made from a document, with the cache expiry at its maximum (2^31 - 1, 2038): Keycloak takes the client as a
 * fresh copy and never fetches the URL, so the host logs in where Keycloak cannot reach the document (air-gapped),
 * and nowhere differs from the values below. Consent on, as for every client made from a document.
 */
const PINNED_DOCUMENT = (documentUrl: string) => ({
  'cimd.cache.expiry.time.in.sec': String(2 ** 31 - 1),
  'display.on.consent.screen': 'true',
  'consent.screen.text': `The client's hostname is ${new URL(documentUrl).hostname}`,
});
const pinned = (host: string, documentUrl: string) =>
  `Seeded by mcp-keycloak-stack: ${host}'s client ID metadata document ${documentUrl}, pinned (never fetched)`;

/** VS Code's document (redirect URIs: its loopback server on DEFAULT_AUTH_FLOW_PORT 33418, its vscode.dev relay). */
export const VSCODE_DOCUMENT_URL = 'https://vscode.dev/oauth/client-metadata.json';
/** Claude Code's document (redirect URIs: http://localhost:<port>/callback, any port; 127.0.0.1 likewise). */
export const CLAUDE_CODE_DOCUMENT_URL = 'https://claude.ai/oauth/claude-code-client-metadata';

export function hostPreset(name: PresetName, o: PresetOptions): PublicClientSpec {
  switch (name) {
    case 'vscode':
      return {
        clientId: 'vscode',
        name: 'Visual Studio Code',
        description: seeded('VS Code'),
        // VS Code's loopback server (fixed port 33418, then any port) and its vscode.dev relay for web/remote.
        redirectUris: [
          'http://127.0.0.1:33418/',
          'http://localhost:33418/',
          'http://127.0.0.1/',
          'http://localhost/',
          'https://vscode.dev/redirect',
          'https://insiders.vscode.dev/redirect',
        ],
        webOrigins: [],
        ...HOST_SCOPES,
      };
    case 'claude-code':
      return {
        clientId: 'claude-code',
        name: 'Claude Code',
        description: seeded('Claude Code'),
        // http://localhost:<random or --callback-port>/callback
        redirectUris: ['http://localhost/callback', 'http://127.0.0.1/callback'],
        webOrigins: [],
        ...HOST_SCOPES,
      };
    case 'claude-desktop':
      return {
        clientId: 'claude-desktop',
        name: 'Claude Desktop (custom connector)',
        description: seeded('Claude Desktop custom connectors'),
        // Custom connectors complete OAuth through Claude's hosted callback: the stack must be reachable from
        // there (public URL + TLS). Locally, Claude Desktop uses mcp-remote (see the mcp-remote preset).
        redirectUris: ['https://claude.ai/api/mcp/auth_callback', 'https://claude.com/api/mcp/auth_callback'],
        webOrigins: [],
        ...HOST_SCOPES,
      };
    case 'cursor':
      return {
        clientId: 'cursor',
        name: 'Cursor',
        description: seeded('Cursor'),
        redirectUris: ['cursor://anysphere.cursor-mcp/oauth/callback'],
        webOrigins: [],
        ...HOST_SCOPES,
      };
    case 'mcp-inspector':
      return {
        clientId: 'mcp-inspector',
        name: 'MCP Inspector',
        description: seeded('MCP Inspector'),
        // The web UI runs OAuth in the browser on :6274 (v2 on /oauth/callback, 0.x also on its "debug" flow's
        // path): it needs CORS. The v2 CLI (`--cli --client-id mcp-inspector`) takes the code on its own listener,
        // http://127.0.0.1:6276/oauth/callback by default (`--callback-url` may name localhost instead); it asks
        // for every scope in the server's metadata (mcp:tools mcp:admin) plus offline_access: HOST_SCOPES.
        redirectUris: [
          'http://localhost:6274/oauth/callback',
          'http://localhost:6274/oauth/callback/debug',
          'http://127.0.0.1:6274/oauth/callback',
          'http://127.0.0.1:6274/oauth/callback/debug',
          'http://127.0.0.1:6276/oauth/callback',
          'http://localhost:6276/oauth/callback',
        ],
        webOrigins: ['http://localhost:6274', 'http://127.0.0.1:6274'],
        postLogoutRedirectUris: ['http://localhost:6274', 'http://127.0.0.1:6274'],
        ...HOST_SCOPES,
      };
    case 'librechat':
      return {
        clientId: 'librechat',
        name: 'LibreChat',
        description: seeded('LibreChat'),
        redirectUris: [
          `${o.librechatUrl}/api/mcp/${encodeURIComponent(o.librechatServerName)}/oauth/callback`,
        ],
        webOrigins: [],
        ...HOST_SCOPES,
      };
    case 'mcp-remote':
      return {
        clientId: 'mcp-remote',
        name: 'mcp-remote (stdio bridge for Claude Desktop and other stdio-only hosts)',
        description: seeded('mcp-remote'),
        // mcp-remote listens on 127.0.0.1 and names localhost in the redirect (127.0.0.1 on Windows).
        redirectUris: [
          `http://localhost:${o.mcpRemotePort}/oauth/callback`,
          `http://127.0.0.1:${o.mcpRemotePort}/oauth/callback`,
        ],
        webOrigins: [],
        ...HOST_SCOPES,
      };
    // Client ID metadata documents, as published (sources: docs/cimd.md, "Pre-registered documents").
    case 'vscode-cimd':
      return {
        clientId: VSCODE_DOCUMENT_URL,
        name: 'Visual Studio Code',
        description: pinned('VS Code', VSCODE_DOCUMENT_URL),
        redirectUris: ['http://127.0.0.1:33418/', 'https://vscode.dev/redirect'],
        webOrigins: [],
        ...HOST_SCOPES,
        attributes: PINNED_DOCUMENT(VSCODE_DOCUMENT_URL),
      };
    case 'claude-code-cimd':
      return {
        clientId: CLAUDE_CODE_DOCUMENT_URL,
        name: 'Claude Code',
        description: pinned('Claude Code', CLAUDE_CODE_DOCUMENT_URL),
        redirectUris: ['http://localhost/callback', 'http://127.0.0.1/callback'],
        webOrigins: [],
        ...HOST_SCOPES,
        attributes: PINNED_DOCUMENT(CLAUDE_CODE_DOCUMENT_URL),
      };
  }
}

export const CONSOLE_CLIENT_ID = 'mcp-console';

/** The browser console served by the MCP server at <mcp origin>/console/ (keycloak-js, issue 7). */
export function consoleClient(mcpUrl: string): PublicClientSpec {
  const origin = new URL(mcpUrl).origin;
  const consoleUrl = `${origin}/console/`;
  return {
    clientId: CONSOLE_CLIENT_ID,
    name: 'MCP browser console',
    description: 'Seeded by mcp-keycloak-stack: keycloak-js console at /console/ (exact redirect URIs)',
    redirectUris: [consoleUrl, `${consoleUrl}index.html`],
    webOrigins: [origin],
    postLogoutRedirectUris: [consoleUrl],
    defaultScopes: [],
    optionalScopes: MCP_OPTIONAL_SCOPES, // the console asks for mcp:tools at every login (console.js)
    // Exact https/http URLs on the MCP server's own origin: no other program can receive its codes.
    consentRequired: false,
  };
}
