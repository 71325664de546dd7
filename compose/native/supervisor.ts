// Keeps the stack's long-running processes up once it has started: a process that dies is restarted with
// backoff (restartPolicy.ts) and counts as up again only once its readiness check passes; repeated fast crashes
// end in giving up, which the launcher answers by stopping the stack. Nothing restarts once stop() is called.
import { setTimeout as sleep } from 'node:timers/promises';
import type { LastExit, ProcessStatus } from './launcherLock.ts';
import { ManagedChild, killGroupLeftovers, type ChildSpec, type ExitInfo } from './managedChild.ts';
import { say as defaultSay, seconds } from './output.ts';
import { waitUntilReady, type ReadinessCheck } from './readiness.ts';
import { DEFAULT_RESTART_POLICY, decideRestart, describeExit, type RestartPolicy } from './restartPolicy.ts';

export interface SupervisedService {
  /** How to start it again: the same spec as the first start (same data dir, config file and log). */
  spec: ChildSpec;
  /** The process the stack started. */
  child: ManagedChild;
  /** Absent: up as soon as it is spawned. */
  ready?: ReadinessCheck;
  readyTimeoutMs: number;
}

export interface GiveUp {
  name: string;
  reason: string;
  lastExit: string;
  logFile: string;
  tail: string[];
}

interface Tracked {
  service: SupervisedService;
  child: ManagedChild;
  /** t.child's exit, or a failed spawn's. */
  exited: Promise<ExitInfo>;
  status: ProcessStatus;
  startedAtMs: number;
  ready: boolean;
  fastCrashes: number;
  /** Set while a maintenance hold (hold()) keeps the process stopped; resolved by release(). */
  hold?: { released: Promise<void>; release: () => void };
}

export interface SupervisorOptions {
  policy?: RestartPolicy;
  /** Called after every state change, one call at a time, in order (the launcher writes its lock). */
  onChange?: (processes: ProcessStatus[]) => Promise<void>;
  say?: (line: string) => void;
}

export class Supervisor {
  /** Resolves when a process is given up on; never rejects. */
  readonly gaveUp: Promise<GiveUp>;
  private resolveGaveUp!: (giveUp: GiveUp) => void;
  private readonly tracked: Tracked[];
  private readonly policy: RestartPolicy;
  private readonly say: (line: string) => void;
  private readonly onChange: (processes: ProcessStatus[]) => Promise<void>;
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];
  private writes: Promise<void> = Promise.resolve();

  constructor(services: SupervisedService[], options: SupervisorOptions = {}) {
    this.policy = options.policy ?? DEFAULT_RESTART_POLICY;
    this.say = options.say ?? defaultSay;
    this.onChange = options.onChange ?? (async () => undefined);
    this.gaveUp = new Promise((resolve) => (this.resolveGaveUp = resolve));
    this.tracked = services.map((service) => ({
      service,
      child: service.child,
      exited: service.child.exited,
      startedAtMs: service.child.startedAt,
      ready: true,
      fastCrashes: 0,
      status: {
        name: service.spec.name,
        state: 'running',
        pid: service.child.pid,
        restarts: 0,
        startedAt: new Date(service.child.startedAt).toISOString(),
        logFile: service.spec.logFile,
      },
    }));
  }

  get stopping(): boolean {
    return this.abort.signal.aborted;
  }

  start(): void {
    this.changed();
    this.loops = this.tracked.map((t) => this.watch(t));
  }

  statuses(): ProcessStatus[] {
    return this.tracked.map((t) => ({ ...t.status }));
  }

  /** The processes that are alive now, in start order. */
  running(): ManagedChild[] {
    return this.tracked.map((t) => t.child).filter((c) => c.running);
  }

  /** Stops every process in reverse start order; pending restarts are cancelled, not run. */
  async stop(): Promise<void> {
    this.abort.abort();
    for (const t of [...this.tracked].reverse()) await t.child.stop();
    // A restart that was spawning when stop() began stops its own process (see watch()).
    await Promise.all(this.loops);
    await this.writes;
  }

  /**
   * A maintenance hold (`npm run backup` copying Keycloak's H2 files): stops the process and keeps it stopped,
   * state `held`, until release(). Not a crash: no backoff, no restart counted. Only a running process is held.
   */
  async hold(name: string): Promise<void> {
    const t = this.find(name);
    if (t.hold) return;
    if (t.status.state !== 'running') throw new Error(`${name} is ${t.status.state}, not running`);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    t.hold = { released, release };
    await t.child.stop();
  }

  /** Ends a hold: the process is started again with its own spec and counts as running once ready. */
  release(name: string): void {
    this.find(name).hold?.release();
  }

  held(): string[] {
    return this.tracked.filter((t) => t.hold).map((t) => t.status.name);
  }

  private find(name: string): Tracked {
    const t = this.tracked.find((candidate) => candidate.status.name === name);
    if (!t) throw new Error(`no supervised process named ${name}`);
    return t;
  }

  private changed(): void {
    if (this.stopping) return;
    const processes = this.statuses();
    this.writes = this.writes
      .then(() => this.onChange(processes))
      .catch((error: unknown) => this.say(`warning: could not record process states: ${String(error)}`));
  }

  private async watch(t: Tracked): Promise<void> {
    for (;;) {
      const exit = await t.exited;
      if (this.stopping) return;
      if (t.hold) {
        killGroupLeftovers(t.child.pid);
        t.status = { ...t.status, state: 'held' };
        this.changed();
        this.say(`${t.status.name} stopped for maintenance (held until released)`);
        const aborted = new Promise<void>((resolve) =>
          this.abort.signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        await Promise.race([t.hold.released, aborted]);
        t.hold = undefined;
        if (this.stopping) return;
        t.status = { ...t.status, state: 'restarting' };
        this.changed();
        await this.restart(t);
        if (this.stopping) {
          await t.child.stop();
          return;
        }
        continue;
      }
      const ranMs = Date.now() - t.startedAtMs;
      const lastExit: LastExit = { ...exit, at: new Date().toISOString(), ranMs };
      t.status = { ...t.status, lastExit };
      killGroupLeftovers(t.child.pid);
      const decision = decideRestart(t.fastCrashes, { ranMs, wasReady: t.ready }, this.policy);
      const name = t.status.name;
      if (decision.action === 'give up') {
        t.status = { ...t.status, state: 'gave up' };
        this.changed();
        this.resolveGaveUp({
          name,
          reason: decision.reason,
          lastExit: describeExit(exit),
          logFile: t.status.logFile,
          tail: await t.child.tail(30),
        });
        return;
      }
      t.fastCrashes = decision.fastCrashes;
      t.status = { ...t.status, state: 'restarting', restarts: t.status.restarts + 1 };
      this.changed();
      this.say(
        `${name} exited (${describeExit(exit)}${t.ready ? '' : ', before it was ready'}): restarting in ` +
          `${formatDelay(decision.delayMs)} (restart ${t.status.restarts})`,
      );
      try {
        await sleep(decision.delayMs, undefined, { signal: this.abort.signal });
      } catch {
        return; // stopping
      }
      await this.restart(t);
      if (this.stopping) {
        await t.child.stop();
        return;
      }
    }
  }

  /** Spawns the replacement and waits for its readiness; any failure shows up as an exit of t.child. */
  private async restart(t: Tracked): Promise<void> {
    const { service } = t;
    t.ready = false;
    t.startedAtMs = Date.now();
    try {
      t.child = await ManagedChild.start(service.spec, { append: true });
    } catch (error) {
      // Could not even spawn (binary gone?): counts as a fast crash, so it ends in giving up, not a loop.
      this.say(`${(error as Error).message}`);
      t.exited = Promise.resolve({ code: 127, signal: null });
      return;
    }
    t.exited = t.child.exited;
    t.status = { ...t.status, pid: t.child.pid, startedAt: new Date(t.startedAtMs).toISOString() };
    this.changed();
    if (this.stopping) return;
    if (service.ready) {
      try {
        await waitUntilReady({
          name: t.status.name,
          child: t.child,
          check: service.ready,
          timeoutMs: service.readyTimeoutMs,
        });
      } catch {
        // Died before it was ready: the loop sees the exit. Never got ready: stopped, and counted the same.
        if (t.child.running) {
          this.say(`${t.status.name} was not ready within ${seconds(service.readyTimeoutMs)}; stopping it`);
          await t.child.stop();
        }
        return;
      }
    }
    if (this.stopping) return;
    t.ready = true;
    t.status = { ...t.status, state: 'running' };
    this.changed();
    this.say(
      `${t.status.name} is back (pid ${t.child.pid}, up in ${seconds(Date.now() - t.startedAtMs)}, ` +
        `restart ${t.status.restarts})`,
    );
  }
}

function formatDelay(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
