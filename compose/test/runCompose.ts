// `npm run test:compose`: the compose stack, verified end to end on a local Docker engine with images built
// offline. Phases (each timed): engine → offline images → `.env` refusal check (admin and Valkey passwords) →
// up + healthy + both one-shots (seed, stack-ready) done + the janitor's first prune → the same end-to-end
// suite as `npm test` (stack card mode "compose", marked ready by stack-ready) + restart and Valkey-auth checks →
// air-gap bundle round trip (save, remove images, load, up again), or with TLS the proxy's per-address rate
// limits → down. Everything runs on its own project name, ports and state folder, so it never meets a native
// stack or a user's `docker compose up`.
//
// Knobs: COMPOSE_TEST_PORTS_BASE (2 → Keycloak 28080, management 29000, MCP 23000, Valkey 26379: below the
// ephemeral port range, so no outgoing connection holds one of them when compose publishes it),
// COMPOSE_TEST_BUNDLE=0 (skip the bundle round trip), COMPOSE_TEST_KEEP=1 (leave the stack up),
// COMPOSE_TEST_COMPOSE=v2 (Compose v2 built by compose/test/setup-compose-v2.sh, as a plugin in the cache) or
// v1 (Debian's docker-compose 1.29); `npm run test:compose` runs both, v2 first.
// COMPOSE_CMD="docker compose" to force one Compose (default: v2 when present, else docker-compose 1.29),
// COMPOSE_TEST_TLS=1 (the same run through compose/overlays/tls.yml: every public URL https, local CA),
// COMPOSE_TEST_STACK_OWNER=uid:gid (who owns the state folder at `up`, as `mkdir -p .stack` by that person
// would leave it; default: the runner, and 1000:1000 when the runner is root, so a root run still checks that
// the seed becomes the folder's owner — `0:0` for root's own folder). STACK_UID/STACK_GID stay unset, as in
// a fresh .env.
import { randomBytes } from 'node:crypto';
import { chown, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../native/paths.ts';
import { assertPortsFree } from '../native/ports.ts';
import { run, secs, StepError } from './support/composeHarness.ts';

const say = (line: string) => console.log(`[compose-test] ${line}`);
const started = Date.now();
const timings: [string, number][] = [];

async function phase<T>(name: string, run: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  say(`${name} …`);
  try {
    return await run();
  } finally {
    timings.push([name, Date.now() - t0]);
    say(`${name}: ${secs(Date.now() - t0)}`);
  }
}

const base = Number(process.env.COMPOSE_TEST_PORTS_BASE ?? 2);
const ports = {
  keycloak: base * 10000 + 8080,
  management: base * 10000 + 9000,
  mcp: base * 10000 + 3000,
  valkey: base * 10000 + 6379,
};
const stackDir = join(
  process.env.STACK_CACHE_DIR ?? join(homedir(), '.cache', 'mcp-keycloak-stack'),
  'compose-test-stack',
);
const project = process.env.COMPOSE_PROJECT_NAME ?? 'mcpks-compose-test';
const composeEnv: NodeJS.ProcessEnv = {
  ...process.env,
  COMPOSE_PROJECT_NAME: project,
  KC_PORT: String(ports.keycloak),
  KC_MANAGEMENT_PORT: String(ports.management),
  MCP_PORT: String(ports.mcp),
  VALKEY_PORT: String(ports.valkey),
  KC_PUBLIC_URL: `http://localhost:${ports.keycloak}`,
  MCP_RESOURCE_URL: `http://localhost:${ports.mcp}/mcp`,
  KC_BOOTSTRAP_ADMIN_PASSWORD: randomBytes(18).toString('base64url'),
  // base64url: letters, digits, - and _ only, as the valkey service requires (24 characters).
  VALKEY_PASSWORD: randomBytes(18).toString('base64url'),
  STACK_DIR: stackDir,
  // Unset, as in a fresh .env: the seed and stack-ready become the owner of the state folder.
  STACK_UID: '',
  STACK_GID: '',
};
const stackOwner = (() => {
  const wanted = process.env.COMPOSE_TEST_STACK_OWNER ?? (process.getuid?.() === 0 ? '1000:1000' : '');
  const match = /^(\d+):(\d+)$/.exec(wanted);
  if (wanted && !match) throw new Error(`COMPOSE_TEST_STACK_OWNER must be uid:gid, not ${wanted}`);
  return match ? { uid: Number(match[1]), gid: Number(match[2]) } : undefined;
})();
const tls = process.env.COMPOSE_TEST_TLS === '1';
if (tls) {
  Object.assign(composeEnv, {
    KC_TLS_PORT: String(base * 10000 + 8443),
    MCP_TLS_PORT: String(base * 10000 + 3443),
    KC_PUBLIC_URL: `https://localhost:${base * 10000 + 8443}`,
    MCP_RESOURCE_URL: `https://localhost:${base * 10000 + 3443}/mcp`,
  });
}
const files = ['-f', 'docker-compose.yml', ...(tls ? ['-f', 'compose/overlays/tls.yml'] : [])];
const cardPath = join(stackDir, 'stack.json');
let compose: string[] = [];
const dc = (args: string[], opts: { capture?: boolean; allowFail?: boolean; env?: NodeJS.ProcessEnv } = {}) =>
  run(compose[0] ?? 'docker-compose', [...compose.slice(1), ...files, ...args], { env: composeEnv, ...opts });

async function containerState(
  service: string,
): Promise<{ status: string; health: string; exitCode: number }> {
  // Compose v2 also prints warnings into the captured output (e.g. "`version` is obsolete", which 1.29 needs):
  // the container id is the line that looks like one.
  const id = (await dc(['ps', '-a', '-q', service], { capture: true })).out
    .split('\n')
    .map((line) => line.trim())
    .find((line) => /^[0-9a-f]{12,64}$/.test(line));
  if (!id) return { status: 'absent', health: '', exitCode: -1 };
  const fmt = '{{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{end}}|{{.State.ExitCode}}';
  const out = (
    await run('docker', ['inspect', '-f', fmt, id], { env: composeEnv, capture: true })
  ).out.trim();
  const [status = '', health = '', exitCode = '-1'] = out.split('|');
  return { status, health, exitCode: Number(exitCode) };
}

/** The one-shots: each must exit 0 (the seed first; stack-ready once the MCP server is healthy). */
const ONE_SHOTS = ['seed', 'stack-ready'];

/**
 * Every long-running service healthy (the janitor, which has no healthcheck, running) and every one-shot exited
 * 0; a one-shot that failed, a dead or restarting service or a timeout names it.
 */
async function waitHealthy(timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const states = {
      keycloak: await containerState('keycloak'),
      valkey: await containerState('valkey'),
      seed: await containerState('seed'),
      'mcp-server': await containerState('mcp-server'),
      janitor: await containerState('janitor'),
      'stack-ready': await containerState('stack-ready'),
      ...(tls ? { 'tls-proxy': await containerState('tls-proxy') } : {}),
    };
    const line = Object.entries(states)
      .map(([name, s]) => `${name}=${s.health || s.status}${s.status === 'exited' ? `(${s.exitCode})` : ''}`)
      .join(' ');
    if (line !== last) say(`  ${line}`);
    last = line;
    for (const name of ONE_SHOTS) {
      const s = states[name as keyof typeof states];
      if (s && s.status === 'exited' && s.exitCode !== 0) {
        throw new StepError(
          `${name} exited with ${s.exitCode}:\n${(await dc(['logs', '--no-color', name], { capture: true })).out}`,
        );
      }
    }
    const longRunning = Object.entries(states)
      .filter(([name]) => !ONE_SHOTS.includes(name))
      .map(([, state]) => state);
    if (
      longRunning.every((s) => s.health === 'healthy' || (s.health === '' && s.status === 'running')) &&
      ONE_SHOTS.every((name) => states[name as keyof typeof states]?.status === 'exited')
    ) {
      return;
    }
    for (const [name, s] of Object.entries(states)) {
      if (!ONE_SHOTS.includes(name) && ['exited', 'dead', 'restarting'].includes(s.status)) {
        const logs = (await dc(['logs', '--no-color', '--tail', '40', name], { capture: true })).out;
        throw new StepError(`${name} stopped (exit ${s.exitCode}); its last lines:\n${logs}`);
      }
    }
    if (Date.now() > deadline) {
      const logs = (await dc(['logs', '--no-color', '--tail', '25'], { capture: true, allowFail: true })).out;
      throw new StepError(
        `not healthy within ${secs(timeoutMs)}: ${line}\nlast lines of every service:\n${logs}`,
      );
    }
    await sleep(2000);
  }
}

/** The janitor's first prune (right after the seed) went through: it reached Keycloak as the admin. */
async function janitorPruned(timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const logs = (await dc(['logs', '--no-color', 'janitor'], { capture: true })).out;
    const failure = /prune-clients: this run failed.*|\[seed\] error.*/.exec(logs);
    if (failure) throw new StepError(`the janitor's prune failed: ${failure[0]}\n${logs}`);
    const done = /prune-clients: deleted .*/.exec(logs);
    if (done) {
      say(`  janitor: ${done[0]}`);
      return;
    }
    if (Date.now() > deadline)
      throw new StepError(`the janitor did not prune within ${secs(timeoutMs)}:\n${logs}`);
    await sleep(2000);
  }
}

async function up(): Promise<void> {
  await rm(stackDir, { recursive: true, force: true });
  await mkdir(stackDir, { recursive: true, mode: 0o700 });
  if (stackOwner) await chown(stackDir, stackOwner.uid, stackOwner.gid);
  if (tls) await run('bash', ['compose/tls/setup.sh'], { env: composeEnv });
  try {
    await dc(['up', '-d', '--no-build']);
  } catch (error) {
    // `up` waits for healthy dependencies itself; when one never gets there, show why.
    const logs = (await dc(['logs', '--no-color', '--tail', '25'], { capture: true, allowFail: true })).out;
    throw new StepError(`${(error as Error).message}\nlast lines of every service:\n${logs}`);
  }
  // stack-ready has marked the card ready (compose/test/compose-e2e/card.e2e.test.ts checks it).
  await waitHealthy();
  await janitorPruned();
}

async function e2eFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const dir of ['mcp-server/test/e2e', 'compose/test/compose-e2e']) {
    for (const name of (await readdir(join(REPO_ROOT, dir))).filter((n) => n.endsWith('.test.ts')).sort()) {
      files.push(relative(REPO_ROOT, join(REPO_ROOT, dir, name)));
    }
  }
  return files;
}

let failed = false;
let upStarted = false;
try {
  const engine = await phase('docker engine', () =>
    run('bash', ['compose/engine.sh', 'start'], { capture: true }),
  );
  process.stdout.write(
    engine.out
      .split('\n')
      .filter((l) => l.startsWith('[engine]'))
      .map((l) => `${l}\n`)
      .join(''),
  );
  const dockerHost = /^DOCKER_HOST=(.+)$/m.exec(engine.out)?.[1];
  if (!dockerHost)
    throw new StepError(`compose/engine.sh did not say which DOCKER_HOST to use:\n${engine.out}`);
  composeEnv.DOCKER_HOST = dockerHost;

  const wanted = process.env.COMPOSE_TEST_COMPOSE;
  if (wanted === 'v2') {
    // Built from the Go module proxy and kept in the cache as a CLI plugin (compose/test/setup-compose-v2.sh).
    const setup = await phase('Compose v2 (cached build)', () =>
      run('bash', ['compose/test/setup-compose-v2.sh'], { capture: true }),
    );
    const config = /^DOCKER_CONFIG=(.+)$/m.exec(setup.out)?.[1];
    if (!config)
      throw new StepError(`compose/test/setup-compose-v2.sh did not say where Compose v2 is:\n${setup.out}`);
    composeEnv.DOCKER_CONFIG = config;
  }
  compose =
    wanted === 'v2'
      ? ['docker', 'compose']
      : wanted === 'v1'
        ? ['docker-compose']
        : process.env.COMPOSE_CMD
          ? process.env.COMPOSE_CMD.split(' ')
          : (await run('docker', ['compose', 'version'], { env: composeEnv, capture: true, allowFail: true }))
                .code === 0
            ? ['docker', 'compose']
            : ['docker-compose'];
  const version = await run(compose[0] ?? '', [...compose.slice(1), 'version'], {
    env: composeEnv,
    capture: true,
    allowFail: true,
  });
  if (version.code !== 0)
    throw new StepError(`no Compose found: install docker-compose (Debian) or the Compose v2 plugin`);
  say(`using ${compose.join(' ')}: ${version.out.split('\n')[0]}`);

  await phase('offline images', () => run('bash', ['compose/offline-images/build.sh'], { env: composeEnv }));

  await phase('required .env values refused', async () => {
    const required = [
      ['KC_BOOTSTRAP_ADMIN_PASSWORD', 'set KC_BOOTSTRAP_ADMIN_PASSWORD (12+ characters) in .env'],
      ['VALKEY_PASSWORD', 'set VALKEY_PASSWORD (16+ letters, digits, - or _) in .env'],
    ] as const;
    for (const [variable, message] of required) {
      const env = { ...composeEnv, [variable]: '' };
      const result = await dc(['config', '-q'], { env, capture: true, allowFail: true });
      if (result.code === 0 || !result.out.includes(message)) {
        throw new StepError(`compose accepted a missing ${variable} (exit ${result.code}):\n${result.out}`);
      }
      say(`  compose refused: ${message} …`);
    }
  });

  // A stack of this project left by an earlier run (COMPOSE_TEST_KEEP=1) goes first; any other holder is named.
  upStarted = true;
  await dc(['down', '-v', '--remove-orphans'], { capture: true, allowFail: true });
  await assertPortsFree([
    { port: ports.keycloak, service: 'Keycloak HTTP', variable: 'COMPOSE_TEST_PORTS_BASE' },
    { port: ports.management, service: 'Keycloak management', variable: 'COMPOSE_TEST_PORTS_BASE' },
    { port: ports.mcp, service: 'MCP server', variable: 'COMPOSE_TEST_PORTS_BASE' },
    { port: ports.valkey, service: 'Valkey', variable: 'COMPOSE_TEST_PORTS_BASE' },
  ]);
  await phase('up until healthy', up);

  await phase('end-to-end suite (compose)', async () => {
    const files = await e2eFiles();
    const result = await run(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-reporter=spec', ...files],
      {
        env: {
          ...composeEnv,
          STACK_CARD_PATH: cardPath,
          COMPOSE_TEST_COMMAND: JSON.stringify(compose),
          MCP_STACK_STARTED_BY_TEST: '1',
          ...(tls ? { NODE_EXTRA_CA_CERTS: join(stackDir, 'tls', 'ca.crt') } : {}),
        },
        allowFail: true,
      },
    );
    if (result.code !== 0)
      throw new StepError(`the end-to-end suite failed (exit ${result.code}); see above`);
  });

  if (tls) {
    await phase('TLS: issuer and resource are https', async () => {
      const card = JSON.parse(await readFile(cardPath, 'utf8')) as { issuer: string; mcpUrl: string };
      if (!card.issuer.startsWith('https://') || !card.mcpUrl.startsWith('https://')) {
        throw new StepError(`the card's issuer ${card.issuer} / mcpUrl ${card.mcpUrl} are not https`);
      }
    });
  }
  if (tls) {
    // Last, as it spends this address's registration and login budgets (compose/tls/nginx.conf).
    await phase('TLS: proxy rate limits', async () => {
      const card = JSON.parse(await readFile(cardPath, 'utf8')) as { issuer: string; mcpHealthUrl: string };
      const statuses = async (times: number, url: string, method = 'POST') => {
        const codes: string[] = [];
        for (let i = 0; i < times; i++) {
          const args = ['-s', '-o', '/dev/null', '-w', '%{http_code} %header{retry-after}', '-X', method];
          if (method === 'POST') args.push('-H', 'content-type: application/json', '--data', 'not json');
          args.push('--cacert', join(stackDir, 'tls', 'ca.crt'), url);
          codes.push((await run('curl', args, { capture: true, allowFail: true })).out.trim());
        }
        return codes;
      };
      const limited = (codes: string[]) => codes.filter((c) => c === '429 60').length;
      // Registration: 1 + burst 20 pass, the rest of a quick run is refused; a ;matrix path is counted too.
      const registration = await statuses(25, `${card.issuer}/clients-registrations/openid-connect`);
      const matrix = await statuses(1, `${card.issuer}/clients-registrations;x/openid-connect`);
      if (registration[0]?.startsWith('429') || limited(registration) < 3 || limited(matrix) !== 1) {
        throw new StepError(
          `registration limit: ${registration.join(', ')}; with ;x: ${matrix.join(', ')} (expected 429 after ~21)`,
        );
      }
      // Login form posts: 1 + burst 10 pass; GETs of the same path are not counted.
      const login = await statuses(15, `${card.issuer}/login-actions/authenticate`);
      const get = await statuses(3, `${card.issuer}/login-actions/authenticate`, 'GET');
      if (login[0]?.startsWith('429') || limited(login) < 3 || limited(get) !== 0) {
        throw new StepError(
          `login limit: POST ${login.join(', ')}; GET ${get.join(', ')} (expected 429 after ~11 POSTs)`,
        );
      }
      const health = await statuses(1, card.mcpHealthUrl, 'GET');
      if (!health[0]?.startsWith('200')) throw new StepError(`MCP /healthz through the proxy: ${health[0]}`);
      say(`  registration: ${limited(registration)}/25 refused with 429; login posts: ${limited(login)}/15`);
    });
  }
  if (process.env.COMPOSE_TEST_BUNDLE !== '0' && !tls) {
    const bundle = join(tmpdir(), `mcpks-bundle-${process.pid}.tar`);
    try {
      await phase('bundle: save', () =>
        run('bash', ['compose/offline-images/bundle.sh', 'save', bundle], { env: composeEnv }),
      );
      await phase('bundle: down, remove images', async () => {
        await dc(['down', '-v']);
        const tags = (
          await run(
            'bash',
            [
              '-c',
              'source compose/offline-images/tags.env; echo "$KEYCLOAK_IMAGE $VALKEY_IMAGE $SEED_IMAGE $MCP_SERVER_IMAGE"',
            ],
            { env: composeEnv, capture: true },
          )
        ).out
          .trim()
          .split(' ');
        await run('docker', ['rmi', ...tags], { env: composeEnv, capture: true });
        for (const tag of tags) {
          const gone = await run('docker', ['image', 'inspect', tag], {
            env: composeEnv,
            capture: true,
            allowFail: true,
          });
          if (gone.code === 0) throw new StepError(`${tag} is still present after docker rmi`);
        }
      });
      await phase('bundle: load', () =>
        run('bash', ['compose/offline-images/bundle.sh', 'load', bundle], { env: composeEnv }),
      );
      await phase('bundle: up until healthy', up);
      await phase('bundle: MCP server answers', async () => {
        const response = await fetch(`http://127.0.0.1:${ports.mcp}/mcp`, { method: 'POST' });
        if (
          response.status !== 401 ||
          !response.headers.get('www-authenticate')?.includes('resource_metadata=')
        ) {
          throw new StepError(
            `POST /mcp without a token gave ${response.status}, expected 401 with resource_metadata`,
          );
        }
      });
    } finally {
      await rm(bundle, { force: true });
      await rm(`${bundle}.sha256`, { force: true });
    }
  }
} catch (error) {
  failed = true;
  console.error(`[compose-test] FAILED: ${(error as Error).message}`);
} finally {
  if (upStarted && process.env.COMPOSE_TEST_KEEP !== '1' && compose.length > 0) {
    await phase('down', () => dc(['down', '-v', '--remove-orphans'], { capture: true, allowFail: true }));
    await rm(stackDir, { recursive: true, force: true });
  }
  say('phase timings:');
  for (const [name, ms] of timings) say(`  ${name.padEnd(32)} ${secs(ms)}`);
  say(
    `total ${secs(Date.now() - started)} — ${failed ? 'FAILED' : 'passed'} (compose: ${compose.join(' ')})`,
  );
}
process.exit(failed ? 1 : 0);
