// Client ID metadata documents where Keycloak cannot fetch them (docs/cimd.md, "Air-gapped"): a PRIVATE native
// stack in a network namespace with only loopback (`unshare --net`, lo brought up with `ip`), started and driven
// from inside it by support/airGappedLogins.ts. VS Code's and Claude Code's document URLs, which the seed
// pre-registers (presets vscode-cimd, claude-code-cimd), log alice and bob in through Keycloak's form with PKCE,
// each at the redirect URI its host uses, and whoami sees the document URL as the client; a document URL nobody
// pre-registered gets Keycloak's error page, since the fetch cannot leave the namespace. Needs root (or
// unprivileged user namespaces) and iproute2. Starts Keycloak once: 34–64 s measured on the shared 2 cores.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLAUDE_CODE_DOCUMENT_URL, VSCODE_DOCUMENT_URL } from '@mcp-keycloak-stack/seed/clients/presets';
import { REPO_ROOT } from '../e2e/support/stack.ts';
import type { AirGappedResult } from './support/airGappedLogins.ts';

/** `unshare --net` as root; elsewhere with a user namespace of its own (mapped root), if the kernel allows it. */
const UNSHARE = process.getuid?.() === 0 ? ['--net'] : ['--net', '--map-root-user'];

function inNamespace(
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string; result?: AirGappedResult }> {
  return new Promise((resolve, reject) => {
    const inner = `ip link set lo up && exec "${process.execPath}" --import tsx mcp-server/test/integration/support/airGappedLogins.ts`;
    const child = spawn('unshare', [...UNSHARE, '--', 'sh', '-c', inner], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 900_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const line = output.split('\n').find((l) => l.startsWith('AIRGAP_RESULT '));
      resolve({
        code,
        output,
        result: line ? (JSON.parse(line.slice('AIRGAP_RESULT '.length)) as AirGappedResult) : undefined,
      });
    });
  });
}

describe('pre-registered client ID metadata documents with no route out (network namespace, loopback only)', () => {
  let work: string;
  let env: NodeJS.ProcessEnv;
  let run: Awaited<ReturnType<typeof inNamespace>>;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'mcp-cimd-airgap-'));
    env = {
      ...process.env,
      STACK_DIR: join(work, 'stack'),
      // A namespace of its own: the default ports are free there.
      KC_PORT: '8080',
      KC_MANAGEMENT_PORT: '9000',
      MCP_PORT: '3000',
      MCP_METRICS_PORT: '9464',
      VALKEY_PORT: '6379',
      MCP_UPSTREAMS_FILE: '', // the built-in tools only: no upstream processes
      KC_TRUSTSTORE_PATHS: '',
      SEED_PRESETS: 'all',
      SEED_CIMD_TRUSTED_DOMAINS: '',
      SEED_CIMD_LINK_DOMAINS: '',
    };
    run = await inNamespace(env);
  });
  after(async () => {
    // The inner script stops its stack; should it have died first, its processes are stopped by pid here.
    await new Promise<void>((resolve) => {
      const stop = spawn(process.execPath, ['--import', 'tsx', 'compose/native/stop.ts'], {
        cwd: REPO_ROOT,
        env,
        stdio: 'ignore',
      });
      stop.once('exit', () => resolve());
      stop.once('error', () => resolve());
    });
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('ran: the stack started inside the namespace and the logins finished', (t) => {
    assert.equal(run.code, 0, run.output.slice(-6000));
    assert.ok(run.result, run.output.slice(-6000));
    t.diagnostic(
      `stack started in ${run.result.startSeconds}s; from inside: fetch ${run.result.outside.dns}, ` +
        `TCP 1.1.1.1:443 ${run.result.outside.tcp}`,
    );
  });

  it('nothing outside is reachable from there: no name resolution, no route', () => {
    const { outside } = run.result ?? { outside: { dns: '', tcp: '' } };
    assert.match(outside.dns, /ENOTFOUND|EAI_AGAIN/, outside.dns);
    assert.match(outside.tcp, /ENETUNREACH|EHOSTUNREACH/, outside.tcp);
  });

  it('VS Code’s and Claude Code’s document URLs log in as pre-registered clients (whoami names the URL)', () => {
    const logins = run.result?.logins ?? [];
    assert.deepEqual(
      logins.map((l) => [l.document, l.username]),
      [
        [VSCODE_DOCUMENT_URL, 'alice'],
        [CLAUDE_CODE_DOCUMENT_URL, 'bob'],
      ],
    );
    for (const login of logins) {
      assert.equal(login.azp, login.document);
      assert.equal(login.whoamiClientId, login.document);
    }
  });

  it('a document URL nobody pre-registered: Keycloak cannot fetch it and shows its error page (400)', () => {
    const unpinned = run.result?.unpinned;
    assert.equal(unpinned?.status, 400);
    assert.equal(unpinned?.message, 'Client Metadata fetch failed');
  });
});
