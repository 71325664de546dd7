// The MCP console: keycloak-js logs the person in (authorization code + PKCE S256, tokens kept in memory only),
// then this page speaks MCP JSON-RPC over Streamable HTTP to the same origin's /mcp with the bearer token.
/* global document, window, sessionStorage, fetch, setInterval */

const PROTOCOL_VERSION = '2025-06-18';
const REQUESTED_KEY = 'mcp-console:requested-scopes';
// Asked for at every login: mcp:tools is an optional scope of the console's client (a default one would put /mcp
// in the audience of every token), and the token is for /mcp only when it names mcp:tools.
const TOOLS_SCOPE = 'mcp:tools';
const $ = (id) => document.getElementById(id);

let keycloak;
let config;
let negotiatedVersion;
let selectedTool;
let nextId = 1;

// ---------------------------------------------------------------- messages

function showStatus(text) {
  $('status').textContent = text;
}

/** Errors are shown in words; `stepUpScope` adds a button that logs in again asking for that scope. */
function showError(text, stepUpScope) {
  $('error-text').textContent = text;
  $('error').hidden = false;
  const button = $('step-up');
  button.hidden = !stepUpScope;
  if (stepUpScope) {
    button.textContent = `Log in again asking for ${stepUpScope}`;
    button.onclick = () => stepUp(stepUpScope);
  }
}

function clearError() {
  $('error').hidden = true;
  $('step-up').hidden = true;
}

class McpHttpError extends Error {
  constructor(message, stepUpScope) {
    super(message);
    this.stepUpScope = stepUpScope;
  }
}

// ---------------------------------------------------------------- MCP over HTTP

/** Reads `key="value"` pairs from a WWW-Authenticate header (RFC 6750 §3). */
function challengeParams(header) {
  const params = {};
  for (const match of (header ?? '').matchAll(/([a-z_]+)="([^"]*)"/gi)) params[match[1]] = match[2];
  return params;
}

async function explainHttpFailure(response) {
  const challenge = challengeParams(response.headers.get('www-authenticate'));
  let body = {};
  try {
    body = await response.json();
  } catch {
    // not JSON: the status says enough
  }
  const description = challenge.error_description ?? body.error_description ?? body.error?.message ?? '';
  if (response.status === 401) {
    return new McpHttpError(
      `The MCP server refused your access token${description ? ` (${description})` : ''}. ` +
        'Use "Refresh token", or log out and in again.',
    );
  }
  if (response.status === 403 && challenge.error === 'insufficient_scope') {
    // RFC 6750 §3.1: `scope` lists every scope the request needs, not only the missing ones.
    const granted = (keycloak.tokenParsed?.scope ?? '').split(' ');
    const needed = (challenge.scope ?? '').split(' ').filter(Boolean);
    const missing = needed.filter((scope) => !granted.includes(scope));
    const lacking = missing.length > 0 ? missing.join(' ') : 'a scope the server did not name';
    return new McpHttpError(
      `Not allowed: your access token lacks ${lacking}` +
        `${needed.length > 0 ? ` (this needs ${needed.join(' ')})` : ''}` +
        `${description ? `; the server says: ${description}` : ''}.`,
      missing.length > 0 ? missing.join(' ') : undefined,
    );
  }
  if (response.status === 403) {
    return new McpHttpError(`Not allowed (HTTP 403)${description ? `: ${description}` : ''}.`);
  }
  if (response.status === 429) {
    return new McpHttpError('Too many requests: the MCP server asks you to slow down. Try again shortly.');
  }
  return new McpHttpError(
    `The MCP server answered HTTP ${response.status}${description ? `: ${description}` : ''}.`,
  );
}

/** Parses a JSON body or the first JSON-RPC message of an SSE stream. */
async function readRpcResponse(response) {
  const type = response.headers.get('content-type') ?? '';
  const text = await response.text();
  if (type.includes('text/event-stream')) {
    const data = text
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trim())
      .find((line) => line.startsWith('{'));
    return data ? JSON.parse(data) : {};
  }
  return text ? JSON.parse(text) : {};
}

async function rpc(method, params) {
  // keycloak-js refreshes the token when it expires within 30 s (a no-op otherwise).
  try {
    await keycloak.updateToken(30);
  } catch {
    throw new McpHttpError('Your session at Keycloak has ended; log in again.');
  }
  const headers = {
    authorization: `Bearer ${keycloak.token}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  if (negotiatedVersion) headers['mcp-protocol-version'] = negotiatedVersion;
  let response;
  try {
    response = await fetch(config.mcpPath, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
    });
  } catch (error) {
    throw new McpHttpError(`Could not reach the MCP server at ${config.mcpPath}: ${error.message}.`);
  }
  if (!response.ok) throw await explainHttpFailure(response);
  const message = await readRpcResponse(response);
  if (message.error) {
    throw new McpHttpError(
      `The MCP server reported an error: ${message.error.message} (code ${message.error.code}).`,
    );
  }
  return message.result;
}

async function initialize() {
  const result = await rpc('initialize', {
    protocolVersion: PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: 'mcp-console', version: '0.1.0' },
  });
  negotiatedVersion = result.protocolVersion;
  return result;
}

// ---------------------------------------------------------------- rendering

function renderClaims() {
  const claims = keycloak.tokenParsed ?? {};
  const list = $('claims');
  list.replaceChildren();
  const rows = [
    ['Username', claims.preferred_username ?? '(none)'],
    ['Subject (sub)', claims.sub],
    ['Client (azp)', claims.azp],
    ['Audience (aud)', [].concat(claims.aud ?? []).join(', ')],
    ['Scopes', claims.scope],
    ['Issued at', new Date(claims.iat * 1000).toLocaleString()],
    ['Expires', expiryText()],
  ];
  for (const [name, value] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = name;
    const dd = document.createElement('dd');
    dd.textContent = value ?? '';
    if (name === 'Expires') dd.id = 'expiry';
    if (name === 'Scopes') dd.id = 'scopes';
    list.append(dt, dd);
  }
  $('claims-json').textContent = JSON.stringify(claims, null, 2);
  $('username').textContent = claims.preferred_username ?? claims.sub;
}

function expiryText() {
  const exp = keycloak.tokenParsed?.exp;
  if (!exp) return 'unknown';
  const left = Math.round(exp - Date.now() / 1000 + (keycloak.timeSkew ?? 0));
  const at = new Date(exp * 1000).toLocaleTimeString();
  return left > 0 ? `${at} (in ${left} s)` : `${at} (expired; the next call refreshes it)`;
}

function renderTools(tools) {
  const list = $('tools');
  list.replaceChildren();
  for (const tool of tools) {
    const item = document.createElement('li');
    item.dataset.tool = tool.name;
    const name = document.createElement('strong');
    name.textContent = tool.title ? `${tool.title} (${tool.name})` : tool.name;
    const description = document.createElement('p');
    description.textContent = tool.description ?? '';
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = `Choose ${tool.name}`;
    button.onclick = () => selectTool(tool);
    item.append(name, description, button);
    list.append(item);
  }
  if (tools.length === 0) list.textContent = 'The server offers no tools.';
}

function selectTool(tool) {
  selectedTool = tool;
  $('call-panel').hidden = false;
  $('call-name').textContent = tool.name;
  $('result').textContent = 'No call yet.';
  $('call-args').value = JSON.stringify(argumentTemplate(tool.inputSchema), null, 2);
}

/** A starting point for the arguments: every property of the tool's input schema, with its default or a blank. */
function argumentTemplate(schema) {
  const blank = { string: '', number: 0, integer: 0, boolean: false, array: [], object: {} };
  const template = {};
  for (const [name, property] of Object.entries(schema?.properties ?? {})) {
    template[name] = property.default ?? blank[property.type] ?? null;
  }
  return template;
}

function renderUsage(result) {
  const count = result?.structuredContent?.count;
  if (typeof count === 'number') $('usage-count').textContent = String(count);
}

// ---------------------------------------------------------------- actions

async function guarded(label, action) {
  clearError();
  showStatus(`${label}…`);
  try {
    await action();
    showStatus(`${label}: done.`);
  } catch (error) {
    showStatus(`${label}: failed.`);
    showError(error.message, error.stepUpScope);
  }
}

function requestedScopes() {
  return [...document.querySelectorAll('input[name=scope]:checked')].map((input) => input.value);
}

/** Remembers what was asked for, so the page can say which scopes Keycloak did not grant. */
function login(scopes) {
  const asked = [...new Set([TOOLS_SCOPE, ...scopes])];
  sessionStorage.setItem(REQUESTED_KEY, asked.join(' '));
  return keycloak.login({ scope: ['openid', ...asked].join(' '), redirectUri: consoleUrl() });
}

function stepUp(scope) {
  const granted = (keycloak.tokenParsed?.scope ?? '').split(' ').filter(Boolean);
  return login([...new Set([...granted.filter((s) => s !== 'openid'), ...scope.split(' ')])]);
}

function consoleUrl() {
  return new URL('./', window.location.href).href;
}

async function listTools() {
  const result = await rpc('tools/list', {});
  renderTools(result.tools ?? []);
  showStatus(`The server offers ${result.tools?.length ?? 0} tools.`);
}

async function callSelected() {
  let args;
  try {
    args = JSON.parse($('call-args').value || '{}');
  } catch (error) {
    throw new McpHttpError(`The arguments are not valid JSON: ${error.message}`);
  }
  const result = await rpc('tools/call', { name: selectedTool.name, arguments: args });
  $('result').textContent = JSON.stringify(result.structuredContent ?? result.content, null, 2);
  renderUsage(result);
  if (result.isError) {
    const text = result.content?.find((c) => c.type === 'text')?.text ?? 'no details';
    throw new McpHttpError(`The tool ${selectedTool.name} reported an error: ${text}`);
  }
}

async function updateUsage() {
  renderUsage(await rpc('tools/call', { name: 'usage', arguments: {} }));
}

function signedIn() {
  $('signed-out').hidden = true;
  $('signed-in').hidden = false;
  renderClaims();
  const wanted = sessionStorage.getItem(REQUESTED_KEY);
  sessionStorage.removeItem(REQUESTED_KEY);
  if (wanted) {
    const granted = (keycloak.tokenParsed?.scope ?? '').split(' ');
    const missing = wanted.split(' ').filter((scope) => scope && !granted.includes(scope));
    if (missing.length > 0) {
      $('notice').hidden = false;
      $('notice').textContent =
        `Keycloak did not grant ${missing.join(' ')} to ${keycloak.tokenParsed?.preferred_username}: ` +
        'your account lacks the role it needs (ask an administrator for the mcp-admin role).';
    }
  }
}

async function main() {
  try {
    config = await (await fetch('config.json')).json();
  } catch (error) {
    showError(`The console could not load its configuration (config.json): ${error.message}`);
    return;
  }
  let Keycloak;
  try {
    ({ default: Keycloak } = await import('./vendor/keycloak.js'));
  } catch (error) {
    showError(`The console could not load keycloak-js (is it installed on the server?): ${error.message}`);
    return;
  }
  keycloak = new Keycloak(config.keycloak);
  keycloak.onTokenExpired = () => showStatus('Your access token expired; the next call refreshes it.');
  let authenticated;
  try {
    authenticated = await keycloak.init({
      pkceMethod: 'S256',
      checkLoginIframe: false, // third-party cookies are blocked by modern browsers; we refresh instead
      redirectUri: consoleUrl(),
    });
  } catch (error) {
    showError(
      `Could not talk to Keycloak at ${config.keycloak.url} (realm ${config.keycloak.realm}, client ` +
        `${config.keycloak.clientId}): ${error?.error ?? error?.message ?? 'unknown error'}.`,
    );
    showStatus('Keycloak is unavailable.');
    return;
  }

  $('login').onclick = () => login(requestedScopes());
  $('logout').onclick = () => keycloak.logout({ redirectUri: consoleUrl() });
  $('refresh').onclick = () =>
    guarded('Refreshing the token', async () => {
      try {
        await keycloak.updateToken(-1); // -1: refresh now, whatever the expiry
      } catch {
        throw new McpHttpError(
          'Keycloak refused to refresh the token: your session has ended; log in again.',
        );
      }
      renderClaims();
    });
  $('list-tools').onclick = () => guarded('Listing tools', listTools);
  $('call').onclick = () => guarded(`Calling ${selectedTool?.name}`, callSelected);
  $('usage-refresh').onclick = () => guarded('Updating usage', updateUsage);

  if (!authenticated) {
    $('signed-out').hidden = false;
    showStatus('Not logged in.');
    return;
  }
  signedIn();
  setInterval(() => {
    const expiry = $('expiry');
    if (expiry) expiry.textContent = expiryText();
  }, 1000);
  await guarded('Connecting to the MCP server', async () => {
    const result = await initialize();
    showStatus(`Connected to ${result.serverInfo?.name} ${result.serverInfo?.version}.`);
    await listTools();
  });
}

void main();
