// One fault drill's course, the same for the native stack and the compose profile: steady load, the fault, the
// load watched until the part is back and each kind of operation has been seen after it; then the drill's
// figures are printed (drillReport.ts) and every broken bound — plus any usage count gone backwards over the whole
// run so far — fails it. What the fault is and which bounds apply is the caller's.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  countRegressions,
  failuresOutside,
  figures,
  formatDrill,
  OPERATIONS,
  type DrillTimes,
  type LossAllowance,
} from './drillReport.ts';
import type { Load, LoadRecord, Operation } from './load.ts';
import { poll } from './nativeStack.ts';

/** Load before each fault, so the drill's window shows the steady state it breaks. */
const BASELINE_MS = 3_000;
/** Load watched after the fault is repaired, at least (and until two logins and two refreshes are answered). */
const AFTER_BACK_MS = 5_000;

export interface DrillSession {
  /** Runs one drill; throws with every broken bound. */
  drill(
    name: string,
    inject: () => Promise<{ faultAt: number; backAt: number }>,
    bounds: (drill: DrillTimes) => string[] | Promise<string[]>,
    notes?: (drill: DrillTimes) => string[],
  ): Promise<void>;
  /** Failures of `op` are allowed only for what was in flight at the fault or sent until `until`. */
  onlyUntil(times: DrillTimes, op: Operation, until: number, rule: string): string[];
  /** No failure of `op` at all in the drill's window. */
  never(times: DrillTimes, op: Operation, rule: string): string[];
  /** Stretches whose answered counts may be lost (a Valkey kill: its AOF's last second). */
  readonly allowances: LossAllowance[];
  /** How long each drill took, by name. */
  readonly timings: Record<string, number>;
  /** True once a drill (or the set-up, through markFailed) failed: keep logs for a post-mortem. */
  readonly failed: boolean;
  markFailed(): void;
}

export function drillSession(load: () => Load | undefined): DrillSession {
  const allowances: LossAllowance[] = [];
  const timings: Record<string, number> = {};
  let failed = false;
  const records = (): readonly LoadRecord[] => load()?.records ?? [];

  const session: DrillSession = {
    allowances,
    timings,
    get failed() {
      return failed;
    },
    markFailed() {
      failed = true;
    },
    async drill(name, inject, bounds, notes = () => []) {
      try {
        const running = load();
        assert.ok(running, 'the load is running');
        const from = Date.now();
        await sleep(BASELINE_MS);
        const { faultAt, backAt } = await inject();
        await poll(
          'two logins and two refreshes answered after the fault was repaired',
          120_000,
          async () => {
            const afterBack = records().filter((r) => r.sentAt >= backAt);
            const enough =
              Date.now() >= backAt + AFTER_BACK_MS &&
              afterBack.filter((r) => r.op === 'login').length >= 2 &&
              afterBack.filter((r) => r.op === 'refresh').length >= 2;
            return enough || undefined;
          },
        );
        const to = Date.now();
        await running.settled(to);
        const times: DrillTimes = { name, from, to, faultAt, backAt };
        timings[name] = to - from;
        for (const line of [...formatDrill(times, figures(records(), times)), ...notes(times)])
          console.log(line);
        const problems = [
          // Nothing fails before the fault: a drill starts from a healthy stack.
          ...OPERATIONS.flatMap((op) =>
            failuresOutside(
              records(),
              times,
              op,
              (r) => r.doneAt >= faultAt,
              'nothing fails before the fault',
            ),
          ),
          ...(await bounds(times)),
          ...countRegressions(records(), allowances),
        ];
        assert.deepEqual(problems, [], `drill "${name}" out of bounds:\n- ${problems.join('\n- ')}`);
      } catch (error) {
        failed = true;
        throw error;
      }
    },
    onlyUntil: (times, op, until, rule) =>
      failuresOutside(records(), times, op, (r) => r.doneAt >= times.faultAt && r.sentAt <= until, rule),
    never: (times, op, rule) => failuresOutside(records(), times, op, () => false, rule),
  };
  return session;
}
