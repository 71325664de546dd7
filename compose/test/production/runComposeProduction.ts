// The compose half of `npm run test:production`: docker-compose.production.yml on our own Docker engine with images
// built offline. Phases (each timed): engine → images, secrets, certificates (compose/production/setup.sh) → up
// until every service is healthy and both Keycloak nodes are one cluster → with v2: the end-to-end suite through
// nginx (https, the local CA), with 1.29: a challenge and the issuer's metadata through nginx → a wrong database
// password refused in one line → with v2: the fault drills under load (compose.drills.test.ts) → down -v. Own
// project name, ports (5xxxx) and state folder: it never meets another stack.
//
// Knobs: COMPOSE_TEST_COMPOSE=v2|v1 (default v2), PRODUCTION_TEST_DRILLS=0 (skip the drills; the default for
// v1, whose run checks that 1.29 brings the profile up and serves it), COMPOSE_TEST_KEEP=1 (leave it up).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readStackCard, updateStackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { REPO_ROOT } from '../../native/paths.ts';
import { assertPortsFree } from '../../native/ports.ts';
import {
  chooseCompose,
  containerState,
  phases,
  run,
  sayer,
  secs,
  StepError,
  type RunOptions,
} from '../support/composeHarness.ts';
import { startEngine } from '../support/composeHarness.ts';
import { tapFailures } from '../support/tapFailures.ts';
import { clusterSize, PRODUCTION_SERVICES } from './productionStack.ts';

const say = sayer('production-test');
const { phase, report } = phases(say);
const wanted = process.env.COMPOSE_TEST_COMPOSE === 'v1' ? 'v1' : 'v2';
const drills = process.env.PRODUCTION_TEST_DRILLS ?? (wanted === 'v2' ? '1' : '0');
// Below Linux's ephemeral range (32768–60999): a published port in it can be taken, between a `down` and an `up`,
// as the local port of one of the drills' own outgoing connections (a CI run failed on 59000: "address already
// in use").
const ports = {
  keycloak: 25443,
  mcp: 25444,
  admin: 25445,
  management: 25900,
  management2: 25901,
  valkey: 25379,
};
const stackDir = join(
  process.env.STACK_CACHE_DIR ?? join(homedir(), '.cache', 'mcp-keycloak-stack'),
  'production-test-stack',
);
const env: NodeJS.ProcessEnv = {
  ...process.env,
  COMPOSE_PROJECT_NAME: process.env.COMPOSE_PROJECT_NAME ?? 'mcpks-production-test',
  STACK_DIR: stackDir,
  STACK_UID: String(process.getuid?.() ?? 1000),
  STACK_GID: String(process.getgid?.() ?? 1000),
  KC_TLS_PORT: String(ports.keycloak),
  MCP_TLS_PORT: String(ports.mcp),
  KC_ADMIN_TLS_PORT: String(ports.admin),
  KC_ADMIN_URL: `https://localhost:${ports.admin}`,
  KC_MANAGEMENT_PORT: String(ports.management),
  KC_MANAGEMENT_PORT_2: String(ports.management2),
  VALKEY_PORT: String(ports.valkey),
  KC_PUBLIC_URL: `https://localhost:${ports.keycloak}`,
  MCP_RESOURCE_URL: `https://localhost:${ports.mcp}/mcp`,
};
const files = ['-f', 'docker-compose.production.yml'];
const cardPath = join(stackDir, 'stack.json');
const caFile = join(stackDir, 'tls', 'ca.crt');
let compose: string[] = [];
const dc = (args: string[], opts: RunOptions = {}) =>
  run(compose[0] ?? 'docker', [...compose.slice(1), ...files, ...args], { env, ...opts });

/** Every long-running service healthy, the one-shots exited 0, both Keycloak nodes in one cluster view. */
async function waitHealthy(timeoutMs = 420_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const states = Object.fromEntries(
      await Promise.all(
        [...PRODUCTION_SERVICES.longRunning, ...PRODUCTION_SERVICES.oneShot].map(
          async (s) => [s, await containerState(dc, s, env)] as const,
        ),
      ),
    );
    const line = Object.entries(states)
      .map(([name, s]) => `${name}=${s.health || s.status}${s.status === 'exited' ? `(${s.exitCode})` : ''}`)
      .join(' ');
    if (line !== last) say(`  ${line}`);
    last = line;
    for (const name of PRODUCTION_SERVICES.oneShot) {
      const s = states[name];
      if (s && s.status === 'exited' && s.exitCode !== 0) {
        const logs = (await dc(['logs', '--no-color', name], { capture: true, allowFail: true })).out;
        throw new StepError(`${name} exited with ${s.exitCode}:\n${logs}`);
      }
    }
    const healthy =
      PRODUCTION_SERVICES.longRunning.every((n) => {
        const s = states[n];
        return s && (s.health === 'healthy' || (s.health === '' && s.status === 'running'));
      }) && PRODUCTION_SERVICES.oneShot.every((n) => states[n]?.status === 'exited');
    if (healthy) {
      const size = await clusterSize(dc);
      if (size === 2) return;
      if (line !== `${last}|cluster`) say(`  Keycloak cluster view: ${size ?? 'none yet'} of 2`);
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

/** The card as the e2e suite and the drills read it: with the Valkey password, which the seed leaves out. */
async function cardForTests(): Promise<void> {
  const password = (await import('node:fs')).readFileSync(
    join(stackDir, 'secrets', 'valkey_password'),
    'utf8',
  );
  await updateStackCard(cardPath, (card) => ({
    ...card,
    valkeyUrl: `redis://:${encodeURIComponent(password.trim())}@127.0.0.1:${ports.valkey}`,
  }));
}

/** fetch that trusts the profile's local CA: this process started before the CA existed (NODE_EXTRA_CA_CERTS). */
function fetchWithCa(
  url: string,
  init: { method?: string } = {},
): Promise<{ status: number; headers: Headers }> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      url,
      { method: init.method ?? 'GET', ca: readFileSync(caFile) },
      (response) => {
        response.resume();
        const headers = new Headers();
        for (const [k, v] of Object.entries(response.headers)) if (typeof v === 'string') headers.set(k, v);
        resolve({ status: response.statusCode ?? 0, headers });
      },
    );
    request.once('error', reject);
    request.end();
  });
}

/** The e2e suite of `npm test`, then the attacks on this profile (production.attack.test.ts). */
async function e2eFiles(): Promise<string[]> {
  const dir = join(REPO_ROOT, 'mcp-server/test/e2e');
  return [
    ...(await readdir(dir))
      .filter((n) => n.endsWith('.test.ts'))
      .sort()
      .map((n) => relative(REPO_ROOT, join(dir, n))),
    'compose/test/production/production.attack.test.ts',
  ];
}

const testEnv = () => ({
  ...env,
  STACK_CARD_PATH: cardPath,
  NODE_EXTRA_CA_CERTS: caFile,
  PRODUCTION_COMPOSE: JSON.stringify([...compose, ...files]),
  MCP_STACK_STARTED_BY_TEST: '1',
});

let failed = false;
let upStarted = false;
try {
  env.DOCKER_HOST = await phase('docker engine', () => startEngine(say));
  compose = await phase(`Compose ${wanted}`, () => chooseCompose(wanted, env, say));
  upStarted = true;
  await dc(['down', '-v', '--remove-orphans'], { capture: true, allowFail: true });
  await assertPortsFree(
    Object.entries(ports).map(([service, port]) => ({ port, service, variable: 'runComposeProduction.ts' })),
  );
  await rm(stackDir, { recursive: true, force: true });
  await mkdir(stackDir, { recursive: true, mode: 0o700 });
  await phase('images, secrets, certificates (compose/production/setup.sh)', () =>
    run('bash', ['compose/production/setup.sh'], { env }),
  );
  await phase('up until healthy (both Keycloak nodes clustered)', async () => {
    try {
      await dc(['up', '-d', '--no-build']);
    } catch (error) {
      const logs = (await dc(['logs', '--no-color', '--tail', '25'], { capture: true, allowFail: true })).out;
      throw new StepError(`${(error as Error).message}\nlast lines of every service:\n${logs}`);
    }
    await waitHealthy();
    await cardForTests();
  });
  if (drills === '1') {
    await phase('end-to-end suite and attacks through nginx (https)', async () => {
      const result = await run(
        process.execPath,
        ['--import', 'tsx', '--test', '--test-concurrency=1', ...(await e2eFiles())],
        { env: testEnv(), allowFail: true },
      );
      if (result.code !== 0)
        throw new StepError(`the end-to-end suite failed (exit ${result.code}); see above`);
    });
  } else {
    // 1.29's run: the profile comes up and serves through nginx; the drills and e2e run once, with v2.
    await phase('served through nginx (https)', async () => {
      const card = await readStackCard(cardPath);
      if (!card) throw new StepError(`no stack card at ${cardPath}`);
      const challenge = await fetchWithCa(card.mcpUrl, { method: 'POST' });
      const metadata = await fetchWithCa(`${card.issuer}/.well-known/openid-configuration`);
      if (
        challenge.status !== 401 ||
        !challenge.headers.get('www-authenticate')?.includes('resource_metadata=') ||
        metadata.status !== 200
      )
        throw new StepError(
          `POST ${card.mcpUrl} gave ${challenge.status}, the issuer's metadata ${metadata.status}`,
        );
      say(`  ${card.mcpUrl}: 401 with resource_metadata; ${card.issuer}: metadata 200`);
    });
  }
  await phase('a wrong database password, a missing secret: one clear line each, no Java', async () => {
    const wrong = join(stackDir, 'wrong-postgres-password');
    await writeFile(wrong, randomBytes(12).toString('hex'), { mode: 0o444 });
    // `docker run` on the project's network: `compose run` would ask for keycloak-2's fixed address again.
    const image = `mcp-keycloak-stack/keycloak-production:${env.KEYCLOAK_VERSION ?? '26.7.3'}`;
    const result = await run(
      'docker',
      [
        'run',
        '--rm',
        '--network',
        `${env.COMPOSE_PROJECT_NAME}_default`,
        '-v',
        `${wrong}:/run/secrets/postgres_password:ro`,
        '-v',
        `${join(stackDir, 'secrets', 'keycloak_admin_password')}:/run/secrets/keycloak_admin_password:ro`,
        image,
        'start',
        '--optimized',
      ],
      { env, capture: true, allowFail: true },
    );
    if (
      result.code !== 78 ||
      !/refused user keycloak for database keycloak: password authentication failed/.test(result.out)
    )
      throw new StepError(`expected exit 78 naming the refused login, got ${result.code}:\n${result.out}`);
    say(`  ${result.out.split('\n').find((l) => l.includes('refused user')) ?? ''}`);
    // And without the secret file at all: named before anything else runs.
    const missing = await run(
      'docker',
      ['run', '--rm', '--network', `${env.COMPOSE_PROJECT_NAME}_default`, image, 'start', '--optimized'],
      { env, capture: true, allowFail: true },
    );
    if (
      missing.code !== 78 ||
      !/secret file \/run\/secrets\/postgres_password \(KC_DB_PASSWORD\) is missing/.test(missing.out)
    )
      throw new StepError(`expected exit 78 naming the missing secret, got ${missing.code}:\n${missing.out}`);
    say(`  ${missing.out.trim().split('\n').at(-1) ?? ''}`);
  });
  await phase('backup as docs/production.md says: pg_dump, pg_restore into a scratch database', async () => {
    // The dump and the restore inside the container (the host redirect in the docs moves the same bytes).
    const script = [
      'set -e',
      'pg_dump -U postgres -Fc keycloak > /tmp/keycloak.dump',
      'dropdb -U postgres --if-exists restore_check',
      'createdb -U postgres restore_check',
      'pg_restore -U postgres -d restore_check /tmp/keycloak.dump',
      'for db in keycloak restore_check; do',
      '  psql -U postgres -d "$db" -tAc "select (select count(*) from user_entity) || \' \' || (select count(*) from client)"',
      'done',
      'dropdb -U postgres restore_check; rm /tmp/keycloak.dump',
    ].join('\n');
    const result = await dc(['exec', '-T', 'postgres', 'bash', '-c', script], { capture: true });
    const [original, restored] = result.out.trim().split('\n').slice(-2);
    if (!original || original !== restored)
      throw new StepError(`users and clients: ${original} in keycloak, ${restored} restored:\n${result.out}`);
    const aof = await dc(['exec', '-T', 'valkey', 'sh', '-c', 'tar -C /data -c . | tar -t'], {
      capture: true,
    });
    if (!/appendonlydir\/.*\.aof/.test(aof.out)) throw new StepError(`no AOF in Valkey's /data:\n${aof.out}`);
    say(
      `  users and clients ${original} in the database and in its restored dump; Valkey's AOF in the tarball`,
    );
  });
  if (drills === '1') {
    await phase('fault drills under load', async () => {
      // The report also goes to a file, so that a failure's reason is printed again at the very end (a CI log
      // cut to its last lines once hid which bound a drill broke).
      const tapFile = join(stackDir, 'drills.tap');
      const result = await run(
        process.execPath,
        [
          '--import',
          'tsx',
          '--test',
          '--test-concurrency=1',
          '--test-reporter=tap',
          '--test-reporter-destination=stdout',
          '--test-reporter=tap',
          `--test-reporter-destination=${tapFile}`,
          'compose/test/production/compose.drills.test.ts',
        ],
        { env: testEnv(), allowFail: true },
      );
      if (result.code !== 0) {
        const why = tapFailures(await readFile(tapFile, 'utf8').catch(() => ''));
        throw new StepError(
          `the fault drills failed (exit ${result.code}); see above${why.length > 0 ? `:\n${why.join('\n')}` : ''}`,
        );
      }
    });
  }
  const card = await readStackCard(cardPath);
  say(`card: ${card?.status} ${card?.mcpUrl}`);
} catch (error) {
  failed = true;
  console.error(`[production-test] FAILED: ${(error as Error).message}`);
} finally {
  if (upStarted && process.env.COMPOSE_TEST_KEEP !== '1' && compose.length > 0) {
    await phase('down -v', () => dc(['down', '-v', '--remove-orphans'], { capture: true, allowFail: true }));
  }
  report();
}
process.exitCode = failed ? 1 : 0;
