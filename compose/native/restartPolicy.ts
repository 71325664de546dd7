// When a supervised process dies: restart it after a growing pause, or give up after repeated fast crashes
// (a process that cannot stay up would otherwise restart forever and bury the first error in its log).
export interface RestartPolicy {
  /** A crash this soon after the process started counts as fast. */
  fastCrashMs: number;
  /** This many fast crashes in a row: give up. */
  maxFastCrashes: number;
  firstDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  fastCrashMs: 30_000,
  maxFastCrashes: 5,
  firstDelayMs: 1_000,
  maxDelayMs: 30_000,
};

export interface Crash {
  /** How long the process ran. */
  ranMs: number;
  /** Whether it had passed its readiness check: one that never got ready is not "up", however long it tried. */
  wasReady: boolean;
}

export type RestartDecision =
  | { action: 'restart'; delayMs: number; fastCrashes: number }
  | { action: 'give up'; fastCrashes: number; reason: string };

/** `fastCrashes` is the streak before this crash; the decision carries the streak after it. */
export function decideRestart(
  fastCrashes: number,
  crash: Crash,
  policy: RestartPolicy = DEFAULT_RESTART_POLICY,
): RestartDecision {
  const fast = !crash.wasReady || crash.ranMs < policy.fastCrashMs;
  // A process that stayed up a while starts a new streak: an occasional crash never adds up to giving up.
  const streak = fast ? fastCrashes + 1 : 0;
  if (streak >= policy.maxFastCrashes) {
    return {
      action: 'give up',
      fastCrashes: streak,
      reason:
        `it crashed ${streak} times in a row, each within ${policy.fastCrashMs / 1000} s of its start ` +
        'or before it was ready',
    };
  }
  const delayMs = Math.min(policy.firstDelayMs * 2 ** Math.max(0, streak - 1), policy.maxDelayMs);
  return { action: 'restart', delayMs, fastCrashes: streak };
}

/** "signal SIGKILL" / "code 1": how a log line names an exit. */
export function describeExit(exit: { code: number | null; signal: string | null }): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}
