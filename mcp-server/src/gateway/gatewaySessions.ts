// Caller sessions of one upstream (MCP Streamable HTTP `Mcp-Session-Id`): issued by the gateway on
// initialize, bound to the token subject that opened them, and mapped to the upstream session that serves
// the caller (connectionPool.ts). Another subject presenting the id gets "not found", like a stranger's guess.
// Kept in this process's memory: replicas behind a load balancer need sticky routing for gateway upstreams.
import { randomBytes } from 'node:crypto';

export interface GatewaySession {
  readonly id: string;
  readonly subject: string;
  /** The connection pool's isolation key for this caller. */
  readonly key: string;
  lastUsed: number;
  /** The caller's requests in flight, by their JSON-RPC id: cancellation reaches only these. */
  readonly inflight: Map<string, AbortController>;
}

export interface GatewaySessions {
  open(subject: string, keyFor: (sessionId: string) => string): GatewaySession;
  /** The session, if it exists and belongs to `subject`. */
  find(id: string, subject: string): GatewaySession | undefined;
  end(session: GatewaySession): void;
  readonly size: number;
  close(): void;
}

export interface SessionLimits {
  /** Sessions per subject; opening one more ends that subject's least recently used session. */
  perSubject: number;
  /** Sessions of this upstream in all; opening one more ends the least recently used session. */
  total: number;
  idleMs: number;
}

export const SESSION_LIMITS: SessionLimits = { perSubject: 16, total: 5_000, idleMs: 30 * 60_000 };

export function gatewaySessions(
  onEnd: (session: GatewaySession) => void,
  { limits = SESSION_LIMITS, idPrefix = '' }: { limits?: SessionLimits; idPrefix?: string } = {},
): GatewaySessions {
  const sessions = new Map<string, GatewaySession>();

  function end(session: GatewaySession): void {
    if (!sessions.delete(session.id)) return;
    for (const controller of session.inflight.values()) controller.abort(new Error('session ended'));
    onEnd(session);
  }

  function leastRecentlyUsed(filter: (session: GatewaySession) => boolean): GatewaySession | undefined {
    let oldest: GatewaySession | undefined;
    for (const session of sessions.values())
      if (filter(session) && (!oldest || session.lastUsed < oldest.lastUsed)) oldest = session;
    return oldest;
  }

  const sweeper = setInterval(
    () => {
      const cutoff = Date.now() - limits.idleMs;
      for (const session of sessions.values())
        if (session.lastUsed < cutoff && session.inflight.size === 0) end(session);
    },
    Math.min(limits.idleMs, 60_000),
  );
  sweeper.unref();

  return {
    open(subject, keyFor) {
      let mine = 0;
      for (const session of sessions.values()) if (session.subject === subject) mine += 1;
      if (mine >= limits.perSubject) {
        const oldest = leastRecentlyUsed((s) => s.subject === subject);
        if (oldest) end(oldest);
      }
      if (sessions.size >= limits.total) {
        const oldest = leastRecentlyUsed(() => true);
        if (oldest) end(oldest);
      }
      // 192 random bits: a session id is a bearer of nothing (the token still decides), but unguessable.
      // The prefix (MCP_REPLICA_ID + '.') names the replica for sticky routing; '.' never occurs in base64url.
      const id = `${idPrefix}${randomBytes(24).toString('base64url')}`;
      const session: GatewaySession = {
        id,
        subject,
        key: keyFor(id),
        lastUsed: Date.now(),
        inflight: new Map(),
      };
      sessions.set(id, session);
      return session;
    },
    find(id, subject) {
      const session = sessions.get(id);
      if (!session || session.subject !== subject) return undefined;
      session.lastUsed = Date.now();
      return session;
    },
    end,
    get size() {
      return sessions.size;
    },
    close() {
      clearInterval(sweeper);
      for (const session of [...sessions.values()]) end(session);
    },
  };
}
