// The official MCP conformance suite (npm @modelcontextprotocol/conformance, server scenarios) against the running
// stack, the run mcp-server/conformance/run.ts records in results.md: every scenario that applies to this
// server passes, and the suite still has exactly the scenarios results.md explains — a scenario added (or
// dropped) by a new suite version fails here until run.ts has recorded it and conformance.ts classifies it.
// The same holds for the suite's auth/* scenarios (client scenarios, listed by the installed suite itself): each
// must be explained in conformance.ts (AUTH_SCENARIOS) and recorded in results.md's second table. The suite's
// authorization server scenarios run against the stack's Keycloak (a DCR client, alice's login driven over HTTP on
// Keycloak's form when the suite prints the URL): each passes with no failure and no warning, and results.md's
// third table records exactly the ones the suite lists.
// Needs Node 22 (mcp-server/test/clients/setup-node22-tools.sh; npm test runs it).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import {
  AUTH_SCENARIOS,
  parseResultsMd,
  RESULTS_MD,
  runConformance,
  UNCLASSIFIED,
  type ConformanceSummary,
} from '../../conformance/conformance.ts';
import { assertNode22Tools } from '../clients/support/node22.ts';
import { loadStack } from '../e2e/support/stack.ts';

describe('MCP conformance suite (server scenarios) against the stack', () => {
  let summary: ConformanceSummary;
  let output: string;

  before(async () => {
    assertNode22Tools();
    ({ summary, output } = await runConformance(await loadStack()));
  });

  it('runs the suite version and exactly the scenarios results.md explains', async () => {
    const recorded = parseResultsMd(await readFile(RESULTS_MD, 'utf8'));
    const regenerate = 'run `node --import tsx mcp-server/conformance/run.ts` and classify what is new';
    assert.equal(summary.suite, recorded.suite, `the suite changed version: ${regenerate}`);
    assert.deepEqual(
      summary.results.map((s) => s.scenario).sort(),
      [...recorded.scenarios].sort(),
      `the suite's scenarios differ from results.md: ${regenerate}`,
    );
    const unclassified = summary.results.filter((s) => s.note === UNCLASSIFIED).map((s) => s.scenario);
    assert.deepEqual(unclassified, [], 'scenarios conformance.ts does not classify yet');
  });

  it("lists exactly the installed suite's auth/* scenarios, each explained in conformance.ts and results.md", async () => {
    const { auth } = summary;
    const installed = auth.results.map((s) => s.scenario).sort();
    const regenerate =
      'explain it in AUTH_SCENARIOS (conformance.ts), then run `node --import tsx mcp-server/conformance/run.ts`';
    assert.ok(installed.length > 0, 'the suite listed no auth/* scenario');
    assert.deepEqual(
      installed,
      Object.keys(AUTH_SCENARIOS).sort(),
      `the suite's auth/* scenarios differ from the ones conformance.ts explains: ${regenerate}`,
    );
    const unexplained = auth.results.filter((s) => s.note === UNCLASSIFIED).map((s) => s.scenario);
    assert.deepEqual(unexplained, [], 'auth scenarios conformance.ts does not explain yet');
    const recorded = parseResultsMd(await readFile(RESULTS_MD, 'utf8'));
    assert.deepEqual(
      installed,
      [...recorded.authScenarios].sort(),
      `results.md's auth table is stale: ${regenerate}`,
    );
    // What makes every one of them inapplicable: the suite plays server and AS, and cannot be aimed elsewhere.
    const serverSide = auth.results.filter((s) => s.side !== 'client').map((s) => s.scenario);
    assert.deepEqual(serverSide, [], 'a server-side auth scenario: run it against this server');
    assert.equal(
      auth.clientCommandTakesServerUrl,
      false,
      '`conformance client` now takes a server URL: check whether auth scenarios can run against this server',
    );
    const testDir = join(dirname(fileURLToPath(import.meta.url)), '..');
    for (const s of auth.results) {
      assert.equal(s.applies, false, s.scenario);
      for (const { test } of s.serverSide)
        assert.ok(existsSync(join(testDir, test)), `${s.scenario}: no ${test}`);
    }
  });

  it("runs the suite's authorization server scenarios against Keycloak: every one passes, no warning", async () => {
    const { authorizationServer } = summary;
    const ran = authorizationServer.results.map((s) => s.scenario).sort();
    assert.deepEqual(
      ran,
      [...authorizationServer.listed].sort(),
      `ran other scenarios than listed:\n${output}`,
    );
    assert.deepEqual(ran, ['authorization-code-grant', 'authorization-server-metadata-endpoint']);
    for (const s of authorizationServer.results) {
      assert.ok(s.passed > 0, `${s.scenario}: no check passed\n${JSON.stringify(s.checks)}\n${output}`);
      assert.deepEqual(
        s.checks.filter((c) => c.status !== 'SUCCESS'),
        [],
        `${s.scenario}: checks that did not succeed`,
      );
    }
    // Keycloak's metadata advertises client ID metadata documents (feature cimd, docs/cimd.md): no warning.
    const metadata = authorizationServer.results.find(
      (s) => s.scenario === 'authorization-server-metadata-endpoint',
    );
    assert.ok(
      metadata?.checks.some((c) => c.id === 'authorization-server-metadata-cimd' && c.status === 'SUCCESS'),
    );
    const recorded = parseResultsMd(await readFile(RESULTS_MD, 'utf8'));
    assert.deepEqual(
      [...recorded.authorizationServerScenarios].sort(),
      ran,
      "results.md's authorization server table is stale: run `node --import tsx mcp-server/conformance/run.ts`",
    );
  });

  it('passes every scenario that applies to this server, without failures or warnings', () => {
    const applicable = summary.results.filter((s) => s.applies);
    assert.ok(applicable.length > 0, `no applicable scenario ran:\n${output}`);
    for (const s of applicable) {
      assert.ok(s.passed > 0, `${s.scenario}: no check passed`);
      assert.deepEqual(s.failures, [], `${s.scenario} failed`);
    }
    assert.deepEqual(applicable.map((s) => s.scenario).sort(), [
      'dns-rebinding-protection',
      'ping',
      'server-initialize',
      'tools-list',
    ]);
  });
});
