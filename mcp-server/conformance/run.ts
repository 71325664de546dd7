// Runs the official MCP conformance suite against the stack's MCP server and rewrites results.md +
// results.json here (the server scenarios' results, and the suite's auth/* client scenarios with why each
// cannot run against this server) (the logic: conformance.ts; `npm test` asserts on the same run in
// mcp-server/test/integration/conformance.integration.test.ts). Node 22 comes from
// mcp-server/test/clients/setup-node22-tools.sh (CONFORMANCE_NODE overrides it):
//
//   bash mcp-server/test/clients/setup-node22-tools.sh
//   STACK_CARD_PATH=.stack/stack.json node --import tsx mcp-server/conformance/run.ts
import { join } from 'node:path';
import { readStackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { assertNode22Tools } from '../test/clients/support/node22.ts';
import { CONFORMANCE_DIR, RESULTS_MD, runConformance, writeResults } from './conformance.ts';

assertNode22Tools();
const cardPath = process.env.STACK_CARD_PATH ?? join(CONFORMANCE_DIR, '..', '..', '.stack', 'stack.json');
const card = await readStackCard(cardPath);
if (!card) throw new Error(`no stack card at ${cardPath}: start a stack with \`npm start\``);
const { summary } = await runConformance(card);
await writeResults(summary);
console.log(
  `conformance: ${summary.checks.passed} passed, ${summary.checks.failed} failed, ${summary.checks.warnings} warnings; ` +
    `applicable scenarios: ${summary.applicable.passed} passed, ${summary.applicable.failed} failed; ` +
    `${summary.auth.scenarios} auth/* (client) scenarios explained → ${RESULTS_MD}`,
);
