// Progress lines for humans and CI logs alike: no colours or cursor tricks, every line stands alone.
export const say = (line: string) => console.log(`[stack] ${line}`);

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** Runs one start-up phase and prints how long it took; the duration is returned for the summary. */
export async function phase<T>(name: string, run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  say(`${name} …`);
  const value = await run();
  const ms = Date.now() - started;
  say(`${name}: done in ${seconds(ms)}`);
  return { value, ms };
}

export class LaunchError extends Error {
  readonly code: string;
  /** Extra lines (a log tail) printed after the message. */
  readonly details: string[];
  constructor(code: string, message: string, details: string[] = []) {
    super(message);
    this.name = 'LaunchError';
    this.code = code;
    this.details = details;
  }
}
