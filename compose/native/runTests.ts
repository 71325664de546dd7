// `npm test`: every test in one `node --test` run (one summary), against a real stack — reused when one is
// running (found through the stack card), otherwise started here in the background and stopped afterwards.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { readStackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { isAlive, readLock } from './launcherLock.ts';
import { say, seconds } from './output.ts';
import { INSTALL_SCRIPT, REPO_ROOT, stackPaths } from './paths.ts';
import { findOnPath, provisionWithApt } from './prerequisites.ts';
import { httpOk } from './readiness.ts';
import { loadSettings } from './settings.ts';
import { ensureTestCa, testCaDir } from './testCa.ts';

const TEST_DIRS = [
  'mcp-server/test/e2e',
  'mcp-server/test/unit',
  'seed/test',
  'compose/test',
  'mcp-server/test/integration',
  // Every attack of the security review replayed against the real stack (issue 11): each asserts the refusal.
  'mcp-server/test/attacks',
  'mcp-server/test/clients',
  'seed/test/e2e',
];

function run(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  command = process.execPath,
): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: 'inherit' });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function testFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const dir of TEST_DIRS) {
    const names = await readdir(join(REPO_ROOT, dir)).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.endsWith('.test.ts')).sort()) {
      files.push(relative(REPO_ROOT, join(REPO_ROOT, dir, name)));
    }
  }
  return files;
}

async function runningStack(cardPath: string, lockPath: string): Promise<boolean> {
  const lock = await readLock(lockPath);
  const card = await readStackCard(cardPath).catch(() => undefined);
  if (!lock || !isAlive(lock.pid) || card?.status !== 'ready' || !card.mcpHealthUrl) return false;
  return (await httpOk(card.mcpHealthUrl)()) === true;
}

/** The TAP reporter's own closing counts (`# pass N`, `# fail N` + `# cancelled N`). */
async function tapCounts(path: string): Promise<{ passed: number; failed: number }> {
  const tap = await readFile(path, 'utf8').catch(() => '');
  const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
  return { passed: count('pass'), failed: count('fail') + count('cancelled') };
}

/**
 * The client tests need Debian's Chromium, a Python venv with FastMCP, Node 22 with MCP Inspector v2 (also
 * used by the conformance test) and Claude Code's native build, the directory test Debian's slapd and
 * ldap-utils: provisioned here when missing, the way `npm start` provisions Valkey, so `npm ci && npm test`
 * works on a fresh machine.
 */
async function provisionClientTools(): Promise<void> {
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  // The directory test runs Debian's slapd and ldap-utils (seed/test/e2e/support/slapd.ts).
  const ldap = (await findOnPath('slapd')) && (await findOnPath('ldapadd'));
  if ((!existsSync(chromium) || !ldap) && !(await provisionWithApt(INSTALL_SCRIPT, say))) {
    if (!existsSync(chromium)) {
      say(`no Chromium at ${chromium}: the browser tests will fail; run \`sudo bash ${INSTALL_SCRIPT}\``);
    }
    if (!ldap) say(`no slapd or ldapadd: the directory test will fail; run \`sudo bash ${INSTALL_SCRIPT}\``);
  }
  const venvScript = join(REPO_ROOT, 'mcp-server/test/clients/setup-fastmcp-venv.sh');
  if ((await run([venvScript], process.env, 'bash')) !== 0) {
    say('the FastMCP venv could not be created: the FastMCP client test will fail (see the lines above)');
  }
  const node22Script = join(REPO_ROOT, 'mcp-server/test/clients/setup-node22-tools.sh');
  if ((await run([node22Script], process.env, 'bash')) !== 0) {
    say('Node 22 or MCP Inspector v2 could not be installed: the Inspector and conformance tests will fail');
  }
  const claudeCodeScript = join(REPO_ROOT, 'mcp-server/test/clients/setup-claude-code.sh');
  if ((await run([claudeCodeScript], process.env, 'bash')) !== 0) {
    say('Claude Code could not be installed: the Claude Code client test will fail (see the lines above)');
  }
}

const settings = loadSettings();
const paths = stackPaths(settings.stackDir);
await provisionClientTools();
let startedHere = false;
if (await runningStack(paths.card, paths.lock)) {
  say(`reusing the running stack described by ${paths.card}`);
} else {
  const started = Date.now();
  say('no running stack: starting one in the background for this test run');
  // Keycloak trusts the test CA, whose certificates the tests' HTTPS client ID metadata documents carry.
  const env = {
    ...process.env,
    KC_TRUSTSTORE_PATHS:
      process.env.KC_TRUSTSTORE_PATHS || (await ensureTestCa(testCaDir(settings.stackDir))),
  };
  const code = await run(['--import', 'tsx', join(REPO_ROOT, 'compose/native/start.ts'), '--detach'], env);
  if (code !== 0) {
    say(`the stack did not start (exit ${code}); see the messages above`);
    process.exit(code);
  }
  startedHere = true;
  say(`stack started in ${seconds(Date.now() - started)}`);
}

// node --test sorts the files it is given, so the OAuth flow runs in a first batch of its own: its first
// authenticated tool call then measures the cold start, not the duration of the other suites.
const files = await testFiles();
const firstBatch = files.filter((file) => file.startsWith('mcp-server/test/e2e/'));
const batches = [firstBatch, files.filter((file) => !firstBatch.includes(file))].filter((b) => b.length > 0);
await mkdir(paths.logs, { recursive: true });
let code = 0;
const total = { passed: 0, failed: 0 };
try {
  for (const [index, batch] of batches.entries()) {
    const tapFile = join(paths.logs, `test-results-${index + 1}.tap`);
    // Spec output for people, TAP to a file for the closing `N passed, N failed` line CI reads.
    const batchCode = await run(
      [
        '--import',
        'tsx',
        '--test',
        '--test-reporter=spec',
        '--test-reporter-destination=stdout',
        '--test-reporter=tap',
        `--test-reporter-destination=${tapFile}`,
        ...batch,
      ],
      {
        ...process.env,
        STACK_CARD_PATH: paths.card,
        MCP_STACK_STARTED_BY_TEST: startedHere ? '1' : '0',
      },
    );
    const counts = await tapCounts(tapFile);
    total.passed += counts.passed;
    total.failed += counts.failed;
    if (batchCode !== 0) code = batchCode;
  }
  console.log(`${total.passed} passed, ${total.failed} failed`);
} finally {
  if (startedHere && process.env.KEEP_STACK !== '1') {
    say('stopping the stack this run started (KEEP_STACK=1 keeps it)');
    await run(['--import', 'tsx', join(REPO_ROOT, 'compose/native/stop.ts')]);
  }
}
process.exit(code);
