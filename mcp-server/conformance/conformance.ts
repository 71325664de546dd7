// The official MCP conformance suite (npm @modelcontextprotocol/conformance, server scenarios) against a running
// stack's MCP server, as a module: run.ts writes results.md + results.json from it, and
// mcp-server/test/integration/conformance.integration.test.ts asserts on it in `npm test`.
//
// The suite's client sends no credentials, and our server is an OAuth resource server: a small loopback proxy
// adds `Authorization: Bearer <token>` (the seeded M2M client's client_credentials token asked for mcp:tools, aud =
// the MCP URL) and forwards everything else unchanged — Host and Origin included, so the DNS-rebinding scenario
// still sees what the suite sent. The suite needs Node ≥ 22 (fs.globSync): the Node 22 binary that
// mcp-server/test/clients/setup-node22-tools.sh provisions (CONFORMANCE_NODE overrides it).
//
// The suite's `auth/*` scenarios are client scenarios: `conformance client` starts the scenario's own MCP server
// and authorization server on loopback ports, hands their URL to the client under test and grades what that client
// sends them. They are listed from the installed suite (`conformance list`) and each is explained in AUTH_SCENARIOS:
// why it cannot run against this server with Keycloak as the AS, and which of our tests covers the server side.
//
// Its authorization server scenarios (`conformance authorization`, since 0.2.0) test an AS directly: the metadata
// endpoint, and an authorization-code grant with PKCE and `resource`. They run against the stack's Keycloak
// (runAuthorizationServer): a public client registered through anonymous DCR for the suite's callback
// (http://127.0.0.1:<port>/callback), and the login the suite asks a person to complete in a browser driven over
// HTTP through Keycloak's form (alice, consent accepted) as soon as the suite prints the URL.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { CookieJar, passKeycloakForms } from '@mcp-keycloak-stack/seed/keycloakLogin';
import type { StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { node22Bin } from '../test/clients/support/node22.ts';
import { freePort } from '../test/e2e/support/mcpServerProcess.ts';
import { clientCredentialsToken } from '../test/e2e/support/tokens.ts';

export const CONFORMANCE_DIR = dirname(fileURLToPath(import.meta.url));
export const RESULTS_MD = join(CONFORMANCE_DIR, 'results.md');
export const RESULTS_JSON = join(CONFORMANCE_DIR, 'results.json');

const require = createRequire(import.meta.url);
const SUITE_PKG = dirname(require.resolve('@modelcontextprotocol/conformance/package.json'));
const SUITE = join(SUITE_PKG, 'dist', 'index.js');

export async function suiteVersion(): Promise<string> {
  return (JSON.parse(await readFile(join(SUITE_PKG, 'package.json'), 'utf8')) as { version: string }).version;
}

interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | string;
  errorMessage?: string;
}

export interface ScenarioResult {
  scenario: string;
  passed: number;
  failed: number;
  warnings: number;
  applies: boolean;
  note: string;
  failures: string[];
}

export interface ConformanceSummary {
  suite: string;
  command: string;
  target: string;
  scenarios: number;
  checks: { passed: number; failed: number; warnings: number };
  applicable: { scenarios: number; passed: number; failed: number; warnings: number };
  results: ScenarioResult[];
  auth: AuthSummary;
  authorizationServer: AuthorizationServerSummary;
}

/** One authorization server scenario (`conformance authorization`), run against the stack's Keycloak. */
export interface AuthorizationServerResult {
  scenario: string;
  passed: number;
  failed: number;
  warnings: number;
  /** Every check the suite recorded for it, token material left out (the suite redacts it). */
  checks: { id: string; status: string; errorMessage?: string }[];
}

export interface AuthorizationServerSummary {
  /** The suite's command line, without the client id (a fresh one per run). */
  command: string;
  target: string;
  client: string;
  login: string;
  /** The authorization server scenarios `conformance list` names. */
  listed: string[];
  results: AuthorizationServerResult[];
}

/** One `auth/*` scenario of the suite, as the suite lists it, with our explanation. */
export interface AuthScenarioResult {
  scenario: string;
  /** The spec versions the suite lists it under (`2025-11-25`, `draft`, `extension`, …). */
  specVersions: string[];
  /** Which `conformance list` section it is in: `client` (the suite plays server + AS) or `server`. */
  side: 'client' | 'server';
  applies: boolean;
  note: string;
  /** Our tests (paths under mcp-server/test) that exercise the server side of the same behaviour. */
  serverSide: { test: string; what: string }[];
}

export interface AuthSummary {
  source: string;
  /** Whether `conformance client` offers a server URL option (it does not in 0.1.16: no external target). */
  clientCommandTakesServerUrl: boolean;
  scenarios: number;
  results: AuthScenarioResult[];
}

/** Runs every server scenario (`--suite all`) against the card's MCP server; `output` is the suite's own. */
export async function runConformance(
  card: StackCard,
  options: { nodeBin?: string } = {},
): Promise<{ summary: ConformanceSummary; output: string }> {
  if (card.status !== 'ready' || !card.clients.m2m) {
    throw new Error('the stack is not ready or has no M2M client: start one with `npm start`');
  }
  const tokenEndpoint = `${card.issuer}/protocol/openid-connect/token`;
  const m2m = card.clients.m2m;
  let token = await clientCredentialsToken(tokenEndpoint, m2m, 'mcp:tools');
  let tokenExpiresAt = Date.now() + token.expires_in * 1000;

  const target = new URL(card.mcpUrl);
  const proxy = createServer(async (req, res) => {
    if (Date.now() > tokenExpiresAt - 30_000) {
      token = await clientCredentialsToken(tokenEndpoint, m2m, 'mcp:tools');
      tokenExpiresAt = Date.now() + token.expires_in * 1000;
    }
    const ownHost = `localhost:${(proxy.address() as { port: number }).port}`;
    const headers = { ...req.headers, authorization: `Bearer ${token.access_token}` };
    // The suite's own Host becomes the server's; any other Host (a rebinding attempt) goes through as sent.
    if (req.headers.host === ownHost || req.headers.host === ownHost.replace('localhost', '127.0.0.1')) {
      headers.host = target.host;
    }
    if (req.headers.origin === `http://${ownHost}`) headers.origin = target.origin;
    const upstream = request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => res.writeHead(502).end(String(error)));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as { port: number }).port;

  const outDir = await mkdtemp(join(tmpdir(), 'mcp-conformance-'));
  try {
    const args = [
      SUITE,
      'server',
      '--url',
      `http://localhost:${port}${target.pathname}`,
      '--suite',
      'all',
      '-o',
      outDir,
    ];
    const output = await runSuite(args, options.nodeBin);
    const summaryLines = suiteSummary(output);

    const scenarios: ScenarioResult[] = [];
    for (const dir of (await readdir(outDir)).sort()) {
      const scenario = /^server-(.+)-\d{4}-\d\d-\d\dT/.exec(dir)?.[1];
      if (!scenario) continue;
      const { applies, note } = applicability(scenario);
      const checks = await readChecks(join(outDir, dir));
      if (!checks) {
        // A scenario that ends before its first check writes no checks.json (0.2.0: the skills and tasks
        // extensions against a server without them); its counts are the suite's closing summary's.
        const counted = summaryLines.get(scenario);
        scenarios.push({
          scenario,
          passed: counted?.passed ?? 0,
          failed: counted?.failed ?? 1,
          warnings: 0,
          applies,
          note,
          failures: ['FAILURE (no checks.json: the suite wrote none for this scenario)'],
        });
        continue;
      }
      scenarios.push({
        scenario,
        passed: checks.filter((c) => c.status === 'SUCCESS').length,
        failed: checks.filter((c) => c.status === 'FAILURE').length,
        warnings: checks.filter((c) => c.status === 'WARNING').length,
        applies,
        note,
        failures: checks
          .filter((c) => c.status === 'FAILURE' || c.status === 'WARNING')
          .map((c) => `${c.status} ${c.id}: ${(c.errorMessage ?? '').slice(0, 200)}`),
      });
    }
    if (scenarios.length === 0) {
      throw new Error(`the conformance suite produced no results; its output:\n${output}`);
    }
    const authorizationServer = await runAuthorizationServer(card, options);
    return {
      summary: summarize(
        `@modelcontextprotocol/conformance ${await suiteVersion()}`,
        scenarios,
        await authScenarios(options),
        authorizationServer.summary,
      ),
      output: `${output}\n${authorizationServer.output}`,
    };
  } finally {
    proxy.close();
    await rm(outDir, { recursive: true, force: true });
  }
}

/** A result folder's checks.json, or undefined when the suite wrote none. */
async function readChecks(dir: string): Promise<Check[] | undefined> {
  const text = await readFile(join(dir, 'checks.json'), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as Check[]);
}

/** The suite's closing summary (`✓ name: 2 passed, 0 failed`), by scenario. */
function suiteSummary(output: string): Map<string, { passed: number; failed: number }> {
  const counts = new Map<string, { passed: number; failed: number }>();
  for (const match of output.matchAll(/^[✓✗] (\S+): (\d+) passed, (\d+) failed$/gm)) {
    counts.set(match[1] ?? '', { passed: Number(match[2]), failed: Number(match[3]) });
  }
  return counts;
}

/**
 * The suite's authorization server scenarios against the card's Keycloak: a public client registered through
 * anonymous DCR for the suite's callback listener, the suite run with it (`--resource` the MCP URL), and the login
 * it waits for — the authorization URL it prints — completed on Keycloak's form as alice (consent accepted); the
 * browser's last step, the redirect to the suite's callback, is a plain GET. The client is deleted afterwards with
 * its registration access token.
 */
export async function runAuthorizationServer(
  card: StackCard,
  options: { nodeBin?: string } = {},
): Promise<{ summary: AuthorizationServerSummary; output: string }> {
  const port = await freePort();
  const redirectUri = `http://127.0.0.1:${port}/callback`;
  const registration = await registerSuiteClient(card, redirectUri);
  const outDir = await mkdtemp(join(tmpdir(), 'mcp-conformance-as-'));
  try {
    const alice = card.users.find((u) => u.username === 'alice');
    if (!alice) throw new Error('the stack card has no user alice');
    const authorizationEndpoint = `${card.issuer}/protocol/openid-connect/auth?`;
    let login: Promise<string> | undefined;
    const output = await runSuite(
      [
        SUITE,
        'authorization',
        '--url',
        card.issuer,
        '--client-id',
        registration.clientId,
        '--resource',
        card.mcpUrl,
        '--port',
        String(port),
        '-o',
        outDir,
      ],
      options.nodeBin,
      (line) => {
        if (!login && line.startsWith(authorizationEndpoint)) login = completeLogin(line.trim(), alice);
      },
    );
    const loginResult = login ? await login : 'the suite printed no authorization URL';
    const results: AuthorizationServerResult[] = [];
    for (const dir of (await readdir(outDir)).sort()) {
      const scenario = /^authorization-server-(.+)-\d{4}-\d\d-\d\dT/.exec(dir)?.[1];
      if (!scenario) continue;
      const checks = (await readChecks(join(outDir, dir))) ?? [];
      results.push({
        scenario,
        passed: checks.filter((c) => c.status === 'SUCCESS').length,
        failed: checks.filter((c) => c.status === 'FAILURE').length,
        warnings: checks.filter((c) => c.status === 'WARNING').length,
        checks: checks.map((c) => ({
          id: c.id,
          status: c.status,
          ...(c.errorMessage ? { errorMessage: c.errorMessage.slice(0, 300) } : {}),
        })),
      });
    }
    if (results.length === 0) {
      throw new Error(
        `the authorization server scenarios produced no results (login: ${loginResult}):\n${output}`,
      );
    }
    return {
      summary: {
        command:
          'conformance authorization --url <issuer> --client-id <DCR client> --resource <MCP URL> --port <free port>',
        target: "the stack's Keycloak (the realm's issuer)",
        client: `a public client registered through anonymous DCR, redirect URI http://127.0.0.1:<port>/callback, deleted afterwards`,
        login:
          "alice on Keycloak's login form (consent accepted), driven over HTTP when the suite prints the URL",
        listed: (await listScenarios(options.nodeBin)).authorizationServer,
        results,
      },
      output: `${output}\n[login] ${loginResult}`,
    };
  } finally {
    await fetch(registration.uri, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${registration.token}` },
    }).catch(() => undefined);
    await rm(outDir, { recursive: true, force: true });
  }
}

async function registerSuiteClient(
  card: StackCard,
  redirectUri: string,
): Promise<{ clientId: string; token: string; uri: string }> {
  const response = await fetch(`${card.issuer}/clients-registrations/openid-connect`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'MCP conformance suite (authorization server scenarios)',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }),
  });
  const body = (await response.json()) as Record<string, string>;
  if (response.status !== 201 || !body.client_id) {
    throw new Error(
      `anonymous DCR refused the suite's client: HTTP ${response.status} ${JSON.stringify(body)}`,
    );
  }
  return {
    clientId: body.client_id,
    token: body.registration_access_token ?? '',
    uri: body.registration_client_uri ?? '',
  };
}

/** What a person does with the printed URL: log in on Keycloak's form, consent, and land on the callback. */
async function completeLogin(
  url: string,
  credentials: { username: string; password: string },
): Promise<string> {
  try {
    const jar = new CookieJar();
    const send = (target: string, init: RequestInit) => fetch(target, { ...init, redirect: 'manual' });
    const first = await send(url, { headers: { cookie: jar.header() } });
    const back = await passKeycloakForms(first, { jar, credentials, consent: 'accept', send });
    const location = back.headers.get('location');
    if (!location) return `Keycloak answered HTTP ${back.status} without a redirect`;
    const landed = await fetch(location);
    await landed.text();
    return `${credentials.username} logged in; the callback answered HTTP ${landed.status}`;
  } catch (error) {
    return `the login failed: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** The suite's CLI under Node 22; stdout and stderr together. `onLine` sees each stdout line as it comes. */
function runSuite(args: string[], nodeBin = node22Bin(), onLine?: (line: string) => void): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let text = '';
    let pending = '';
    const child = spawn(nodeBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString();
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine?.(line);
    });
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.once('error', reject);
    child.once('exit', () => resolve(text));
  });
}

/** `conformance list`, by section: server, client and (0.2.0 on) authorization server scenarios with their tags. */
async function listScenarios(nodeBin?: string): Promise<{
  listing: string;
  entries: { name: string; tags: string[]; side: 'client' | 'server' | 'authorization' }[];
  authorizationServer: string[];
}> {
  const listing = await runSuite([SUITE, 'list'], nodeBin);
  const entries: { name: string; tags: string[]; side: 'client' | 'server' | 'authorization' }[] = [];
  let side: 'client' | 'server' | 'authorization' | undefined;
  for (const line of listing.split('\n')) {
    if (/^Server scenarios/.test(line)) side = 'server';
    else if (/^Client scenarios/.test(line)) side = 'client';
    else if (/^Authorization server scenarios/.test(line)) side = 'authorization';
    const match = /^\s+- (\S+)(?: \[([^\]]*)\])?\s*$/.exec(line);
    if (!match?.[1] || !side) continue;
    entries.push({ name: match[1], tags: (match[2] ?? '').split(',').filter(Boolean), side });
  }
  return {
    listing,
    entries,
    authorizationServer: entries.filter((e) => e.side === 'authorization').map((e) => e.name),
  };
}

/**
 * Every `auth/*` scenario the installed suite lists (`conformance list`: name and spec versions, per side), each
 * with its explanation from AUTH_SCENARIOS (UNCLASSIFIED when it has none), and whether the suite's `client`
 * command can be pointed at an external server at all. Needs no stack.
 */
export async function authScenarios(options: { nodeBin?: string } = {}): Promise<AuthSummary> {
  const { listing, entries } = await listScenarios(options.nodeBin);
  const results: AuthScenarioResult[] = [];
  for (const entry of entries) {
    if (!entry.name.startsWith('auth/') || entry.side === 'authorization') continue;
    const explained = AUTH_SCENARIOS[entry.name];
    results.push({
      scenario: entry.name,
      specVersions: entry.tags,
      side: entry.side,
      applies: false,
      note: explained?.note ?? UNCLASSIFIED,
      serverSide: (explained?.serverSide ?? []).map(([test, what]) => ({ test, what })),
    });
  }
  if (results.length === 0) {
    throw new Error(`\`conformance list\` named no auth/* scenario; its output:\n${listing}`);
  }
  const clientHelp = await runSuite([SUITE, 'client', '--help'], options.nodeBin);
  if (!/--command\b/.test(clientHelp)) {
    throw new Error(`unexpected \`conformance client --help\` output:\n${clientHelp}`);
  }
  return {
    source: '`conformance list` of the installed suite',
    clientCommandTakesServerUrl: /--(server-)?url\b/.test(clientHelp),
    scenarios: results.length,
    results: results.sort((a, b) => a.scenario.localeCompare(b.scenario)),
  };
}

function summarize(
  suite: string,
  scenarios: ScenarioResult[],
  auth: AuthSummary,
  authorizationServer: AuthorizationServerSummary,
): ConformanceSummary {
  const sum = (rows: ScenarioResult[], key: 'passed' | 'failed' | 'warnings') =>
    rows.reduce((total, row) => total + row[key], 0);
  const applicable = scenarios.filter((s) => s.applies);
  return {
    suite,
    command: 'node --import tsx mcp-server/conformance/run.ts',
    target: 'the stack MCP server (native launcher), through a loopback proxy adding an M2M bearer token',
    scenarios: scenarios.length,
    checks: {
      passed: sum(scenarios, 'passed'),
      failed: sum(scenarios, 'failed'),
      warnings: sum(scenarios, 'warnings'),
    },
    applicable: {
      scenarios: applicable.length,
      passed: sum(applicable, 'passed'),
      failed: sum(applicable, 'failed'),
      warnings: sum(applicable, 'warnings'),
    },
    results: scenarios,
    auth,
    authorizationServer,
  };
}

/** results.json and results.md (the table results.md explains each scenario in), formatted by prettier. */
export async function writeResults(summary: ConformanceSummary): Promise<void> {
  await writeFormatted(RESULTS_JSON, JSON.stringify(summary, null, 2));
  const table = summary.results.map(
    (s) =>
      `| ${s.scenario} | ${s.passed} | ${s.failed} | ${s.warnings} | ${s.applies ? 'yes' : 'no'} | ${s.note}${
        s.failures.length > 0 && s.applies ? ` — ${s.failures.join('; ').replace(/\|/g, '\\|')}` : ''
      } |`,
  );
  await writeFormatted(
    RESULTS_MD,
    [
      '# MCP conformance results',
      '',
      `Suite: \`${summary.suite}\`, server scenarios (\`--suite all\`), against the stack's MCP server.`,
      'Reproduce: see [README.md](README.md). Generated by `run.ts`; do not edit by hand.',
      '',
      `All scenarios: ${summary.checks.passed} checks passed, ${summary.checks.failed} failed, ` +
        `${summary.checks.warnings} warnings (${summary.scenarios} scenarios).`,
      `Scenarios that apply to this server: ${summary.applicable.scenarios}; ${summary.applicable.passed} checks passed, ` +
        `${summary.applicable.failed} failed, ${summary.applicable.warnings} warnings.`,
      '',
      '| scenario | passed | failed | warnings | applies | why / what failed |',
      '| --- | --- | --- | --- | --- | --- |',
      ...table,
      '',
      '## Authorization scenarios',
      '',
      `The suite's \`auth/*\` scenarios (${summary.auth.scenarios}, from ${summary.auth.source}) are client ` +
        "scenarios: `conformance client` starts the scenario's own MCP server and authorization server on " +
        'loopback ports, passes their URL to the client under test and grades the requests that client sends them' +
        (summary.auth.clientCommandTakesServerUrl
          ? ' (this version of its `client` command also takes a server URL: check whether they still cannot run)'
          : ' (its `client` command takes no server URL)') +
        '. None of them can run against this server with Keycloak as the authorization server; each line says ' +
        'what it grades, why our stack cannot stand in for the suite, and which of our tests (under ' +
        '`mcp-server/test/`) exercises the server side of the same behaviour.',
      '',
      '| scenario | spec | applies | why it cannot run here | server side covered by |',
      '| --- | --- | --- | --- | --- |',
      ...summary.auth.results.map(
        (s) =>
          `| ${s.scenario} | ${s.specVersions.join(', ')} | ${s.applies ? 'yes' : 'no'} | ${escapeCell(s.note)} | ${
            s.serverSide.length === 0
              ? '—'
              : escapeCell(s.serverSide.map((c) => `\`${c.test}\` (${c.what})`).join('; '))
          } |`,
      ),
      '',
      '## Authorization server scenarios',
      '',
      `\`conformance authorization\` tests an authorization server itself; it ran against ${summary.authorizationServer.target} ` +
        `(\`${summary.authorizationServer.command}\`) with ${summary.authorizationServer.client}; the login it waits ` +
        `for: ${summary.authorizationServer.login}. Scenarios the installed suite lists: ` +
        `${summary.authorizationServer.listed.map((n) => `\`${n}\``).join(', ')}.`,
      '',
      '| authorization server scenario | passed | failed | warnings | checks |',
      '| --- | --- | --- | --- | --- |',
      ...summary.authorizationServer.results.map(
        (s) =>
          `| ${s.scenario} | ${s.passed} | ${s.failed} | ${s.warnings} | ${escapeCell(
            s.checks
              .map((c) => `${c.id} ${c.status}${c.errorMessage ? ` (${c.errorMessage})` : ''}`)
              .join('; '),
          )} |`,
      ),
      '',
    ].join('\n'),
  );
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** What results.md records: the suite (`@modelcontextprotocol/conformance x.y.z`) and its tables' scenarios. */
export function parseResultsMd(text: string): {
  suite: string;
  scenarios: string[];
  authScenarios: string[];
  authorizationServerScenarios: string[];
} {
  const suite = /^Suite: `([^`]+)`/m.exec(text)?.[1] ?? '';
  // Three tables, in this order: server scenarios, then the `auth/*` ones, then the authorization server ones.
  const [serverPart = '', rest = ''] = text.split(/^## Authorization scenarios$/m);
  const [authPart = '', authorizationServerPart = ''] = rest.split(/^## Authorization server scenarios$/m);
  const rows = (part: string, pattern: RegExp) =>
    [...part.matchAll(pattern)].map((m) => m[1] ?? '').filter((name) => !['scenario'].includes(name));
  return {
    suite,
    scenarios: rows(serverPart, /^\| ([a-z0-9][a-z0-9-]*) +\|/gm),
    authScenarios: rows(authPart, /^\| (auth\/[a-z0-9-]+) +\|/gm),
    authorizationServerScenarios: rows(authorizationServerPart, /^\| ([a-z0-9][a-z0-9-]*) +\|/gm),
  };
}

/** Written as the repository's prettier would format it, so `npm run format:check` stays green. */
async function writeFormatted(path: string, text: string): Promise<void> {
  await writeFile(path, await format(text, { ...(await resolveConfig(path)), filepath: path }));
}

export const UNCLASSIFIED = 'new scenario: classify it in conformance.ts';

/** Why a scenario does or does not apply to this server (its tools are whoami and usage; stateless; tools only). */
export function applicability(scenario: string): { applies: boolean; note: string } {
  const fixture =
    "needs a fixture tool of the suite's reference server (e.g. test_image_content); our server has only whoami, usage (and admin tools)";
  if (['server-initialize', 'ping', 'tools-list'].includes(scenario))
    return { applies: true, note: 'applies' };
  if (scenario === 'dns-rebinding-protection')
    return { applies: true, note: 'applies: /mcp must refuse a foreign Host/Origin (src/http/mcpCors.ts)' };
  if (
    scenario.startsWith('tools-call-') ||
    scenario === 'json-schema-2020-12' ||
    scenario.startsWith('elicitation-')
  )
    return { applies: false, note: fixture };
  if (scenario === 'logging-set-level')
    return {
      applies: false,
      note: 'the server does not declare the logging capability, so logging/setLevel is -32601',
    };
  if (scenario === 'completion-complete')
    return {
      applies: false,
      note: 'the server offers no prompts/resources to complete (no completions capability)',
    };
  if (scenario.startsWith('resources-'))
    return { applies: false, note: 'the server declares no resources capability' };
  if (scenario.startsWith('prompts-'))
    return { applies: false, note: 'the server declares no prompts capability' };
  if (scenario.startsWith('server-sse-'))
    return {
      applies: false,
      note: 'needs sessions and SSE streams; the server is stateless and answers JSON by design (GET /mcp is 405)',
    };
  if (scenario === 'server-session-lifecycle')
    return {
      applies: false,
      note: 'sessions (MCP-Session-Id) from initialize to DELETE: the server is stateless by design and sends no session id, which the suite reports as not applicable (INFO, no check)',
    };
  const draft =
    "a 2026-07-28 scenario (stateless lifecycle, per-request _meta), run at that revision: the server speaks MCP up to 2025-11-25 (the SDK's SUPPORTED_PROTOCOL_VERSIONS) and answers MCP-Protocol-Version 2026-07-28 with 400";
  if (
    [
      'server-stateless',
      'caching',
      'http-header-validation',
      'http-custom-header-server-validation',
      'sep-2164-resource-not-found',
    ].includes(scenario) ||
    scenario.startsWith('input-required-result-')
  )
    return { applies: false, note: draft };
  if (scenario.startsWith('tasks-'))
    return {
      applies: false,
      note: 'the tasks extension (2026-07-28 wire): the server declares no tasks capability and speaks MCP up to 2025-11-25',
    };
  if (scenario.startsWith('sep-2640-skills-'))
    return {
      applies: false,
      note: 'the skills extension (SEP-2640): the server offers no skills (tools only)',
    };
  return { applies: true, note: UNCLASSIFIED };
}

// Tests (paths under mcp-server/test) that exercise the server side of an auth scenario's behaviour.
const OAUTH_FLOW = 'e2e/oauthFlow.e2e.test.ts';
const SCOPES = 'integration/scopesAndStepUp.integration.test.ts';
const SDK_CLIENT = 'clients/sdkOAuthClient.test.ts';
const INSPECTOR = 'clients/inspector.test.ts';
const CLAUDE_CODE = 'clients/claudeCode.test.ts';
const CONSOLE = 'clients/console.test.ts';
const FASTMCP = 'clients/fastmcp.test.ts';
const MCP_REMOTE = 'clients/mcpRemote.test.ts';
const APP_UNIT = 'unit/app.test.ts';
const CIMD = 'integration/cimd.integration.test.ts';
const CIMD_AIR_GAPPED = 'integration/cimdAirGapped.integration.test.ts';

/**
 * Why each `auth/*` scenario of the suite cannot run against this server with Keycloak as the authorization
 * server — every one is a client scenario whose checks are made by the suite's own server and AS — and which of
 * our tests covers the server side. Keyed by the exact name `conformance list` gives: a scenario a new suite
 * version adds is UNCLASSIFIED (and fails the integration test) until it is explained here.
 */
export const AUTH_SCENARIOS: Record<string, { note: string; serverSide: [test: string, what: string][] }> = {
  'auth/metadata-default': {
    note: "grades the client's discovery (PRM at /.well-known/oauth-protected-resource/mcp named in WWW-Authenticate, the root PRM a trap; AS metadata at the AS root) and its DCR, authorization and token requests, all seen only by the suite's own server and AS; our server has this PRM layout, Keycloak's issuer has a path (/realms/mcp), and neither reports what a client sent",
    serverSide: [
      [OAUTH_FLOW, '1–5: 401 resource_metadata → PRM → Keycloak metadata → DCR → PKCE → token'],
      [SDK_CLIENT, 'the SDK client completes that discovery against this server'],
      [INSPECTOR, 'the same with Inspector v2'],
      [FASTMCP, 'the same with FastMCP'],
      [MCP_REMOTE, 'the same with mcp-remote'],
    ],
  },
  'auth/metadata-var1': {
    note: 'PRM path-based but not named in WWW-Authenticate, AS metadata only at /.well-known/openid-configuration: our 401 always names resource_metadata, and Keycloak serves both the RFC 8414 and the OIDC document',
    serverSide: [
      [SCOPES, 'the exact 401 challenge: resource_metadata and scope'],
      [OAUTH_FLOW, "2: the SDK's discovery order finds Keycloak's metadata"],
    ],
  },
  'auth/metadata-var2': {
    note: "PRM only at the root /.well-known/oauth-protected-resource and not in WWW-Authenticate, AS metadata path-inserted for an issuer with a path: our server also answers the root PRM and Keycloak's /.well-known/oauth-authorization-server/realms/mcp is that form, but what is graded is the client's lookup order, seen only by the suite's servers",
    serverSide: [
      [APP_UNIT, 'the RFC 9728 document at the root and at the path-inserted forms'],
      [OAUTH_FLOW, '2: PRM → Keycloak metadata'],
    ],
  },
  'auth/metadata-var3': {
    note: 'PRM at a custom URL known only from WWW-Authenticate, AS metadata at the issuer URL + /.well-known/openid-configuration (the form Keycloak uses): our PRM is at the standard path-based URL, and the client reading resource_metadata is what is graded',
    serverSide: [[OAUTH_FLOW, '1: resource_metadata in the 401 is the URL the PRM is served at']],
  },
  'auth/basic-cimd': {
    note: "the AS advertises client_id_metadata_document_supported and the client must use its document's URL as client_id (SEP-991) instead of DCR, as seen by the suite's AS; the stack's Keycloak now advertises it too (docs/cimd.md), but how a client got its id never reaches the resource server",
    serverSide: [
      [
        CIMD,
        'a document URL as client_id: Keycloak fetches it, creates the client, alice logs in; the SDK client with clientMetadataUrl',
      ],
      [CLAUDE_CODE, 'Claude Code with its own document URL, pinned and fetched'],
      [CIMD_AIR_GAPPED, 'pre-registered document URLs with no route out'],
    ],
  },
  'auth/scope-from-www-authenticate': {
    note: 'the 401 challenge carries scope and the client must ask for it; our 401 does carry scope="mcp:tools", but the client\'s authorization request is seen only by the suite\'s AS',
    serverSide: [
      [SCOPES, '401 without a token: exactly resource_metadata and scope="mcp:tools"'],
      [
        INSPECTOR,
        'the scopes a real client then asks Keycloak for, checked by support/authorizationRequest.ts',
      ],
      [CLAUDE_CODE, 'the same for Claude Code'],
    ],
  },
  'auth/scope-from-scopes-supported': {
    note: "no scope in the challenge, so the client must ask for the PRM's scopes_supported: our 401 always carries scope, so the situation never arises here",
    serverSide: [[APP_UNIT, 'the PRM lists scopes_supported mcp:tools, mcp:admin']],
  },
  'auth/scope-omitted-when-undefined': {
    note: 'neither a challenge scope nor scopes_supported, and the client must send no scope: our server always publishes both',
    serverSide: [],
  },
  'auth/scope-step-up': {
    note: "a call answers 403 insufficient_scope with a wider scope and the client must re-authorize asking for it, checked by the suite's AS; our server does this for reset_usage",
    serverSide: [
      [SCOPES, '403 insufficient_scope scope="mcp:tools mcp:admin", then step-up through Keycloak'],
      [CONSOLE, 'the keycloak-js console steps up on that 403'],
    ],
  },
  'auth/scope-retry-limit': {
    note: "the suite's server answers 403 insufficient_scope however often the client re-authorizes, and the client must give up; with Keycloak that is bob, who is never granted mcp:admin, but the client's retries are what is graded",
    serverSide: [
      [SCOPES, 'bob asks for mcp:admin, gets a token without it, and gets 403 again'],
      [CONSOLE, 'step-up cannot get bob mcp:admin'],
    ],
  },
  'auth/token-endpoint-auth-basic': {
    note: "the AS lists only client_secret_basic and checks the client's token request uses it: Keycloak lists five methods, so the choice is never forced, and client authentication is between client and AS",
    serverSide: [
      [
        OAUTH_FLOW,
        '9: the M2M client, authenticated at Keycloak by client_secret_basic, calls tools with its token',
      ],
    ],
  },
  'auth/token-endpoint-auth-post': {
    note: "the AS lists only client_secret_post and checks the client's token request uses it: Keycloak lists five methods, so the choice is never forced, and client authentication is between client and AS",
    serverSide: [],
  },
  'auth/token-endpoint-auth-none': {
    note: 'the AS lists only none (public client) and checks the client sends no secret: Keycloak lists five methods, and client authentication is between client and AS',
    serverSide: [
      [OAUTH_FLOW, '3–5: a public client registered by DCR, PKCE, token exchange without a secret'],
    ],
  },
  'auth/pre-registration': {
    note: "the AS has no registration endpoint and the client must use the confidential client the suite hands it (client_secret_basic): the stack's Keycloak offers DCR, and its seeded presets are public clients",
    serverSide: [
      [CLAUDE_CODE, 'the seeded claude-code client, no DCR'],
      [INSPECTOR, 'the seeded mcp-inspector client, no DCR'],
    ],
  },
  'auth/2025-03-26-oauth-metadata-backcompat': {
    note: 'the 2025-03-26 layout: no PRM, the MCP server is its own AS with metadata at its root; ours is a 2025-11-25 resource server whose PRM names Keycloak (404 at /.well-known/oauth-authorization-server)',
    serverSide: [[OAUTH_FLOW, '1–2: the 2025-11-25 discovery instead']],
  },
  'auth/2025-03-26-oauth-endpoint-fallback': {
    note: 'no metadata at all, and the client must fall back to /authorize, /token and /register on the MCP server (2025-03-26): our server is not an AS and has none of them',
    serverSide: [],
  },
  'auth/resource-mismatch': {
    note: "the PRM names a foreign resource and the client must refuse to authorize: our PRM's resource is exactly our MCP URL",
    serverSide: [[OAUTH_FLOW, '2: the PRM resource is the MCP URL; 8a: a token for another audience → 401']],
  },
  'auth/offline-access-scope': {
    note: "the AS lists offline_access and refresh_token, and the client should register the refresh_token grant and may ask for offline_access (SEP-2207), as seen by the suite's AS; Keycloak does list both",
    serverSide: [
      [OAUTH_FLOW, '3: DCR with refresh_token and offline_access'],
      [SDK_CLIENT, 'refresh after the access token expires; a new login after logout'],
      [CONSOLE, 'refresh_token grant'],
    ],
  },
  'auth/offline-access-not-supported': {
    note: "the AS leaves offline_access out of scopes_supported and the client must not ask for it: the stack's Keycloak lists offline_access",
    serverSide: [],
  },
  'auth/client-credentials-jwt': {
    note: "client_credentials with private_key_jwt (ES256) under a key and client id the suite hands the client, the assertion verified by the suite's AS: the stack's M2M client authenticates with a secret, and the resource server only sees the token",
    serverSide: [[OAUTH_FLOW, '9: a client_credentials token from Keycloak calls tools']],
  },
  'auth/client-credentials-basic': {
    note: "client_credentials with client_secret_basic under the suite's client id and secret, verified by the suite's AS: what the stack's M2M client does at Keycloak, but only the suite's AS can grade the request",
    serverSide: [
      [OAUTH_FLOW, '9: the M2M client, authenticated by client_secret_basic, calls tools'],
      ['integration/conformance.integration.test.ts', "this suite's server scenarios run with that token"],
    ],
  },
  'auth/enterprise-managed-authorization': {
    note: 'SEP-990 enterprise-managed authorization (extension): the suite plays an IdP (token exchange to an ID-JAG) and an AS (jwt-bearer grant); the stack configures no enterprise IdP trust in Keycloak',
    serverSide: [],
  },
  'auth/authorization-server-migration': {
    note: "the PRM's authorization_servers changes to a new issuer and the client must register anew there, never reusing the old client id (SEP-2352), as seen by the suite's two ASes; our PRM names the one Keycloak issuer",
    serverSide: [[APP_UNIT, 'the PRM names authorization_servers from OIDC_ISSUER']],
  },
  'auth/iss-supported': {
    note: "the AS advertises and sends iss in the authorization response (RFC 9207) and the client must accept it; Keycloak does both, and the suite's authorization-code-grant scenario checks its iss against the metadata (third table), but the client's handling is graded by the suite's AS",
    serverSide: [[OAUTH_FLOW, '5: the authorization response from Keycloak, iss included']],
  },
  'auth/iss-not-advertised': {
    note: 'an AS that neither advertises nor sends iss, and the client must proceed: Keycloak advertises authorization_response_iss_parameter_supported and sends iss',
    serverSide: [],
  },
  'auth/iss-supported-missing': {
    note: 'the AS advertises iss but leaves it out of the redirect, and the client must refuse: a broken AS the suite plays; Keycloak always sends it',
    serverSide: [],
  },
  'auth/iss-wrong-issuer': {
    note: "the redirect's iss names another issuer and the client must refuse: a broken or mixed-up AS the suite plays; Keycloak sends its own issuer",
    serverSide: [],
  },
  'auth/iss-unexpected': {
    note: 'an iss the AS did not advertise, not matching the recorded issuer, and the client must refuse: the suite plays that AS',
    serverSide: [],
  },
  'auth/iss-normalized': {
    note: 'an iss equal to the issuer only after URL normalization, and the client must compare strings exactly: the suite plays that AS; Keycloak sends its issuer verbatim',
    serverSide: [],
  },
  'auth/metadata-issuer-mismatch': {
    note: "AS metadata whose issuer differs from the URL it was fetched for, and the client must refuse it: the suite serves that metadata; Keycloak's issuer matches its metadata URL (checked by the suite's authorization-server-metadata-endpoint scenario, third table)",
    serverSide: [],
  },
  'auth/dpop': {
    note: "DPoP-bound tokens (SEP-1932, extension): the client must prove possession at the suite's token endpoint and on each POST /mcp with the DPoP scheme; the stack issues and accepts Bearer tokens only",
    serverSide: [],
  },
  'auth/dpop-nonce': {
    note: 'the same with server-supplied DPoP nonces (RFC 9449 §8, §9): the stack does not use DPoP',
    serverSide: [],
  },
  'auth/wif-jwt-bearer': {
    note: "workload identity federation (SEP-1933, extension): the client presents a workload JWT with the jwt-bearer grant at the suite's AS; the stack's machine client uses client_credentials with a secret",
    serverSide: [[OAUTH_FLOW, '9: a client_credentials token from Keycloak calls tools']],
  },
};
