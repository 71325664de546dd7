// `npm run bench`: authenticated MCP tools/call throughput, latency and memory of this server, against its
// peers, measured side by side in one run on this machine (autocannon, loopback). `-- --quick` for a short
// run, `-- --profile` to run the `auth` server under `node --cpu-prof` and print where its time goes.
//
// Setup: an RSA key made here with jose, its JWKS served by a tiny local HTTP server (every verifier fetches
// it like Keycloak's), real RS256 access tokens for BENCH_USERS subjects (rotated across requests, so the
// token cache and Valkey see many keys), a private valkey-server (or redis-server) on a free port, and eight
// servers, each on a free loopback port, all sent the same request:
//   ceiling       plain Koa answering a fixed JSON-RPC result: no auth, no MCP (peers/koaCeiling.ts)
//   floor         the ceiling plus our Valkey admit + count per call, nothing else (peers/koaStoreFloor.ts)
//   sdk-naive     the SDK's naive stateless pattern: new McpServer + transport per request, jose (peers/sdkStateless.ts)
//   fastmcp       FastMCP (PyPI) with its JWTVerifier on the same JWKS, one uvicorn worker (peers/fastmcp_peer.py)
//   noauth        this server with authentication off (server.ts, the baseline)
//   auth          this server as in production (server.ts)
//   auth-nocache  production with the token cache off (for what the cache is worth; not held to targets)
//   gateway       this server in production mode as a gateway: the same tools/call through /mcp/bench to the
//                 `noauth` server as a Streamable HTTP upstream (three upstreams declared), so `noauth` is
//                 the direct path and `gateway` the path through it (issue 12's targets)
// Rounds rotate the order so all see the same machine load; the median round of each counts. The targets are
// ratios within the run (absolute figures are not stable on a shared machine).
//
// Prints every figure and every ratio, and writes them to bench-results/bench-<timestamp>.json. At the end,
// when a stack is running (its card: STACK_CARD_PATH or .stack/stack.json), the figures of its Keycloak too
// (keycloak.ts: token requests, logins, registrations, JWKS; informational, no targets).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { createServer } from 'node:http';
import { connect, createServer as createNetServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { MALLOC_ENV, SEMI_SPACE_NODE_OPTION } from '../src/heapTuning.ts';
import { keycloakBench } from './keycloak.ts';
import { profileTop } from './profileTop.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(`npm run bench [-- --quick] [-- --profile]
  --quick    3 rounds of 3 s (≈ 1.5 min) instead of 5 rounds of 8 s (≈ 5 min)
  --profile  run the auth server under node --cpu-prof; print its top functions and packages
Environment: BENCH_DURATION_SECONDS, BENCH_ROUNDS, BENCH_WARMUP_SECONDS, BENCH_CONNECTIONS (32),
BENCH_USERS (64), BENCH_PROFILE_SERVER (auth; or gateway, noauth, …), BENCH_NODE_FLAGS, BENCH_LOG_LEVEL (info), BENCH_VALKEY_SERVER, BENCH_RUNNER=tsx, FASTMCP_VENV,
STACK_CARD_PATH (the stack whose Keycloak is measured at the end; .stack/stack.json, skipped when none is ready)`);
  process.exit(0);
}

const HERE = dirname(fileURLToPath(import.meta.url));
/** The server --profile runs under the CPU profiler: `auth` unless BENCH_PROFILE_SERVER names another. */
const PROFILED = process.env.BENCH_PROFILE_SERVER ?? 'auth';
const ROOT = resolve(HERE, '..', '..');
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const DURATION = Number(process.env.BENCH_DURATION_SECONDS ?? (args.quick ? 3 : 8));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (args.quick ? 3 : 5));
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? (args.quick ? 1 : 3));
const USERS = Number(process.env.BENCH_USERS ?? 64);
const ISSUER = 'http://bench.invalid/realms/mcp';
const FASTMCP_VENV =
  process.env.FASTMCP_VENV ?? join(homedir(), '.cache', 'mcp-keycloak-stack', 'fastmcp-venv');

/** Issue 16's targets, all ratios measured in the same run; `auth` is the server held to them. */
const TARGETS = {
  throughputVsCeiling: 0.6, // auth req/s ≥ 0.6 × the Koa ceiling's
  p99VsCeiling: 2, // auth p99 ≤ 2 × the ceiling's p99
  vsFastmcp: 15, // auth req/s ≥ 15 × FastMCP's
  vsSdkNaive: 6, // auth req/s ≥ 6 × the naive SDK pattern's
  authOverhead: 0.1, // 1 − auth/noauth ≤ 10 %
  rssMb: 100, // auth RSS maximum under load ≤ 100 MB
  gatewayOverhead: 0.15, // 1 − gateway/direct (noauth) ≤ 15 %
  gatewayP99AddedMs: 5, // gateway p99 − direct p99 ≤ 5 ms
  gatewayRssMb: 120, // gateway RSS maximum under load (three upstreams declared) ≤ 120 MB
};

const SERVERS = [
  'ceiling',
  'floor',
  'sdk-naive',
  'fastmcp',
  'noauth',
  'auth',
  'auth-nocache',
  'gateway',
] as const;
type Name = (typeof SERVERS)[number];

// Every process the bench starts, so that none outlives it, however it ends (Ctrl-C, an error, a kill).
const children = new Set<ChildProcess>();
function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(join(HERE, '.build'), { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

/** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone (a --cpu-prof profile is written). */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((ok) => child.once('exit', () => ok()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await gone;
  clearTimeout(timer);
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createNetServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

function valkeyBinary(): string {
  return process.env.BENCH_VALKEY_SERVER ?? 'valkey-server';
}

async function startValkey(port: number): Promise<ChildProcess> {
  const child = track(
    spawn(
      valkeyBinary(),
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    ),
  );
  child.once('error', () => {});
  for (let i = 0; i < 50; i++) {
    const up = await new Promise<boolean>((ok) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), ok(true)));
      socket.once('error', () => ok(false));
    });
    if (up) return child;
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  throw new Error(
    `${valkeyBinary()} did not start on ${port} (set BENCH_VALKEY_SERVER=redis-server if that is what you have)`,
  );
}

interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Node processes answer 'memory' over IPC (report.ts); FastMCP does not (RSS from /proc only). */
  ipc: boolean;
}

/**
 * Node servers are compiled ahead of time (esbuild, which tsx already brings), as the container image runs
 * ours (`node dist/…`): running through tsx adds its loader and esbuild's in-memory output, ≈ 35 MB of RSS
 * that production does not carry. BENCH_RUNNER=tsx measures the `npm start` way instead. Every Node server
 * (peers too) gets the image's memory settings, so they differ only in their code.
 */
async function nodeCommand(entry: string, extraFlags: string[] = []): Promise<string[]> {
  const flags = [
    SEMI_SPACE_NODE_OPTION,
    ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean),
    ...extraFlags,
  ];
  if (process.env.BENCH_RUNNER === 'tsx') return [...flags, '--import', 'tsx', join(HERE, entry)];
  // Two levels below mcp-server/, like the image's dist/src/main.js, so paths relative to the module (the
  // console's static files) resolve the same way.
  const outfile = join(HERE, '.build', entry.replace(/\.ts$/, '.mjs'));
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(HERE, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external', // resolved from the repository's node_modules, as in production
    outfile,
    logLevel: 'warning',
  });
  return [...flags, outfile];
}

async function startNode(
  name: Name,
  entry: string,
  env: Record<string, string>,
  extraFlags: string[] = [],
): Promise<ServerProcess> {
  const port = await freePort();
  const child = track(
    spawn(process.execPath, await nodeCommand(entry, extraFlags), {
      cwd: ROOT,
      env: {
        ...process.env,
        ...MALLOC_ENV, // as the image and the launcher start the server
        ...env,
        PEER_PORT: String(port),
        MCP_PORT: String(port),
        MCP_HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    }),
  );
  await new Promise<void>((ok, fail) => {
    child.once('message', () => ok());
    child.once('exit', (code) => fail(new Error(`${name} server exited with ${code}`)));
  });
  return { child, url: `http://127.0.0.1:${port}/mcp`, ipc: true };
}

async function startFastmcp(env: Record<string, string>, token: string): Promise<ServerProcess> {
  const python = join(FASTMCP_VENV, 'bin', 'python');
  if (!existsSync(python)) {
    throw new Error(
      `no FastMCP venv at ${FASTMCP_VENV}: run mcp-server/test/clients/setup-fastmcp-venv.sh (or set FASTMCP_VENV)`,
    );
  }
  const port = await freePort();
  const child = track(
    spawn(python, [join(HERE, 'peers', 'fastmcp_peer.py')], {
      cwd: ROOT,
      env: { ...process.env, ...env, PEER_PORT: String(port), PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  const url = `http://127.0.0.1:${port}/mcp`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`fastmcp server exited with ${child.exitCode}`);
    try {
      await sanity(url, token);
      return { child, url, ipc: false };
    } catch {
      await sleep(100);
    }
  }
  throw new Error('fastmcp server did not answer within 30 s');
}

interface MemorySample {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
}

interface GcPauses {
  count: number;
  totalMs: number;
  maxMs: number;
  p99Ms: number;
}

/** process.memoryUsage() of a Node server, in MB, and its GC pauses since the last ask, over IPC. */
function memoryOf(child: ChildProcess): Promise<{ memory: MemorySample; gc: GcPauses }> {
  return new Promise((ok) => {
    const onMessage = (message: unknown) => {
      const { memory, gc } = message as { memory?: MemorySample; gc: GcPauses };
      if (!memory) return;
      child.off('message', onMessage);
      const mb = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;
      const ms = (n: number) => Math.round(n * 100) / 100;
      ok({
        memory: {
          rss: mb(memory.rss),
          heapTotal: mb(memory.heapTotal),
          heapUsed: mb(memory.heapUsed),
          external: mb(memory.external),
        },
        gc: { count: gc.count, totalMs: ms(gc.totalMs), maxMs: ms(gc.maxMs), p99Ms: ms(gc.p99Ms) },
      });
    };
    child.on('message', onMessage);
    child.send('memory');
  });
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

const body = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'usage', arguments: {} },
});

async function sanity(url: string, token: string, session?: string): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      ...(session ? { 'mcp-session-id': session } : {}),
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body,
  });
  const text = await res.text();
  let json: { result?: { structuredContent?: { count?: number } } } = {};
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    // reported below
  }
  if (res.status !== 200 || typeof json.result?.structuredContent?.count !== 'number') {
    throw new Error(`sanity check failed on ${url}: ${res.status} ${text.slice(0, 500)}`);
  }
}

interface Round {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  maxRssMb: number;
  /** The server's own figures at the end of the round (heap vs RSS: where the memory is); Node only. */
  memoryAtEndMb: MemorySample | null;
  /** The server's GC pauses during the round; Node only. */
  gc: GcPauses | null;
}

/** Gateway sessions are bound to their token's subject: one initialize per token, same index. */
async function openSessions(url: string, tokens: string[]): Promise<string[]> {
  const sessions: string[] = [];
  for (const token of tokens) {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'bench', version: '1' },
        },
      }),
    });
    const session = res.headers.get('mcp-session-id');
    const text = await res.text();
    if (res.status !== 200 || !session)
      throw new Error(`gateway initialize failed: HTTP ${res.status} ${text.slice(0, 300)}`);
    sessions.push(session);
  }
  return sessions;
}

async function load(
  server: ServerProcess,
  tokens: string[],
  seconds: number,
  sessions?: string[],
): Promise<Round> {
  let n = 0;
  let maxRss = 0;
  const sampler = setInterval(() => {
    void rssMb(server.child.pid as number).then((mb) => (maxRss = Math.max(maxRss, mb)));
  }, 250);
  const result = await autocannon({
    url: server.url,
    connections: CONNECTIONS,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body,
    requests: [
      {
        setupRequest: (req) => {
          const i = n++ % tokens.length;
          return {
            ...req,
            headers: {
              ...req.headers,
              authorization: `Bearer ${tokens[i]}`,
              ...(sessions ? { 'mcp-session-id': sessions[i] as string } : {}),
            },
          };
        },
      },
    ],
  });
  clearInterval(sampler);
  const { memory, gc } = server.ipc ? await memoryOf(server.child) : { memory: null, gc: null };
  return {
    memoryAtEndMb: memory,
    gc,
    reqPerSec: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    maxRssMb: Math.round(maxRss * 10) / 10,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const round2 = (n: number) => Math.round(n * 100) / 100;
const round3 = (n: number) => Math.round(n * 1000) / 1000;

async function main(): Promise<void> {
  const started = Date.now();
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'RS256', use: 'sig' };
  const jwksServer = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })),
  );
  await new Promise<void>((ok) => jwksServer.listen(0, '127.0.0.1', ok));
  const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}/certs`;

  const valkeyPort = await freePort();
  const valkey = await startValkey(valkeyPort);
  const resource = 'http://localhost:3000/mcp';
  const env = {
    MCP_RESOURCE_URL: resource,
    OIDC_ISSUER: ISSUER,
    OIDC_JWKS_URL: jwksUrl,
    VALKEY_URL: `redis://127.0.0.1:${valkeyPort}`,
    MCP_RATE_LIMIT: '100000000', // on (the script runs and headers are sent) but never reached here
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    MCP_METRICS_PORT: '0', // several servers side by side: each its own free port
    OIDC_MAX_TOKEN_LIFETIME_SECONDS: '7200', // the bench's own tokens live 2 h: a run outlasts the realm's 5 min
  };
  const signTokens = (aud: string, scope: string) =>
    Promise.all(
      Array.from({ length: USERS }, (_, i) =>
        new SignJWT({
          iss: ISSUER,
          aud,
          sub: `bench-user-${i}`,
          azp: 'bench-client',
          // Keycloak's access-token marks: the payload typ and a user session (accessTokenPolicy.ts).
          typ: 'Bearer',
          sid: `bench-session-${i}`,
          preferred_username: `user${i}`,
          scope: `openid ${scope}`,
          realm_access: { roles: [] },
        })
          .setProtectedHeader({ alg: 'RS256', kid: 'bench-1', typ: 'JWT' })
          .setIssuedAt()
          .setExpirationTime('2h')
          .sign(privateKey),
      ),
    );
  const tokens = await signTokens(resource, 'mcp:tools');
  // The gateway path's own resource: `bench` at /mcp/bench, audience and scope its own (docs/gateway.md).
  const gatewayTokens = await signTokens(`${resource}/bench`, 'mcp:bench');
  let gatewaySessions: string[] = [];
  const tokensOf = (name: Name) => (name === 'gateway' ? gatewayTokens : tokens);
  const sessionsOf = (name: Name) => (name === 'gateway' ? gatewaySessions : undefined);

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const resultsDir = join(ROOT, 'bench-results');
  const profileDir = join(resultsDir, `profile-${stamp}`);
  const servers = {} as Record<Name, ServerProcess>;
  const profileFlags = (name: Name) =>
    args.profile && name === PROFILED ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const rounds = {} as Record<Name, Round[]>;
  const idleRssMb = {} as Record<Name, number>;
  try {
    // One at a time: each builds and starts while the machine is otherwise quiet.
    for (const name of SERVERS) {
      rounds[name] = [];
      if (name === 'ceiling') servers[name] = await startNode(name, 'peers/koaCeiling.ts', env);
      else if (name === 'floor') servers[name] = await startNode(name, 'peers/koaStoreFloor.ts', env);
      else if (name === 'sdk-naive') servers[name] = await startNode(name, 'peers/sdkStateless.ts', env);
      else if (name === 'fastmcp') servers[name] = await startFastmcp(env, tokens[0] as string);
      else if (name === 'gateway') {
        // Three upstreams declared (the RSS target's setting), all the noauth server; the load uses one.
        const file = join(HERE, '.build', 'upstreams.json');
        const upstream = (n: string) => ({
          name: n,
          // noauth still wants a bearer header (any value): the upstream's own static credential.
          transport: {
            type: 'streamable-http',
            url: servers.noauth.url,
            headers: { Authorization: 'Bearer upstream-credential' },
          },
          timeoutSeconds: 30,
        });
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, JSON.stringify({ upstreams: ['bench', 'bench2', 'bench3'].map(upstream) }));
        const gateway = await startNode(
          name,
          'server.ts',
          { ...env, BENCH_MODE: 'auth', MCP_UPSTREAMS_FILE: file },
          profileFlags(name),
        );
        servers[name] = { ...gateway, url: `${gateway.url}/bench` };
        gatewaySessions = await openSessions(servers[name].url, gatewayTokens);
      } else {
        const modeEnv: Record<string, string> =
          name === 'auth-nocache' ? { BENCH_MODE: 'auth', OIDC_TOKEN_CACHE_SIZE: '0' } : { BENCH_MODE: name };
        servers[name] = await startNode(name, 'server.ts', { ...env, ...modeEnv }, profileFlags(name));
      }
    }
    for (const name of SERVERS)
      idleRssMb[name] = Math.round((await rssMb(servers[name].child.pid as number)) * 10) / 10;
    console.log(`[bench] RSS at start (idle): ${SERVERS.map((s) => `${s} ${idleRssMb[s]} MB`).join(', ')}`);
    console.log(
      `[bench] ${ROUNDS} rounds of ${DURATION} s per server (warm-up ${WARMUP} s), ${CONNECTIONS} connections, ${USERS} users${args.profile ? `; ${PROFILED} under --cpu-prof (its figures include the profiler)` : ''}`,
    );
    for (const name of SERVERS) {
      await sanity(servers[name].url, tokensOf(name)[0] as string, sessionsOf(name)?.[0]);
      await load(servers[name], tokensOf(name), WARMUP, sessionsOf(name));
    }
    for (let r = 1; r <= ROUNDS; r++) {
      // The order rotates every round, so no server always runs first (or right after a given other one).
      const order = SERVERS.map((_, i) => SERVERS[(i + r - 1) % SERVERS.length] as Name);
      for (const name of order) {
        const round = await load(servers[name], tokensOf(name), DURATION, sessionsOf(name));
        rounds[name].push(round);
        const m = round.memoryAtEndMb;
        const heap = m ? ` (at end: heap ${m.heapUsed}/${m.heapTotal} MB, external ${m.external} MB)` : '';
        const gc = round.gc
          ? `  GC ${round.gc.count} pauses, ${round.gc.totalMs} ms, max ${round.gc.maxMs} ms`
          : '';
        console.log(
          `[bench] round ${r} ${name.padEnd(12)} ${round.reqPerSec} req/s  p50 ${round.p50Ms} ms  p99 ${round.p99Ms} ms  RSS max ${round.maxRssMb} MB${heap}${gc}  non-2xx ${round.non2xx}  errors ${round.errors}`,
        );
      }
    }
  } finally {
    await Promise.all(Object.values(servers).map((s) => stop(s.child)));
    await stop(valkey);
    jwksServer.close();
    // Not left behind for eslint and prettier to trip over (they lint mcp-server/ as a whole).
    await rm(join(HERE, '.build'), { recursive: true, force: true });
  }

  const summary = (name: Name) => {
    const rs = rounds[name];
    const gcs = rs.map((r) => r.gc).filter((g): g is GcPauses => g !== null);
    return {
      idleRssMb: idleRssMb[name],
      reqPerSec: Math.round(median(rs.map((r) => r.reqPerSec))),
      p50Ms: median(rs.map((r) => r.p50Ms)),
      p99Ms: median(rs.map((r) => r.p99Ms)),
      maxRssMb: Math.max(...rs.map((r) => r.maxRssMb)),
      gcPausesPerRound: gcs.length ? median(gcs.map((g) => g.count)) : null,
      gcMsPerRound: gcs.length ? round2(median(gcs.map((g) => g.totalMs))) : null,
      gcMaxMs: gcs.length ? Math.max(...gcs.map((g) => g.maxMs)) : null,
      non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
      errors: rs.reduce((a, r) => a + r.errors, 0),
    };
  };
  const results = Object.fromEntries(SERVERS.map((s) => [s, summary(s)])) as Record<
    Name,
    ReturnType<typeof summary>
  >;
  const { auth, noauth, ceiling } = results;
  const overhead = 1 - auth.reqPerSec / noauth.reqPerSec;
  const ratios = {
    authOverCeilingThroughput: round3(auth.reqPerSec / ceiling.reqPerSec),
    authOverCeilingP99: round2(auth.p99Ms / Math.max(ceiling.p99Ms, 0.001)),
    authOverFastmcp: round2(auth.reqPerSec / results.fastmcp.reqPerSec),
    authOverSdkNaive: round2(auth.reqPerSec / results['sdk-naive'].reqPerSec),
    authOverNoauthThroughput: round3(auth.reqPerSec / noauth.reqPerSec),
    authOverhead: round3(overhead),
    noauthOverCeilingThroughput: round3(noauth.reqPerSec / ceiling.reqPerSec),
    // What the shared Valkey count alone leaves of the ceiling, and how much of that floor `auth` keeps.
    floorOverCeilingThroughput: round3(results.floor.reqPerSec / ceiling.reqPerSec),
    authOverFloorThroughput: round3(auth.reqPerSec / results.floor.reqPerSec),
    tokenCacheSpeedup: round2(auth.reqPerSec / results['auth-nocache'].reqPerSec),
    p99AuthOverNoauth: round2(auth.p99Ms / Math.max(noauth.p99Ms, 0.001)),
    gatewayOverDirectThroughput: round3(results.gateway.reqPerSec / noauth.reqPerSec),
    gatewayOverhead: round3(1 - results.gateway.reqPerSec / noauth.reqPerSec),
    gatewayP99AddedMs: round2(results.gateway.p99Ms - noauth.p99Ms),
  };
  // Each target: its value in this run, and whether it must be at least or at most the limit.
  const target = (name: string, value: number, want: '≥' | '≤', limit: number, unit: string) => ({
    name,
    value,
    ok: want === '≥' ? value >= limit : value <= limit,
    want: `${want} ${limit}${unit}`,
  });
  const targets = [
    target('throughput vs ceiling', ratios.authOverCeilingThroughput, '≥', TARGETS.throughputVsCeiling, '×'),
    target('p99 vs ceiling', ratios.authOverCeilingP99, '≤', TARGETS.p99VsCeiling, '×'),
    target('vs FastMCP', ratios.authOverFastmcp, '≥', TARGETS.vsFastmcp, '×'),
    target('vs SDK naive', ratios.authOverSdkNaive, '≥', TARGETS.vsSdkNaive, '×'),
    {
      ...target('auth overhead', ratios.authOverhead, '≤', TARGETS.authOverhead, ''),
      want: `≤ ${TARGETS.authOverhead * 100} %`, // a fraction, shown in percent
    },
    target('RSS under load', auth.maxRssMb, '≤', TARGETS.rssMb, ' MB'),
    {
      ...target('gateway overhead', ratios.gatewayOverhead, '≤', TARGETS.gatewayOverhead, ''),
      want: `≤ ${TARGETS.gatewayOverhead * 100} %`,
    },
    target('gateway p99 added', ratios.gatewayP99AddedMs, '≤', TARGETS.gatewayP99AddedMs, ' ms'),
    target('gateway RSS', results.gateway.maxRssMb, '≤', TARGETS.gatewayRssMb, ' MB'),
  ];
  // Rules: no verdict on a run in which any server answered anything but 2xx (or failed to answer).
  const failing = SERVERS.filter((s) => results[s].non2xx > 0 || results[s].errors > 0);
  const refused = failing.length > 0;

  let profile: Awaited<ReturnType<typeof profileTop>> | null = null;
  if (args.profile) {
    const file = (await readdir(profileDir).catch(() => [])).find((f) => f.endsWith('.cpuprofile'));
    if (file) profile = await profileTop(join(profileDir, file));
    else console.log(`[bench] no .cpuprofile in ${profileDir}`);
  }

  const report = {
    date: new Date().toISOString(),
    node: process.version,
    quick: args.quick,
    profiled: args.profile,
    connections: CONNECTIONS,
    durationSeconds: DURATION,
    rounds: ROUNDS,
    warmupSeconds: WARMUP,
    users: USERS,
    workload:
      'tools/call usage, RS256 bearer tokens rotated over users; ours: rate limit on, counted in Valkey; peers: counted in memory',
    results,
    ratios,
    targets: Object.fromEntries(
      targets.map((t) => [
        t.name,
        { value: t.value, want: t.want, verdict: refused ? 'REFUSED' : t.ok ? 'PASS' : 'MISS' },
      ]),
    ),
    refusedBecause: refused ? failing : null,
    profile: profile ? { dir: profileDir, ...profile } : null,
    perRound: rounds,
  };

  console.log('');
  console.log(
    `[bench] ${'server'.padEnd(13)}${'req/s'.padStart(7)}${'× ceiling'.padStart(11)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'RSS max'.padStart(9)}${'idle'.padStart(7)}${'GC/round'.padStart(10)}${'GC ms'.padStart(8)}${'non-2xx'.padStart(9)}`,
  );
  for (const s of SERVERS) {
    const x = results[s];
    console.log(
      `[bench] ${s.padEnd(13)}${String(x.reqPerSec).padStart(7)}${(x.reqPerSec / ceiling.reqPerSec).toFixed(3).padStart(11)}${String(x.p50Ms).padStart(8)}${String(x.p99Ms).padStart(8)}${String(x.maxRssMb).padStart(9)}${String(x.idleRssMb).padStart(7)}${String(x.gcPausesPerRound ?? '–').padStart(10)}${String(x.gcMsPerRound ?? '–').padStart(8)}${String(x.non2xx + x.errors).padStart(9)}`,
    );
  }
  console.log('[bench] ratios (auth = this server in production mode):');
  for (const [name, value] of Object.entries(ratios)) console.log(`[bench]   ${name.padEnd(28)} ${value}`);
  if (refused) {
    console.log(
      `[bench] REFUSED: no verdict on the targets — ${failing.join(', ')} answered non-2xx or failed (see the rounds above)`,
    );
    process.exitCode = 1;
  }
  for (const t of targets) {
    console.log(
      `[bench] ${refused ? 'REFUSED' : t.ok ? 'PASS' : 'MISS'} ${t.name.padEnd(22)} ${t.value} (target ${t.want})`,
    );
  }
  if (profile) {
    console.log(
      `[bench] ${PROFILED} CPU profile (${profile.busyMs} ms busy, ${profileDir}), top self time, share of busy time:`,
    );
    for (const f of profile.functions) console.log(`[bench]   ${String(f.share).padStart(5)} %  ${f.name}`);
    console.log('[bench] by package:');
    for (const o of profile.owners) console.log(`[bench]   ${String(o.share).padStart(5)} %  ${o.name}`);
  }
  // Last, with the servers above stopped: the running stack's Keycloak (informational, no targets).
  const keycloak = await keycloakBench({
    root: ROOT,
    quick: args.quick,
    durationSeconds: DURATION,
    warmupSeconds: WARMUP,
  });
  await mkdir(resultsDir, { recursive: true });
  const file = join(resultsDir, `bench-${stamp}.json`);
  await writeFile(file, `${JSON.stringify({ ...report, keycloak }, null, 2)}\n`);
  console.log(`[bench] written to ${file} (${Math.round((Date.now() - started) / 1000)} s)`);
}

await main();
