// `npm run test:production:native` (issue 13, fault drills): the native supervised stack under a steady
// authenticated load (load.ts: 50 `usage` tool calls/s from 8 users' tokens, a login through Keycloak's form and a
// refresh_token grant every 3 s) while, one at a time, Keycloak, the MCP server and Valkey are killed with SIGKILL
// and the whole stack is stopped and started again. Each drill prints what the load saw (drillReport.ts) and fails
// on data loss or on a failure outside its bounds (docs/operations.md, "What a restart means for each process"):
//
// - kill -9 Keycloak: tool calls never fail (issued tokens keep verifying); logins and refreshes fail only until
//   the supervisor reports it back, and succeed after.
// - kill -9 the MCP server: only the calls in flight on it fail, and calls refused at the connection while it is
//   down; none after the supervisor reports it back.
// - kill -9 Valkey: only the documented fail-closed answer while it is down, and none from 5 s after it answers
//   again; each user's count kept, up to the AOF's last second.
// - stop and start: nothing fails once `npm start` is back; users, self-registered clients and counts kept.
//
// The stack is private (own STACK_DIR in the temp dir, ports from DRILL_PORT_BASE, default 21000: Keycloak 21080,
// management 21090, MCP 21300, metrics 21464, Valkey 21379; the shared download cache); Keycloak starts twice.
// DRILL_KEEP=1 keeps the stack dir and its logs (kept anyway when a drill fails, with the logs' last lines printed).
// Bounds are for a busy 2-core machine (a Keycloak restart there takes 20–40 s); no performance figure is asserted.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readStackCard, type StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { valkeyPing } from '../../native/readiness.ts';
import {
  countsAcross,
  failuresOutside,
  formatCounts,
  OPERATIONS,
  seconds,
  succeededWithin,
  withinBound,
} from './drillReport.ts';
import { drillSession } from './drillSession.ts';
import { registerPublicClient, startLoad, type Load, type LoadRecord } from './load.ts';
import {
  childrenOf,
  launcher,
  logTails,
  poll,
  processStatus,
  stackEnv,
  supervisorReportsBack,
  type ProcessName,
} from './nativeStack.ts';
import { createUsers, missingClients, missingUsers, type RealmAdmin } from './realmUsers.ts';

const PORT_BASE = Number(process.env.DRILL_PORT_BASE ?? 21_000);
const TOOL_CALLS_PER_SECOND = 50;
/** With alice and bob: 8 users, 6.25 calls/s each — under the default 600 per minute per subject. */
const EXTRA_USERS = 6;

// Bounds. Generous for a busy 2-core machine; a part that never comes back, or fails after it is back, still fails.
const KEYCLOAK_BACK_MS = 180_000; // supervisor: 1 s backoff + Keycloak's start (20–70 s measured when busy)
const MCP_SERVER_BACK_MS = 60_000;
const VALKEY_BACK_MS = 30_000;
// Under the access tokens' 300 s: past it the load's tokens (renewed every ~25 s) expire during the outage.
const STOP_START_MS = 240_000;
/** The bound: tool calls succeed again within 5 s of Valkey answering again. */
const STORE_BACK_MS = 5_000;
/** appendfsync everysec: the last second may be lost; Valkey may postpone a write by up to one more second. */
const AOF_ALLOWANCE_MS = 2_000;
/** Once a part is back, the next operation of each kind succeeds within this. */
const FIRST_SUCCESS_MS = 30_000;

/** Failing at the connection: nothing was listening, or the socket died under the request. */
const CONNECTION_FAILURE = /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/;

describe('fault drills on a private native stack under load', { concurrency: false }, () => {
  const began = Date.now();
  let work: string;
  let stackDir: string;
  let env: NodeJS.ProcessEnv;
  let card: StackCard;
  let admin: RealmAdmin;
  let load: Load | undefined;
  let valkeyPassword: string;
  const session = drillSession(() => load);
  const { drill, onlyUntil, never, timings } = session;

  const start = async (what: string) => {
    const t0 = Date.now();
    const started = await launcher('start.ts', ['--detach'], env, 420_000);
    assert.equal(started.code, 0, `${what} failed:\n${started.output.slice(-4000)}`);
    timings[what] = Date.now() - t0;
    console.log(`${what}: ${/Started in .*/.exec(started.output)?.[0] ?? 'done'}`);
    card = (await readStackCard(join(stackDir, 'stack.json'))) as StackCard;
  };

  before(
    async () => {
      work = await mkdtemp(join(tmpdir(), 'mcp-drills-'));
      stackDir = join(work, 'stack');
      env = stackEnv(stackDir, PORT_BASE);
      try {
        await prepare();
      } catch (error) {
        session.markFailed();
        throw error;
      }
    },
    { timeout: 600_000 },
  );

  /** The stack, the extra users, and the load running with every user logged in once. */
  const prepare = async () => {
    await start('stack start');
    const secrets = JSON.parse(await readFile(join(stackDir, 'secrets.json'), 'utf8')) as {
      keycloakAdminUsername: string;
      keycloakAdminPassword: string;
      valkeyPassword: string;
    };
    valkeyPassword = secrets.valkeyPassword;
    admin = {
      keycloakUrl: card.keycloakUrl,
      realm: card.realm,
      username: secrets.keycloakAdminUsername,
      password: secrets.keycloakAdminPassword,
    };
    const t0 = Date.now();
    const extra = await createUsers(admin, 'drill-user', EXTRA_USERS);
    load = await startLoad({
      mcpUrl: card.mcpUrl,
      issuer: card.issuer,
      users: [...card.users, ...extra],
      toolCallsPerSecond: TOOL_CALLS_PER_SECOND,
    });
    timings['users and first logins'] = Date.now() - t0;
  };

  after(
    async () => {
      const records = (await load?.stop()) ?? [];
      const calls = records.filter((r) => r.op === 'tool call');
      if (env) {
        const stopped = await launcher('stop.ts', [], env, 120_000);
        if (stopped.code !== 0) console.log(`stop failed:\n${stopped.output}`);
      }
      if (session.failed && stackDir) for (const line of await logTails(stackDir)) console.log(line);
      if ((session.failed || process.env.DRILL_KEEP === '1') && work) {
        console.log(`kept for a post-mortem: ${work}`);
      } else if (work) {
        await rm(work, { recursive: true, force: true });
      }
      console.log(
        `whole run ${seconds(Date.now() - began)}: ${calls.length} tool calls ` +
          `(${calls.filter((r) => r.ok).length} ok, ${load?.notSent ?? 0} skipped by the schedule), ` +
          `${records.filter((r) => r.op === 'login').length} logins, ` +
          `${records.filter((r) => r.op === 'refresh').length} refreshes; ` +
          Object.entries(timings)
            .map(([name, ms]) => `${name} ${seconds(ms)}`)
            .join(', '),
      );
    },
    { timeout: 180_000 },
  );

  const records = (): readonly LoadRecord[] => load?.records ?? [];
  const sentBefore = (time: number) => records().filter((r) => r.sentAt < time);

  /** Kills `pid` with SIGKILL; the supervisor's status before, and when the kill happened. */
  const killSupervised = async (name: ProcessName, pickPid: (pid: number) => Promise<number>) => {
    const status = await processStatus(stackDir, name);
    assert.equal(status?.state, 'running', `${name} is running before the drill`);
    const pid = await pickPid(status.pid);
    process.kill(pid, 'SIGKILL');
    return { before: status, faultAt: Date.now() };
  };

  const restartedOnce = async (name: ProcessName, restartsBefore: number) => {
    const now = await processStatus(stackDir, name);
    assert.equal(now?.restarts, restartsBefore + 1, `${name} restarted once, not in a loop`);
    assert.ok(now.lastExit, `the supervisor recorded how ${name} ended`);
  };

  it(
    'kill -9 Keycloak: tool calls unaffected; logins and refreshes fail only until the supervisor has it back',
    {
      timeout: 400_000,
    },
    async () => {
      await drill(
        'kill -9 Keycloak',
        async () => {
          // The JVM, as the OOM killer would pick it; kc.sh then exits and the supervisor restarts it.
          const { before, faultAt } = await killSupervised('Keycloak', async (kcSh) => {
            const [jvm, ...others] = await childrenOf(kcSh);
            assert.ok(
              jvm && others.length === 0,
              `kc.sh (pid ${kcSh}) runs one JVM, found ${[jvm, ...others]}`,
            );
            return jvm;
          });
          const back = await supervisorReportsBack(stackDir, 'Keycloak', before.pid, KEYCLOAK_BACK_MS);
          await restartedOnce('Keycloak', before.restarts);
          return { faultAt, backAt: back.at };
        },
        (times) => [
          ...withinBound('Keycloak back (supervisor)', times.backAt - times.faultAt, KEYCLOAK_BACK_MS),
          ...never(times, 'tool call', 'tokens already issued keep working while Keycloak restarts'),
          ...onlyUntil(times, 'login', times.backAt, 'only until the supervisor reports Keycloak back'),
          ...onlyUntil(times, 'refresh', times.backAt, 'only until the supervisor reports Keycloak back'),
          ...succeededWithin(records(), times, 'login', times.backAt, FIRST_SUCCESS_MS, 'Keycloak was back'),
          ...succeededWithin(
            records(),
            times,
            'refresh',
            times.backAt,
            FIRST_SUCCESS_MS,
            'Keycloak was back',
          ),
        ],
      );
    },
  );

  it(
    'kill -9 the MCP server: only calls in flight on it or refused while it is down fail; none once back',
    {
      timeout: 300_000,
    },
    async () => {
      await drill(
        'kill -9 MCP server',
        async () => {
          const { before, faultAt } = await killSupervised('MCP server', async (pid) => pid);
          const back = await supervisorReportsBack(stackDir, 'MCP server', before.pid, MCP_SERVER_BACK_MS);
          await restartedOnce('MCP server', before.restarts);
          return { faultAt, backAt: back.at };
        },
        (times) => [
          ...withinBound('MCP server back (supervisor)', times.backAt - times.faultAt, MCP_SERVER_BACK_MS),
          ...failuresOutside(
            records(),
            times,
            'tool call',
            (r) =>
              (r.sentAt < times.faultAt && r.doneAt >= times.faultAt) ||
              (r.sentAt >= times.faultAt &&
                r.sentAt <= times.backAt &&
                CONNECTION_FAILURE.test(r.failure ?? '')),
            'in flight at the kill, or a connection failure while it was down',
          ),
          ...succeededWithin(
            records(),
            times,
            'tool call',
            times.backAt,
            FIRST_SUCCESS_MS,
            'the MCP server was back',
          ),
          ...never(times, 'login', 'Keycloak is not involved'),
          ...never(times, 'refresh', 'Keycloak is not involved'),
        ],
      );
    },
  );

  it(
    'kill -9 Valkey: the fail-closed answer while down, calls succeed within 5 s of it answering, counts kept',
    {
      timeout: 300_000,
    },
    async () => {
      const storeDown = (r: LoadRecord) => r.op === 'tool call' && r.failure === 'store down';
      await drill(
        'kill -9 Valkey',
        async () => {
          const { before, faultAt } = await killSupervised('Valkey', async (pid) => pid);
          session.allowances.push({ from: faultAt - AOF_ALLOWANCE_MS, to: faultAt });
          // When Valkey answers again (the supervisor's own check, polled closer): the 5 s bound counts from here.
          const port = Number(new URL(card.valkeyUrl).port);
          const up = await poll('Valkey answering again', VALKEY_BACK_MS, async () =>
            (await valkeyPing(port, valkeyPassword)()) === true ? true : undefined,
          );
          await supervisorReportsBack(stackDir, 'Valkey', before.pid, VALKEY_BACK_MS);
          await restartedOnce('Valkey', before.restarts);
          return { faultAt, backAt: up.at };
        },
        (times) => [
          ...withinBound('Valkey back (answering)', times.backAt - times.faultAt, VALKEY_BACK_MS),
          ...failuresOutside(
            records(),
            times,
            'tool call',
            (r) => storeDown(r) && r.doneAt >= times.faultAt && r.sentAt <= times.backAt + STORE_BACK_MS,
            `the fail-closed answer, until ${seconds(STORE_BACK_MS)} after Valkey answers again`,
          ),
          ...(records().some((r) => storeDown(r) && r.sentAt >= times.faultAt && r.sentAt < times.to)
            ? []
            : ['tool calls: no fail-closed answer while Valkey was down']),
          ...succeededWithin(
            records(),
            times,
            'tool call',
            times.backAt,
            STORE_BACK_MS,
            'Valkey answered again',
          ),
          ...never(times, 'login', 'Keycloak is not involved'),
          ...never(times, 'refresh', 'Keycloak is not involved'),
        ],
        (times) => [
          formatCounts(
            countsAcross(sentBefore(times.to), times.faultAt, AOF_ALLOWANCE_MS),
            `answered in the last ${seconds(AOF_ALLOWANCE_MS)} before the kill`,
          ),
        ],
      );
    },
  );

  it(
    'stop and start of the whole stack: nothing fails once it is back; users, DCR clients and counts kept',
    {
      timeout: 600_000,
    },
    async () => {
      let lateClient = '';
      let lateUsers: string[] = [];
      await drill(
        'stop and start',
        async () => {
          // Made just before the stop: the newest writes must survive too.
          lateClient = (
            await registerPublicClient(
              `${card.issuer}/clients-registrations/openid-connect`,
              'http://127.0.0.1:9/callback',
              { clientName: 'fault drill: registered before the stop' },
            )
          ).clientId;
          lateUsers = (await createUsers(admin, 'drill-late', 1)).map((u) => u.username);
          const faultAt = Date.now();
          const stopped = await launcher('stop.ts', [], env, 180_000);
          assert.equal(stopped.code, 0, `stop failed:\n${stopped.output}`);
          timings['stop'] = Date.now() - faultAt;
          await start('start after stop');
          return { faultAt, backAt: Date.now() };
        },
        async (times) => [
          ...withinBound('stop and start', times.backAt - times.faultAt, STOP_START_MS),
          ...OPERATIONS.flatMap((op) => onlyUntil(times, op, times.backAt, 'only until `npm start` is back')),
          ...OPERATIONS.flatMap((op) =>
            succeededWithin(records(), times, op, times.backAt, FIRST_SUCCESS_MS, 'the stack was back'),
          ),
          ...(await missingUsers(admin, [...(load?.subjects.keys() ?? []), ...lateUsers])).map(
            (user) => `user ${user} is gone`,
          ),
          ...(await missingClients(admin, [load?.client.clientId ?? '(none)', lateClient])).map(
            (client) => `self-registered client ${client} is gone`,
          ),
        ],
        (times) => [formatCounts(countsAcross(sentBefore(times.to), times.faultAt), '')],
      );
    },
  );
});
