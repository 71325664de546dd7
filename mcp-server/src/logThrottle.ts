// At most one log line per period for a condition every request can hit at once (the signing keys unreachable
// while Keycloak is down): the first occurrence is written at once, later ones within the period are counted
// and the count goes with the next line written. Each request still gets its access log line and its metric;
// only the repeated explanation is thinned out.
export type ThrottledLog = (write: (suppressed: number) => void) => void;

export function logThrottle(periodMs: number, now: () => number = Date.now): ThrottledLog {
  let lastAt = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (write) => {
    const t = now();
    if (t - lastAt < periodMs) {
      suppressed += 1;
      return;
    }
    lastAt = t;
    const count = suppressed;
    suppressed = 0;
    write(count);
  };
}
