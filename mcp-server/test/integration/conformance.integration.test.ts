// The official MCP conformance suite (npm @modelcontextprotocol/conformance, server scenarios) against the running
// stack, the run mcp-server/conformance/run.ts records in results.md: every scenario that applies to this
// server passes, and the suite still has exactly the scenarios results.md explains — a scenario added (or
// dropped) by a new suite version fails here until run.ts has recorded it and conformance.ts classifies it.
// Needs Node 22 (mcp-server/test/clients/setup-node22-tools.sh; npm test runs it).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import {
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
