// One live MCP session with an upstream: the SDK's Client over stdio (a child process the gateway supervises)
// or Streamable HTTP (the upstream's own Mcp-Session-Id). A stdio process that exits unexpectedly is started
// again with backoff; an HTTP session that fails is opened again by the next request. Never holds a caller's
// token: requests carry only what the caller sent in `params`, plus the upstream's own static headers.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ResultSchema,
  type Implementation,
  type Notification,
  type Progress,
  type Result,
  type ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import { agentFor, HttpUpstreamTransport, UpstreamHttpError } from './httpUpstreamTransport.ts';
import { UpstreamError } from './upstreamError.ts';
import type { UpstreamSpec } from './upstreamsFile.ts';

export type ConnectionState = 'starting' | 'ready' | 'restarting' | 'down' | 'stopped';

/** What the upstream said in its initialize answer: the gateway answers a caller's initialize with it. */
export interface UpstreamInit {
  capabilities: ServerCapabilities;
  serverInfo: Implementation;
  instructions?: string;
}

export interface ForwardOptions {
  signal: AbortSignal;
  /** Present only when the caller asked for progress (it sent a progressToken). */
  onprogress?: (progress: Progress) => void;
}

// Restart delays after unexpected exits; back to the first once a process stayed up for STABLE_MS.
const BACKOFF_MS = [500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000];
const STABLE_MS = 30_000;
const GATEWAY_INFO = { name: 'mcp-keycloak-stack-gateway', version: '0.1.0' };
// A stdio server's stderr goes to the log line by line, cut so a chatty server cannot flood it.
const STDERR_LINE_MAX = 500;

export class UpstreamConnection {
  state: ConnectionState = 'starting';
  /** Why the last session ended, for /readyz and errors (never an address or a secret). */
  lastProblem: string | undefined;
  restarts = 0;
  lastUsed = Date.now();
  /** Requests sent and not yet answered: a busy connection is never stopped to make room (connectionPool). */
  inFlight = 0;
  /**
   * The caller's identity for the upstream's own API (identity: token-exchange): a header sent with every
   * HTTP request of this session. Set by the route before each forwarded request; never the caller's token.
   */
  credential: { header: string; value: string } | undefined;
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private failures = 0;
  private connectedAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt = 0;

  constructor(
    private readonly spec: UpstreamSpec,
    private readonly log: Logger,
    /** Every upstream notification that is not progress (logging, list_changed, resources/updated). */
    private readonly onNotification: (notification: Notification) => void,
  ) {}

  get init(): UpstreamInit | undefined {
    const client = this.client;
    const capabilities = client?.getServerCapabilities();
    const serverInfo = client?.getServerVersion();
    if (!client || !capabilities || !serverInfo) return undefined;
    const instructions = client.getInstructions();
    return {
      capabilities,
      serverInfo,
      ...(instructions ? { instructions } : {}),
    };
  }

  /** The connected client; connects (or waits for the running attempt) when there is none. */
  async ready(): Promise<Client> {
    this.lastUsed = Date.now();
    if (this.client && this.state === 'ready') return this.client;
    if (this.state === 'stopped')
      throw new UpstreamError('upstream_unavailable', this.spec.name, 'is stopping');
    if (this.connecting) return this.connecting;
    const wait = this.retryAt - Date.now();
    if (wait > 0) {
      throw new UpstreamError(
        'upstream_unavailable',
        this.spec.name,
        `is restarting${this.lastProblem ? ` (${this.lastProblem})` : ''}; retry in ${Math.ceil(wait / 1000)} s`,
      );
    }
    return this.connect();
  }

  async request(
    method: string,
    params: Record<string, unknown> | undefined,
    options: ForwardOptions,
  ): Promise<Result> {
    const client = await this.ready();
    this.inFlight += 1;
    try {
      return await client.request({ method, ...(params ? { params } : {}) } as never, ResultSchema, {
        signal: options.signal,
        timeout: this.spec.timeoutSeconds * 1000,
        // A long call that reports progress is alive: its timeout starts again with each report.
        resetTimeoutOnProgress: options.onprogress !== undefined,
        ...(options.onprogress ? { onprogress: options.onprogress } : {}),
      });
    } catch (error) {
      // The upstream forgot our session (it restarted): open a new one on the next request.
      if (error instanceof UpstreamHttpError && error.code === 404) this.lose('its session ended');
      throw error;
    } finally {
      this.inFlight -= 1;
      this.lastUsed = Date.now();
    }
  }

  async notify(method: string, params: Record<string, unknown> | undefined): Promise<void> {
    const client = await this.ready();
    await client.notification({ method, ...(params ? { params } : {}) } as never);
  }

  /** Deliberate stop (idle, shutdown): no restart. */
  async close(): Promise<void> {
    this.state = 'stopped';
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    // MCP spec §Session Management: a client that no longer needs its session SHOULD DELETE it; bounded so a
    // hung upstream cannot hold up a caller's DELETE or the gateway's shutdown.
    const transport = client?.transport;
    if (transport instanceof HttpUpstreamTransport) {
      await Promise.race([
        transport.terminateSession().catch(() => {}),
        new Promise((resolve) => setTimeout(resolve, 2_000).unref()),
      ]);
    }
    await client?.close().catch(() => {});
  }

  private connect(): Promise<Client> {
    this.state = this.restarts > 0 ? 'restarting' : 'starting';
    const attempt = this.open().finally(() => {
      this.connecting = undefined;
    });
    this.connecting = attempt;
    return attempt;
  }

  private async open(): Promise<Client> {
    const client = new Client(GATEWAY_INFO, { capabilities: {} });
    client.fallbackNotificationHandler = async (notification) => this.onNotification(notification);
    const transport = this.transport();
    client.onclose = () => {
      if (this.client === client) this.lose('it closed the connection');
    };
    client.onerror = (error) => this.log.debug({ err: error.message }, 'upstream transport error');
    try {
      await client.connect(transport, { timeout: this.spec.timeoutSeconds * 1000 });
    } catch (error) {
      await client.close().catch(() => {});
      const problem = describe(error);
      this.failed(problem);
      throw new UpstreamError('upstream_unavailable', this.spec.name, `could not be reached: ${problem}`, {
        cause: error,
      });
    }
    if (this.state === 'stopped') {
      await client.close().catch(() => {});
      throw new UpstreamError('upstream_unavailable', this.spec.name, 'is stopping');
    }
    this.client = client;
    this.state = 'ready';
    this.connectedAt = Date.now();
    this.retryAt = 0;
    this.log.info({ restarts: this.restarts }, 'upstream connected');
    return client;
  }

  private transport(): Transport {
    const t = this.spec.transport;
    if (t.type === 'streamable-http') {
      const url = new URL(t.url);
      return new HttpUpstreamTransport(url, {
        headers: t.headers,
        credential: () => this.credential,
        // Past the SDK's own timeout (which answers the caller): only frees a socket a hung upstream holds.
        idleTimeoutMs: this.spec.timeoutSeconds * 1000 + 5_000,
        agent: agentFor(this.spec.name, url),
      });
    }
    const transport = new StdioClientTransport({
      command: t.command,
      args: t.args,
      // A minimal environment (PATH, HOME, …) plus the file's: the gateway's own secrets never reach it.
      env: { ...getDefaultEnvironment(), ...t.env },
      ...(t.cwd ? { cwd: t.cwd } : {}),
      stderr: 'pipe',
    });
    let partial = '';
    transport.stderr?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = (lines.pop() ?? '').slice(0, STDERR_LINE_MAX);
      for (const line of lines)
        if (line.trim()) this.log.info({ stderr: line.slice(0, STDERR_LINE_MAX) }, 'upstream stderr');
    });
    return transport;
  }

  /** An unexpected end of a session that was up. */
  private lose(problem: string): void {
    const client = this.client;
    this.client = undefined;
    void client?.close().catch(() => {});
    if (this.state === 'stopped') return;
    if (Date.now() - this.connectedAt >= STABLE_MS) this.failures = 0;
    this.log.warn({ problem }, 'upstream session ended');
    this.failed(problem);
  }

  private failed(problem: string): void {
    this.lastProblem = problem;
    if (this.state === 'stopped') return;
    const delay = BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)] as number;
    this.failures += 1;
    this.restarts += 1;
    this.retryAt = Date.now() + delay;
    this.state = 'down';
    // A stdio server is ours to keep running: start it again by itself. An HTTP upstream is someone else's
    // process: the next request reopens the session (after the same backoff).
    if (this.spec.transport.type === 'stdio') {
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => {
        if (this.state === 'down' && !this.connecting) this.connect().catch(() => {});
      }, delay);
      this.retryTimer.unref();
    }
  }
}

/** One short reason, without URLs (they may be internal addresses). */
function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/https?:\/\/\S+/g, '<upstream>').slice(0, 200);
}
