// The MCP server as the benchmark runs it: the same startServer() as main.ts, from the same environment.
// BENCH_MODE=auth    → exactly production: JWT verification (+ token cache), scopes, Valkey rate limit + count.
// BENCH_MODE=noauth  → the baseline: every request is treated as one fixed, fully scoped caller (no token
//                      check, no hashing), and counts stay in process memory (no Valkey). Everything else —
//                      Koa, routing, CORS, logs, metrics, the MCP server and tool — is the same code.
// This file exists only for the benchmark; nothing in src/ can turn authentication off.
import type { VerifiedToken } from '../src/auth/verifiedToken.ts';
import type { AccessTokenVerifier } from '../src/auth/verifyAccessToken.ts';
import { loadConfig } from '../src/config.ts';
import { tuneHeap } from '../src/heapTuning.ts';
import { createLogger } from '../src/logger.ts';
import { startServer } from '../src/server.ts';
import type { Admission, UsageStore } from '../src/store/usageStore.ts';
import { reportToBench } from './report.ts';

const mode = process.env.BENCH_MODE;
if (mode !== 'auth' && mode !== 'noauth') throw new Error('BENCH_MODE must be auth or noauth');

const config = loadConfig(process.env);
tuneHeap(config.heapGrowingPercent); // as main.ts does
const logger = createLogger(config.logLevel);

function noAuthOverrides(): { verifier: AccessTokenVerifier; store: UsageStore } {
  const caller: VerifiedToken = {
    subject: 'bench-user',
    username: 'bench',
    clientId: 'bench',
    scopes: ['mcp:tools'],
    roles: [],
    audiences: [config.resourceUrl],
    expiresAt: Math.floor(Date.now() / 1000) + 86_400,
    claims: {},
  };
  const counts = new Map<string, number>();
  const verifier = Object.assign(async () => caller, { checkKeys: async () => {} });
  const store: UsageStore = {
    async admit(subject, countCall): Promise<Admission> {
      let count: number | null = null;
      if (countCall) counts.set(subject, (count = (counts.get(subject) ?? 0) + 1));
      return { allowed: true, limit: 0, windowSeconds: 0, remaining: 0, resetSeconds: 0, count };
    },
    getUsage: async (subject) => counts.get(subject) ?? 0,
    resetUsage: async (subject) => {
      const previous = counts.get(subject) ?? 0;
      counts.delete(subject);
      return previous;
    },
    ping: async () => {},
    close: async () => {},
  };
  return { verifier, store };
}

const running = await startServer({
  config,
  logger,
  ...(mode === 'noauth' ? { overrides: noAuthOverrides() } : {}),
});
reportToBench(running.port); // ready, then memory and GC figures on request (report.ts)
process.on('SIGTERM', () => void running.stop().then(() => process.exit(0)));
