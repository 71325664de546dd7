// What the compose test runners share (runCompose.ts, production/runComposeProduction.ts): timed phases, a
// command runner that names the failing command, our Docker engine, the Compose to drive (v2 plugin or 1.29),
// and a container's state by service.
import { spawn } from 'node:child_process';
import { REPO_ROOT } from '../../native/paths.ts';

export class StepError extends Error {}

export const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

export function sayer(prefix: string): (line: string) => void {
  return (line) => console.log(`[${prefix}] ${line}`);
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  capture?: boolean;
  allowFail?: boolean;
}

/** Runs a command; output goes to the terminal unless captured. Rejects with the command and its exit code. */
export function run(
  cmd: string,
  args: string[],
  opts: RunOptions = {},
): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: REPO_ROOT,
      env: opts.env ?? process.env,
      stdio: opts.capture ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', (error) => reject(new StepError(`${cmd} could not run: ${error.message}`)));
    child.once('exit', (code, signal) => {
      const result = { code: code ?? (signal ? 1 : 0), out };
      if (result.code !== 0 && !opts.allowFail) {
        reject(
          new StepError(
            `${cmd} ${args.join(' ')} exited with ${result.code}${out ? `:\n${out.trim()}` : ''}`,
          ),
        );
      } else resolve(result);
    });
  });
}

/** Timed phases, printed as they start and end, and listed at the end (`report`). */
export function phases(say: (line: string) => void) {
  const timings: [string, number][] = [];
  return {
    async phase<T>(name: string, body: () => Promise<T>): Promise<T> {
      const t0 = Date.now();
      say(`${name} …`);
      try {
        return await body();
      } finally {
        timings.push([name, Date.now() - t0]);
        say(`${name}: ${secs(Date.now() - t0)}`);
      }
    },
    report(): void {
      say('phase timings:');
      for (const [name, ms] of timings) say(`  ${name}: ${secs(ms)}`);
    },
  };
}

/** Starts (or reuses) our dockerd (compose/engine.sh) and returns its DOCKER_HOST. */
export async function startEngine(say: (line: string) => void): Promise<string> {
  const engine = await run('bash', ['compose/engine.sh', 'start'], { capture: true });
  for (const line of engine.out.split('\n')) if (line.startsWith('[engine]')) say(line);
  const dockerHost = /^DOCKER_HOST=(.+)$/m.exec(engine.out)?.[1];
  if (!dockerHost)
    throw new StepError(`compose/engine.sh did not say which DOCKER_HOST to use:\n${engine.out}`);
  return dockerHost;
}

/**
 * The Compose command: `v2` (built from the Go module proxy by compose/test/setup-compose-v2.sh, a CLI plugin in
 * the cache: sets env.DOCKER_CONFIG) or `v1` (Debian's docker-compose 1.29). Checks it answers `version`.
 */
export async function chooseCompose(
  wanted: 'v1' | 'v2',
  env: NodeJS.ProcessEnv,
  say: (line: string) => void,
): Promise<string[]> {
  if (wanted === 'v2') {
    const setup = await run('bash', ['compose/test/setup-compose-v2.sh'], { capture: true });
    const config = /^DOCKER_CONFIG=(.+)$/m.exec(setup.out)?.[1];
    if (!config)
      throw new StepError(`compose/test/setup-compose-v2.sh did not say where Compose v2 is:\n${setup.out}`);
    env.DOCKER_CONFIG = config;
  }
  const compose = wanted === 'v2' ? ['docker', 'compose'] : ['docker-compose'];
  const version = await run(compose[0] as string, [...compose.slice(1), 'version'], {
    env,
    capture: true,
    allowFail: true,
  });
  if (version.code !== 0) throw new StepError(`${compose.join(' ')} does not run:\n${version.out}`);
  say(`using ${compose.join(' ')}: ${version.out.split('\n')[0]}`);
  return compose;
}

export interface ContainerState {
  id: string;
  status: string;
  health: string;
  exitCode: number;
  pid: number;
  startedAt: string;
  restarts: number;
}

/** A service's container as Docker sees it (`absent` when compose has none). */
export async function containerState(
  dc: (args: string[], opts?: RunOptions) => Promise<{ code: number; out: string }>,
  service: string,
  env: NodeJS.ProcessEnv,
): Promise<ContainerState> {
  // Compose v2 also prints warnings into the captured output: the container id is the line that looks like one.
  const id = (await dc(['ps', '-a', '-q', service], { capture: true })).out
    .split('\n')
    .map((line) => line.trim())
    .find((line) => /^[0-9a-f]{12,64}$/.test(line));
  if (!id) return { id: '', status: 'absent', health: '', exitCode: -1, pid: 0, startedAt: '', restarts: 0 };
  const fmt =
    '{{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{end}}|{{.State.ExitCode}}|{{.State.Pid}}|{{.State.StartedAt}}|{{.RestartCount}}';
  const out = (await run('docker', ['inspect', '-f', fmt, id], { env, capture: true })).out.trim();
  const [status = '', health = '', exitCode = '-1', pid = '0', startedAt = '', restarts = '0'] =
    out.split('|');
  return {
    id,
    status,
    health,
    exitCode: Number(exitCode),
    pid: Number(pid),
    startedAt,
    restarts: Number(restarts),
  };
}
