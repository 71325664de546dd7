// The live upstream sessions of one upstream, by isolation key: one shared stdio process ('shared'), one
// process per token subject (stdio, per-subject: capped, idle ones stopped), or one HTTP session per caller
// session. Notifications an upstream sends outside a call go only to listeners of the same key, so a user
// never receives what another user's process said.
import type { Notification } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import { UpstreamConnection } from './upstreamConnection.ts';
import { UpstreamError } from './upstreamError.ts';
import type { UpstreamSpec } from './upstreamsFile.ts';

export const SHARED = 'shared';

export interface ConnectionPool {
  /** The isolation key of a caller: what decides whose upstream session serves it. */
  keyFor(subject: string, sessionId: string): string;
  get(key: string): UpstreamConnection;
  /** Ends the connection of `key` (a caller session ended, for per-session upstreams). */
  release(key: string): void;
  /** Listeners get the key's non-progress notifications; returns the unsubscribe function. */
  listen(key: string, listener: (notification: Notification) => void): () => void;
  /** For /readyz: how many sessions, in which states, and the last problem (no addresses). */
  report(): { sessions: number; states: Record<string, number>; lastProblem?: string; restarts: number };
  close(): Promise<void>;
}

export function connectionPool(spec: UpstreamSpec, logger: Logger): ConnectionPool {
  const log = logger.child({ upstream: spec.name });
  const t = spec.transport;
  const isolation = t.type === 'stdio' ? t.isolation : 'per-session';
  const cap = t.type === 'stdio' ? (t.isolation === 'shared' ? 1 : t.maxProcesses) : Infinity;
  const connections = new Map<string, UpstreamConnection>();
  const listeners = new Map<string, Set<(notification: Notification) => void>>();
  let lastProblem: string | undefined;
  let restarts = 0;

  function create(key: string): UpstreamConnection {
    // Shared: nobody in particular asked, so nobody in particular hears (see the header comment).
    const deliver = (notification: Notification) => {
      if (key === SHARED) return;
      for (const listener of listeners.get(key) ?? []) listener(notification);
    };
    if (connections.size >= cap) evictLeastRecentlyUsed();
    const connection = new UpstreamConnection(spec, log, deliver);
    connections.set(key, connection);
    return connection;
  }

  /** Makes room by stopping the least recently used idle process; a process with a call running is kept. */
  function evictLeastRecentlyUsed(): void {
    let oldest: [string, UpstreamConnection] | undefined;
    for (const entry of connections) {
      if (entry[1].inFlight > 0) continue;
      if (!oldest || entry[1].lastUsed < oldest[1].lastUsed) oldest = entry;
    }
    if (!oldest) {
      // Every process is serving a call: the newcomer waits, nobody's running call is cut off.
      throw new UpstreamError(
        'upstream_unavailable',
        spec.name,
        `is at capacity (${cap} processes busy); retry shortly`,
      );
    }
    log.warn({ processes: connections.size }, 'process cap reached: stopping the least recently used one');
    stop(oldest[0]);
  }

  function stop(key: string): void {
    const connection = connections.get(key);
    if (!connection) return;
    connections.delete(key);
    lastProblem = connection.lastProblem ?? lastProblem;
    restarts += connection.restarts;
    void connection.close();
  }

  // Per-subject processes idle for idleSeconds are stopped; the next call starts a fresh one.
  const idleMs = t.type === 'stdio' ? t.idleSeconds * 1000 : 0;
  const reaper =
    isolation === 'per-subject'
      ? setInterval(
          () => {
            const now = Date.now();
            for (const [key, connection] of connections) {
              if (now - connection.lastUsed > idleMs) {
                log.info('idle process stopped');
                stop(key);
              }
            }
          },
          Math.min(idleMs, 30_000),
        )
      : undefined;
  reaper?.unref();

  return {
    keyFor(subject, sessionId) {
      return isolation === 'shared'
        ? SHARED
        : isolation === 'per-subject'
          ? `sub:${subject}`
          : `session:${sessionId}`;
    },
    get(key) {
      return connections.get(key) ?? create(key);
    },
    release(key) {
      if (isolation === 'per-session') stop(key);
    },
    listen(key, listener) {
      let set = listeners.get(key);
      if (!set) listeners.set(key, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(key);
      };
    },
    report() {
      const states: Record<string, number> = {};
      let problem = lastProblem;
      let total = restarts;
      for (const connection of connections.values()) {
        states[connection.state] = (states[connection.state] ?? 0) + 1;
        problem = connection.lastProblem ?? problem;
        total += connection.restarts;
      }
      return {
        sessions: connections.size,
        states,
        restarts: total,
        ...(problem ? { lastProblem: problem } : {}),
      };
    },
    async close() {
      clearInterval(reaper);
      await Promise.all([...connections.values()].map((connection) => connection.close()));
      connections.clear();
    },
  };
}
