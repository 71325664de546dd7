// Finds the programs the native stack runs, and says exactly what to install when one is missing.
import { execFile, spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { LaunchError } from './output.ts';

const run = promisify(execFile);
const INSTALL_HINT = 'or run `sudo bash compose/native/install-prerequisites.sh` (Debian)';

export async function findOnPath(name: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** Keycloak 26.7 runs on Java 17 or newer. */
export async function findJava(
  javaHome: string | undefined,
): Promise<{ java: string; major: number; version: string }> {
  const java = javaHome ? join(javaHome, 'bin', 'java') : await findOnPath('java');
  if (!java) {
    throw new LaunchError(
      'java_missing',
      `Java was not found: install a JDK 17 or newer (Debian: apt-get install openjdk-17-jdk-headless), ` +
        `or set JAVA_HOME; ${INSTALL_HINT}`,
    );
  }
  let output: string;
  try {
    output = (await run(java, ['-version'])).stderr;
  } catch (error) {
    throw new LaunchError(
      'java_missing',
      `${java} -version failed: ${(error as Error).message} (check JAVA_HOME)`,
    );
  }
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output);
  const major = match ? (match[1] === '1' ? Number(match[2]) : Number(match[1])) : 0;
  if (major < 17) {
    throw new LaunchError(
      'java_too_old',
      `Keycloak 26.7 needs Java 17 or newer, but ${java} is ${major || 'of unknown version'}: install ` +
        'openjdk-17-jdk-headless or point JAVA_HOME at a newer JDK',
    );
  }
  return { java, major, version: output.trim() };
}

export async function findMaven(): Promise<string> {
  const mvn = await findOnPath('mvn');
  if (!mvn) {
    throw new LaunchError(
      'maven_missing',
      'Maven (mvn) was not found; it is needed once, to fetch Keycloak from Maven Central into the cache: ' +
        `install it (Debian: apt-get install maven), ${INSTALL_HINT}`,
    );
  }
  return mvn;
}

/** Valkey first; Redis speaks the same protocol and is the fallback where Valkey is not packaged. */
export async function findValkeyServer(): Promise<{ path: string; flavour: 'valkey' | 'redis' }> {
  const valkey = await findOnPath('valkey-server');
  if (valkey) return { path: valkey, flavour: 'valkey' };
  const redis = await findOnPath('redis-server');
  if (redis) return { path: redis, flavour: 'redis' };
  throw new LaunchError(
    'valkey_missing',
    'neither valkey-server nor redis-server was found: install valkey-server (Debian bookworm-backports) ' +
      `or redis-server, ${INSTALL_HINT}`,
  );
}

/**
 * `npm start` provisions what is missing: where apt can run (root, or sudo without a password), the Debian
 * installer runs; elsewhere the error says which command to run.
 */
export async function provisionWithApt(script: string, say: (line: string) => void): Promise<boolean> {
  const isRoot = process.getuid?.() === 0;
  const sudo = isRoot ? undefined : await findOnPath('sudo');
  if (!(await findOnPath('apt-get'))) return false;
  if (!isRoot) {
    if (!sudo) return false;
    const passwordless = await run(sudo, ['-n', 'true']).then(
      () => true,
      () => false,
    );
    if (!passwordless) return false;
  }
  say(`installing the missing system packages with ${script}`);
  return new Promise((resolve) => {
    const proc = spawn('bash', [script], { stdio: 'inherit' });
    proc.once('exit', (code) => resolve(code === 0));
    proc.once('error', () => resolve(false));
  });
}
