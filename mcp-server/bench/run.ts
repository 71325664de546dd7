// `npm run bench`: authenticated MCP tools/call throughput, latency and memory, against the same server
// with authentication off, measured side by side in one run on this machine (autocannon, loopback).
//
// Setup: an RSA key made here with jose, its JWKS served by a tiny local HTTP server (the verifier fetches
// it like Keycloak's), real RS256 access tokens for BENCH_USERS subjects (rotated across requests, so the
// token cache and Valkey see many keys), a private valkey-server (or redis-server) on a free port, and three
// server processes (bench/server.ts): auth (production path), noauth (baseline) and auth-nocache
// (production with the token cache off, for information). Rounds rotate the order so all see the same
// machine load; the median round of each counts.
//
// Prints every figure and the ratios, and writes them to bench-results/bench-<timestamp>.json.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { connect, createServer as createNetServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { MALLOC_ENV, SEMI_SPACE_NODE_OPTION } from '../src/heapTuning.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const DURATION = Number(process.env.BENCH_DURATION_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const USERS = Number(process.env.BENCH_USERS ?? 64);
const TARGETS = { reqPerSec: 5_000, p99Ms: 15, overhead: 0.15, rssMb: 120 };
const ISSUER = 'http://bench.invalid/realms/mcp';

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
  rssSamples: number[];
}

/**
 * The server is compiled ahead of time (esbuild, which tsx already brings), as the container image runs it
 * (`node dist/…`): running through tsx adds its loader and esbuild's in-memory output, ≈ 35 MB of RSS that
 * production does not carry. BENCH_RUNNER=tsx measures the `npm start` way instead.
 */
async function serverCommand(): Promise<string[]> {
  // As production starts it (the image's NODE_OPTIONS, the launcher's argv); BENCH_NODE_FLAGS come after.
  const flags = [SEMI_SPACE_NODE_OPTION, ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean)];
  if (process.env.BENCH_RUNNER === 'tsx') return [...flags, '--import', 'tsx', join(HERE, 'server.ts')];
  // Two levels below mcp-server/, like the image's dist/src/main.js, so paths relative to the module (the
  // console's static files) resolve the same way.
  const outfile = join(HERE, '.build', 'server.mjs');
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(HERE, 'server.ts')],
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

/**
 * auth: production. noauth: the baseline (bench/server.ts). auth-nocache: production with the verified-token
 * cache off (OIDC_TOKEN_CACHE_SIZE=0), so every request pays jose's full RS256 verification; shown for what
 * the cache is worth, not held to the targets.
 */
type Mode = 'auth' | 'noauth' | 'auth-nocache';
const MODES: readonly Mode[] = ['auth', 'noauth', 'auth-nocache'];

async function startMcpServer(mode: Mode, env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort();
  const modeEnv =
    mode === 'auth-nocache' ? { BENCH_MODE: 'auth', OIDC_TOKEN_CACHE_SIZE: '0' } : { BENCH_MODE: mode };
  const child = track(
    spawn(process.execPath, await serverCommand(), {
      cwd: ROOT,
      env: {
        ...process.env,
        ...MALLOC_ENV, // as the image and the launcher start the server
        ...env,
        ...modeEnv,
        MCP_PORT: String(port),
        MCP_HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    }),
  );
  await new Promise<void>((ok, fail) => {
    child.once('message', () => ok());
    child.once('exit', (code) => fail(new Error(`${mode} server exited with ${code}`)));
  });
  return { child, url: `http://127.0.0.1:${port}/mcp`, rssSamples: [] };
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

/** process.memoryUsage() of the server, in MB, and its GC pauses since the last ask, over IPC. */
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
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

const body = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'usage', arguments: {} },
});

async function sanity(url: string, token: string): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body,
  });
  const json = (await res.json()) as { result?: { structuredContent?: { count?: number } } };
  if (res.status !== 200 || typeof json.result?.structuredContent?.count !== 'number') {
    throw new Error(`sanity check failed on ${url}: ${res.status} ${JSON.stringify(json)}`);
  }
}

interface Round {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  maxRssMb: number;
  /** The server's own figures at the end of the round (heap vs RSS: where the memory is). */
  memoryAtEndMb: MemorySample;
  /** The server's GC pauses during the round. */
  gc: GcPauses;
}

async function load(server: ServerProcess, tokens: string[], seconds: number): Promise<Round> {
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
        setupRequest: (req: Record<string, unknown>) => ({
          ...req,
          headers: {
            ...(req.headers as Record<string, string>),
            authorization: `Bearer ${tokens[n++ % tokens.length]}`,
          },
        }),
      },
    ],
  });
  clearInterval(sampler);
  const { memory: memoryAtEndMb, gc } = await memoryOf(server.child);
  return {
    memoryAtEndMb,
    gc,
    reqPerSec: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    maxRssMb: Math.round(maxRss * 10) / 10,
  };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

async function main(): Promise<void> {
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
  const tokens = await Promise.all(
    Array.from({ length: USERS }, (_, i) =>
      new SignJWT({
        iss: ISSUER,
        aud: resource,
        sub: `bench-user-${i}`,
        azp: 'bench-client',
        // Keycloak's access-token marks: the payload typ and a user session (accessTokenPolicy.ts).
        typ: 'Bearer',
        sid: `bench-session-${i}`,
        preferred_username: `user${i}`,
        scope: 'openid mcp:tools',
        realm_access: { roles: [] },
      })
        .setProtectedHeader({ alg: 'RS256', kid: 'bench-1', typ: 'JWT' })
        .setIssuedAt()
        .setExpirationTime('2h')
        .sign(privateKey),
    ),
  );

  const servers = {} as Record<Mode, ServerProcess>;
  const rounds = {} as Record<Mode, Round[]>;
  const idleRssMb = {} as Record<Mode, number>;
  for (const mode of MODES) {
    servers[mode] = await startMcpServer(mode, env);
    rounds[mode] = [];
  }
  for (const mode of MODES)
    idleRssMb[mode] = Math.round((await rssMb(servers[mode].child.pid as number)) * 10) / 10;
  console.log(`[bench] RSS at start (idle): ${MODES.map((m) => `${m} ${idleRssMb[m]} MB`).join(', ')}`);
  try {
    for (const mode of MODES) {
      await sanity(servers[mode].url, tokens[0] as string);
      console.log(`[bench] warming up ${mode} …`);
      await load(servers[mode], tokens, 3);
    }
    for (let r = 1; r <= ROUNDS; r++) {
      // The order rotates every round, so no mode always runs first (or right after a given other one).
      const order = MODES.map((_, i) => MODES[(i + r - 1) % MODES.length] as Mode);
      for (const mode of order) {
        const round = await load(servers[mode], tokens, DURATION);
        rounds[mode].push(round);
        const m = round.memoryAtEndMb;
        console.log(
          `[bench] round ${r} ${mode.padEnd(12)} ${round.reqPerSec} req/s  p50 ${round.p50Ms} ms  p99 ${round.p99Ms} ms  RSS max ${round.maxRssMb} MB (at end: heap ${m.heapUsed}/${m.heapTotal} MB, external ${m.external} MB)  GC ${round.gc.count} pauses, ${round.gc.totalMs} ms, max ${round.gc.maxMs} ms  non-2xx ${round.non2xx}  errors ${round.errors}`,
        );
      }
    }
  } finally {
    for (const s of Object.values(servers)) s.child.kill('SIGTERM');
    valkey.kill('SIGTERM');
    jwksServer.close();
    // Not left behind for eslint and prettier to trip over (they lint mcp-server/ as a whole).
    await rm(join(HERE, '.build'), { recursive: true, force: true });
  }

  const summary = (mode: Mode) => ({
    idleRssMb: idleRssMb[mode],
    reqPerSec: median(rounds[mode].map((r) => r.reqPerSec)),
    p50Ms: median(rounds[mode].map((r) => r.p50Ms)),
    p99Ms: median(rounds[mode].map((r) => r.p99Ms)),
    maxRssMb: Math.max(...rounds[mode].map((r) => r.maxRssMb)),
    non2xx: rounds[mode].reduce((a, r) => a + r.non2xx, 0),
    errors: rounds[mode].reduce((a, r) => a + r.errors, 0),
  });
  const auth = summary('auth');
  const noauth = summary('noauth');
  const authNoCache = summary('auth-nocache');
  const overhead = 1 - auth.reqPerSec / noauth.reqPerSec;
  const checks = {
    reqPerSec: auth.reqPerSec >= TARGETS.reqPerSec,
    p99: auth.p99Ms <= TARGETS.p99Ms,
    overhead: overhead <= TARGETS.overhead,
    rss: auth.maxRssMb <= TARGETS.rssMb,
    noErrors: [auth, noauth, authNoCache].every((m) => m.non2xx === 0 && m.errors === 0),
  };
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    connections: CONNECTIONS,
    durationSeconds: DURATION,
    rounds: ROUNDS,
    users: USERS,
    workload: 'tools/call usage, RS256 bearer tokens rotated over users, rate limit on, counted in Valkey',
    auth,
    noauth,
    authNoCache,
    ratios: {
      tokenCacheSpeedup: Math.round((auth.reqPerSec / authNoCache.reqPerSec) * 100) / 100,
      authOverNoauthThroughput: Math.round((auth.reqPerSec / noauth.reqPerSec) * 1000) / 1000,
      authOverhead: Math.round(overhead * 1000) / 1000,
      p99AuthOverNoauth: Math.round((auth.p99Ms / Math.max(noauth.p99Ms, 0.001)) * 100) / 100,
    },
    targets: TARGETS,
    checks,
    perRound: rounds,
  };
  console.log('');
  console.log(
    `[bench] auth    ${auth.reqPerSec} req/s  p50 ${auth.p50Ms} ms  p99 ${auth.p99Ms} ms  RSS max ${auth.maxRssMb} MB`,
  );
  console.log(
    `[bench] noauth  ${noauth.reqPerSec} req/s  p50 ${noauth.p50Ms} ms  p99 ${noauth.p99Ms} ms  RSS max ${noauth.maxRssMb} MB`,
  );
  console.log(
    `[bench] auth-nocache ${authNoCache.reqPerSec} req/s  p50 ${authNoCache.p50Ms} ms  p99 ${authNoCache.p99Ms} ms  RSS max ${authNoCache.maxRssMb} MB  (token cache off: full RS256 verification per request; not a target)`,
  );
  console.log(
    `[bench] auth/noauth throughput ${report.ratios.authOverNoauthThroughput} (overhead ${(overhead * 100).toFixed(1)}%, target ≤ ${TARGETS.overhead * 100}%)`,
  );
  for (const [name, ok] of Object.entries(checks)) console.log(`[bench] ${ok ? 'PASS' : 'MISS'} ${name}`);
  const dir = join(ROOT, 'bench-results');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `bench-${report.date.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`[bench] written to ${file}`);
}

await main();
