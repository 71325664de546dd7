// Keycloak comes from Maven Central (org.keycloak:keycloak-quarkus-dist), fetched once into the cache folder,
// unpacked, and built once (`kc.sh build`) so every start can use --optimized.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LaunchError, say, seconds } from './output.ts';
import { findMaven } from './prerequisites.ts';
import { tailFile } from './managedChild.ts';

/** Build-time options: a single node (local caches), the embedded file database, health and metrics endpoints. */
export const KEYCLOAK_BUILD_OPTIONS = [
  '--db=dev-file',
  '--cache=local',
  '--health-enabled=true',
  '--metrics-enabled=true',
];

export async function ensureKeycloakDist(opts: {
  version: string;
  cacheDir: string;
  env: NodeJS.ProcessEnv;
}): Promise<{ home: string; actions: string[] }> {
  const home = join(opts.cacheDir, `keycloak-${opts.version}`);
  const actions: string[] = [];
  await mkdir(opts.cacheDir, { recursive: true });
  if (!existsSync(join(home, 'bin', 'kc.sh'))) {
    const tarball = join(opts.cacheDir, `keycloak-quarkus-dist-${opts.version}.tar.gz`);
    if (!existsSync(tarball)) {
      await downloadWithMaven(opts.version, opts.cacheDir);
      actions.push('downloaded');
    }
    await unpack(tarball, opts.cacheDir, home);
    actions.push('unpacked');
  }
  if (await buildIfNeeded(home, opts.env)) actions.push('built');
  return { home, actions };
}

async function downloadWithMaven(version: string, cacheDir: string): Promise<void> {
  const mvn = await findMaven();
  const artifact = `org.keycloak:keycloak-quarkus-dist:${version}:tar.gz`;
  say(`downloading Keycloak ${version} with Maven (${artifact}), once, into ${cacheDir}`);
  const logFile = join(cacheDir, `maven-download-${version}.log`);
  const progress = startDownloadProgress(version);
  try {
    await runLogged(
      mvn,
      ['-B', 'dependency:copy', `-Dartifact=${artifact}`, `-DoutputDirectory=${cacheDir}`],
      {
        cwd: cacheDir,
        logFile,
      },
    );
  } catch {
    throw new LaunchError(
      'keycloak_download_failed',
      `Maven could not fetch ${artifact}: check that Maven reaches its repository (its settings.xml) ` +
        `and that KEYCLOAK_VERSION=${version} exists; last lines of ${logFile}:`,
      await tailFile(logFile, 25),
    );
  } finally {
    clearInterval(progress);
  }
}

/** Maven in batch mode prints no progress, so report the growing file in the local repository instead. */
function startDownloadProgress(version: string): NodeJS.Timeout {
  const started = Date.now();
  const dir = join(homedir(), '.m2', 'repository', 'org', 'keycloak', 'keycloak-quarkus-dist', version);
  return setInterval(() => {
    void largestFileSize(dir).then((bytes) =>
      say(
        `  downloading Keycloak ${version}: ${bytes ? `${(bytes / 1e6).toFixed(0)} MB of ~180 MB, ` : ''}` +
          `${seconds(Date.now() - started)}`,
      ),
    );
  }, 5000);
}

async function largestFileSize(dir: string): Promise<number> {
  try {
    const sizes = await Promise.all(
      (await readdir(dir)).map(async (name) => (await stat(join(dir, name))).size),
    );
    return Math.max(0, ...sizes);
  } catch {
    return 0;
  }
}

/** Unpacks beside the target and renames, so an interrupted unpack never leaves a half dist behind. */
async function unpack(tarball: string, cacheDir: string, home: string): Promise<void> {
  say(`unpacking ${tarball}`);
  const staging = join(cacheDir, `.unpack-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging);
  const logFile = join(cacheDir, 'unpack.log');
  try {
    await runLogged('tar', ['-xzf', tarball, '-C', staging], { cwd: cacheDir, logFile });
  } catch {
    await rm(staging, { recursive: true, force: true });
    await rm(tarball, { force: true });
    throw new LaunchError(
      'keycloak_unpack_failed',
      `${tarball} could not be unpacked (a damaged download was removed; start again to fetch it anew):`,
      await tailFile(logFile, 10),
    );
  }
  const [top] = await readdir(staging);
  if (!top) throw new LaunchError('keycloak_unpack_failed', `${tarball} is empty`);
  await rm(home, { recursive: true, force: true });
  await rename(join(staging, top), home);
  await rm(staging, { recursive: true, force: true });
}

async function buildIfNeeded(home: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const marker = join(home, '.mcp-keycloak-stack-build');
  const wanted = KEYCLOAK_BUILD_OPTIONS.join(' ');
  const done = await readFile(marker, 'utf8').catch(() => '');
  if (done.trim() === wanted) return false;
  say(`building Keycloak once with ${wanted} (about 30s)`);
  const logFile = join(home, 'build.log');
  try {
    await runLogged(join(home, 'bin', 'kc.sh'), ['build', ...KEYCLOAK_BUILD_OPTIONS], {
      cwd: home,
      logFile,
      env,
    });
  } catch {
    throw new LaunchError(
      'keycloak_build_failed',
      `kc.sh build failed; last lines of ${logFile}:`,
      await tailFile(logFile, 30),
    );
  }
  await writeFile(marker, `${wanted}\n`);
  return true;
}

function runLogged(
  command: string,
  args: string[],
  opts: { cwd: string; logFile: string; env?: NodeJS.ProcessEnv },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const fd = openSync(opts.logFile, 'w');
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}`)),
    );
  });
}
