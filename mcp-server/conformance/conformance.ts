// The official MCP conformance suite (npm @modelcontextprotocol/conformance, server scenarios) against a running
// stack's MCP server, as a module: run.ts writes results.md + results.json from it, and
// mcp-server/test/integration/conformance.integration.test.ts asserts on it in `npm test`.
//
// The suite's client sends no credentials, and our server is an OAuth resource server: a small loopback proxy
// adds `Authorization: Bearer <token>` (the seeded M2M client's client_credentials token, aud = the MCP URL)
// and forwards everything else unchanged — Host and Origin included, so the DNS-rebinding scenario still sees
// what the suite sent. The suite needs Node ≥ 22 (fs.globSync): the Node 22 binary that
// mcp-server/test/clients/setup-node22-tools.sh provisions (CONFORMANCE_NODE overrides it).
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import type { StackCard } from '../../seed/src/stackCard.ts';
import { node22Bin } from '../test/clients/support/node22.ts';
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
  let token = await clientCredentialsToken(tokenEndpoint, m2m);
  let tokenExpiresAt = Date.now() + token.expires_in * 1000;

  const target = new URL(card.mcpUrl);
  const proxy = createServer(async (req, res) => {
    if (Date.now() > tokenExpiresAt - 30_000) {
      token = await clientCredentialsToken(tokenEndpoint, m2m);
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
    const output = await new Promise<string>((resolve, reject) => {
      let text = '';
      const child = spawn(options.nodeBin ?? node22Bin(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.stderr.on('data', (d: Buffer) => (text += d.toString()));
      child.once('error', reject);
      child.once('exit', () => resolve(text));
    });

    const scenarios: ScenarioResult[] = [];
    for (const dir of (await readdir(outDir)).sort()) {
      const scenario = /^server-(.+)-\d{4}-\d\d-\d\dT/.exec(dir)?.[1];
      if (!scenario) continue;
      const checks = JSON.parse(await readFile(join(outDir, dir, 'checks.json'), 'utf8')) as Check[];
      const { applies, note } = applicability(scenario);
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
    return {
      summary: summarize(`@modelcontextprotocol/conformance ${await suiteVersion()}`, scenarios),
      output,
    };
  } finally {
    proxy.close();
    await rm(outDir, { recursive: true, force: true });
  }
}

function summarize(suite: string, scenarios: ScenarioResult[]): ConformanceSummary {
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
    ].join('\n'),
  );
}

/** What results.md records: the suite (`@modelcontextprotocol/conformance x.y.z`) and its table's scenarios. */
export function parseResultsMd(text: string): { suite: string; scenarios: string[] } {
  const suite = /^Suite: `([^`]+)`/m.exec(text)?.[1] ?? '';
  const scenarios = [...text.matchAll(/^\| ([a-z0-9][a-z0-9-]*) +\|/gm)].map((m) => m[1] ?? '');
  return { suite, scenarios: scenarios.filter((s) => s !== 'scenario') };
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
    return { applies: true, note: 'applies: /mcp must refuse a foreign Host/Origin (DESIGN §5)' };
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
  return { applies: true, note: UNCLASSIFIED };
}
