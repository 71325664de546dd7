// What one fault drill did to the load (load.ts): per operation the requests sent, how many failed and why,
// the longest time without a success and how long after the fault it recovered; and the bound checks a drill
// is judged by. Each check returns the problems it found as sentences (none: within bounds), so a drill can
// report every broken bound at once. Times are Date.now() milliseconds; figures are printed, never asserted
// against a performance target — only the recovery bounds a drill names are.
import type { LoadRecord, Operation } from './load.ts';

export interface DrillTimes {
  name: string;
  /** Records sent in [from, to) belong to the drill. */
  from: number;
  to: number;
  /** When the fault was injected (a kill, the start of a stop). */
  faultAt: number;
  /** When the faulty part was reported back (the supervisor, a probe, `npm start` returning). */
  backAt: number;
}

export interface OperationFigures {
  op: Operation;
  sent: number;
  ok: number;
  failed: number;
  /** Failures by category (load.ts `failure`), most frequent first. */
  failedBy: [string, number][];
  /** Sent before the fault and answered after it. */
  inFlightAtFault: number;
  /** The longest stretch of the window without a success (from its start, between successes, to its end). */
  longestGapMs: number;
  /**
   * From the fault to the first success sent after the window's last failure; undefined when nothing failed
   * (`recovered` true) or nothing succeeded after the last failure (`recovered` false).
   */
  recoveryMs: number | undefined;
  recovered: boolean;
}

export const OPERATIONS: readonly Operation[] = ['tool call', 'login', 'refresh'];

export function inWindow(records: readonly LoadRecord[], drill: DrillTimes): LoadRecord[] {
  return records.filter((r) => r.sentAt >= drill.from && r.sentAt < drill.to);
}

export function figures(records: readonly LoadRecord[], drill: DrillTimes): OperationFigures[] {
  const window = inWindow(records, drill);
  return OPERATIONS.map((op) => {
    const mine = window.filter((r) => r.op === op);
    const failures = mine.filter((r) => !r.ok);
    const failedBy = new Map<string, number>();
    for (const r of failures) failedBy.set(r.failure ?? '?', (failedBy.get(r.failure ?? '?') ?? 0) + 1);
    const successTimes = mine
      .filter((r) => r.ok)
      .map((r) => r.doneAt)
      .sort((a, b) => a - b);
    let longestGapMs = 0;
    let previous = drill.from;
    for (const t of [...successTimes, drill.to]) {
      longestGapMs = Math.max(longestGapMs, t - previous);
      previous = Math.max(previous, t);
    }
    const lastFailure = Math.max(...failures.map((r) => r.sentAt));
    const firstAfter = mine
      .filter((r) => r.ok && r.sentAt > lastFailure)
      .reduce((min, r) => Math.min(min, r.doneAt), Number.POSITIVE_INFINITY);
    const recovered = failures.length === 0 || Number.isFinite(firstAfter);
    return {
      op,
      sent: mine.length,
      ok: mine.length - failures.length,
      failed: failures.length,
      failedBy: [...failedBy].sort((a, b) => b[1] - a[1]),
      inFlightAtFault: mine.filter((r) => r.sentAt < drill.faultAt && r.doneAt >= drill.faultAt).length,
      longestGapMs,
      recoveryMs: failures.length > 0 && recovered ? firstAfter - drill.faultAt : undefined,
      recovered,
    };
  });
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

const LABELS: Record<Operation, string> = {
  'tool call': 'tool calls',
  login: 'logins',
  refresh: 'refreshes',
};

/** The drill's summary: a heading line, then one line per operation. */
export function formatDrill(drill: DrillTimes, rows: readonly OperationFigures[]): string[] {
  const lines = [
    `drill "${drill.name}": back ${seconds(drill.backAt - drill.faultAt)} after the fault; ` +
      `window ${seconds(drill.to - drill.from)} (${seconds(drill.faultAt - drill.from)} before the fault)`,
  ];
  for (const row of rows) {
    const failed =
      row.failed === 0
        ? 'failed 0'
        : `failed ${row.failed} (${row.failedBy.map(([k, n]) => `${k} ${n}`).join(', ')})`;
    const recovery =
      row.failed === 0
        ? 'recovery - (nothing failed)'
        : row.recovered
          ? `recovery ${seconds(row.recoveryMs ?? 0)}`
          : 'NOT RECOVERED';
    lines.push(
      `  ${LABELS[row.op].padEnd(10)} sent ${String(row.sent).padStart(5)}  ok ${String(row.ok).padStart(5)}  ` +
        `${failed}; in flight at the fault ${row.inFlightAtFault}; longest gap ${seconds(row.longestGapMs)}; ${recovery}`,
    );
  }
  return lines;
}

const at = (drill: DrillTimes, t: number) => `${t >= drill.faultAt ? '+' : ''}${seconds(t - drill.faultAt)}`;

/**
 * Failures of `op` in the drill's window that `allowed` does not excuse. `rule` says what is allowed, for the
 * message; a few examples name category and send time relative to the fault.
 */
export function failuresOutside(
  records: readonly LoadRecord[],
  drill: DrillTimes,
  op: Operation,
  allowed: (record: LoadRecord) => boolean,
  rule: string,
): string[] {
  const bad = inWindow(records, drill).filter((r) => r.op === op && !r.ok && !allowed(r));
  if (bad.length === 0) return [];
  const examples = bad
    .slice(0, 4)
    .map(
      (r) =>
        `${r.failure} (${r.user}, sent ${at(drill, r.sentAt)}${r.detail ? `: ${r.detail.slice(0, 120)}` : ''})`,
    );
  return [`${LABELS[op]}: ${bad.length} failed outside the bound (${rule}), e.g. ${examples.join('; ')}`];
}

/** A success of `op` sent at or after `since` and answered within `withinMs` of it (recovery really observed). */
export function succeededWithin(
  records: readonly LoadRecord[],
  drill: DrillTimes,
  op: Operation,
  since: number,
  withinMs: number,
  what: string,
): string[] {
  const first = records
    .filter((r) => r.op === op && r.ok && r.sentAt >= since)
    .reduce((min, r) => Math.min(min, r.doneAt), Number.POSITIVE_INFINITY);
  if (first - since <= withinMs) return [];
  return [
    Number.isFinite(first)
      ? `${LABELS[op]}: the first success after ${what} came ${seconds(first - since)} after it (bound ${seconds(withinMs)})`
      : `${LABELS[op]}: no success after ${what} (${at(drill, since)})`,
  ];
}

/** `label` took `ms`, more than `boundMs`. */
export function withinBound(label: string, ms: number, boundMs: number): string[] {
  return ms <= boundMs ? [] : [`${label} took ${seconds(ms)} (bound ${seconds(boundMs)})`];
}

/** A stretch in which answered counts may be lost: answers that arrived in [from, to]. */
export interface LossAllowance {
  from: number;
  to: number;
}

/**
 * Usage counts that went backwards. A tool call answered before another was sent was counted before it, so the
 * later one must answer a higher count for the same user (one Valkey, an atomic INCR) — unless the earlier
 * answer arrived within an allowance (Valkey killed: the last second of its AOF) and the later call was sent
 * after that allowance ended. Lost counts are data loss; equal counts would be a broken count.
 */
export function countRegressions(
  records: readonly LoadRecord[],
  allowances: readonly LossAllowance[] = [],
): string[] {
  const problems: string[] = [];
  const byUser = new Map<string, LoadRecord[]>();
  for (const r of records) {
    if (r.op !== 'tool call' || !r.ok || r.count === undefined) continue;
    byUser.set(r.user, [...(byUser.get(r.user) ?? []), r]);
  }
  for (const [user, calls] of byUser) {
    const byDone = [...calls].sort((a, b) => a.doneAt - b.doneAt);
    const bySent = [...calls].sort((a, b) => a.sentAt - b.sentAt);
    let highest = Number.NEGATIVE_INFINITY; // answered outside every allowance
    const highestIn = allowances.map(() => Number.NEGATIVE_INFINITY);
    let next = 0;
    let regressions = 0;
    let example = '';
    for (const call of bySent) {
      for (; next < byDone.length && (byDone[next] as LoadRecord).doneAt < call.sentAt; next += 1) {
        const earlier = byDone[next] as LoadRecord;
        const allowance = allowances.findIndex((a) => earlier.doneAt >= a.from && earlier.doneAt <= a.to);
        if (allowance === -1) highest = Math.max(highest, earlier.count as number);
        else highestIn[allowance] = Math.max(highestIn[allowance] as number, earlier.count as number);
      }
      let bound = highest;
      allowances.forEach((a, i) => {
        if (call.sentAt <= a.to) bound = Math.max(bound, highestIn[i] as number);
      });
      if ((call.count as number) <= bound) {
        regressions += 1;
        example ||= `count ${call.count} answered to a call sent at ${new Date(call.sentAt).toISOString()}, after ${bound} had been answered`;
      }
    }
    if (regressions > 0)
      problems.push(`${user}: ${regressions} tool calls answered a count already seen (${example})`);
  }
  return problems;
}

export interface CountsAcross {
  users: number;
  /** Counts answered before the fault that the first calls after it no longer include, summed over users. */
  lost: number;
  /** Of those, answered before `fault - allowedMs` (not excused by an allowance). */
  lostBeyondAllowance: number;
}

/** How each user's count came through a fault: the highest answered before it against the first after it. */
export function countsAcross(records: readonly LoadRecord[], faultAt: number, allowedMs = 0): CountsAcross {
  const result: CountsAcross = { users: 0, lost: 0, lostBeyondAllowance: 0 };
  const users = new Set(records.filter((r) => r.op === 'tool call').map((r) => r.user));
  for (const user of users) {
    const calls = records.filter(
      (r) => r.op === 'tool call' && r.ok && r.user === user && r.count !== undefined,
    );
    const highest = (until: number) =>
      Math.max(0, ...calls.filter((r) => r.doneAt < until).map((r) => r.count as number));
    const after = calls.filter((r) => r.sentAt >= faultAt).map((r) => r.count as number);
    if (after.length === 0) continue;
    result.users += 1;
    const kept = Math.min(...after) - 1;
    result.lost += Math.max(0, highest(faultAt) - kept);
    result.lostBeyondAllowance += Math.max(0, highest(faultAt - allowedMs) - kept);
  }
  return result;
}

/** One line for a CountsAcross. */
export function formatCounts(counts: CountsAcross, allowance: string): string {
  return (
    `  counts     ${counts.users} users through the fault; answered counts lost: ${counts.lost}` +
    (allowance ? ` (allowed: ${allowance}; beyond it: ${counts.lostBeyondAllowance})` : '')
  );
}
