// Keycloak comes from Maven Central (org.keycloak:keycloak-quarkus-dist), fetched once into the cache folder,
// unpacked, and built once (`kc.sh build`) so every start can use --optimized. The realm's anonymous-DCR policy
// (keycloak-extensions/mcp-registration-policy) is built with Maven, against the API jars of the dist's own
// release, when its sources change and installed into the dist's providers/ before that build.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import { copyFile, cp, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { LaunchError, say, seconds } from './output.ts';
import { REPO_ROOT } from './paths.ts';
import { findMaven } from './prerequisites.ts';
import { tailFile } from './managedChild.ts';

/** Build-time options: a single node (local caches), the embedded file database, health and metrics endpoints. */
export const KEYCLOAK_BUILD_OPTIONS = [
  '--db=dev-file',
  '--cache=local',
  '--health-enabled=true',
  '--metrics-enabled=true',
];

/**
 * Keycloak's experimental `cimd` feature: client ID metadata documents (an https URL as client_id, the document
 * fetched and checked by the realm's client policy; docs/cimd.md) and `client_id_metadata_document_supported` in the
 * authorization server metadata. Keycloak 26.5 has no such feature (its build would refuse the option); it runs only
 * as the source of an upgrade (docs/upgrade.md), without CIMD.
 */
export const KEYCLOAK_FEATURES = '--features=cimd';

/** The build options for a release: KEYCLOAK_BUILD_OPTIONS, and KEYCLOAK_FEATURES from 26.6 on. */
export function keycloakBuildOptions(version: string): string[] {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const hasCimd = major > 26 || (major === 26 && minor >= 6);
  return hasCimd ? [...KEYCLOAK_BUILD_OPTIONS, KEYCLOAK_FEATURES] : [...KEYCLOAK_BUILD_OPTIONS];
}

export async function ensureKeycloakDist(opts: {
  version: string;
  cacheDir: string;
  env: NodeJS.ProcessEnv;
}): Promise<{ home: string; actions: string[]; build: string }> {
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
  const policy = await ensurePolicyJar(opts.cacheDir, opts.version);
  if (policy.built) actions.push('registration policy built');
  await installProvider(home, policy.jar);
  const options = keycloakBuildOptions(opts.version);
  const build = buildMarker(options, policy.jarHash);
  if (await buildIfNeeded(home, opts.env, options, build)) actions.push('built');
  return { home, actions, build };
}

/** The Maven project of the realm's anonymous Dynamic Client Registration policy (provider id mcp-registration). */
export const POLICY_SOURCE_DIR = join(REPO_ROOT, 'keycloak-extensions', 'mcp-registration-policy');
const POLICY_JAR = 'mcp-registration-policy.jar';

/**
 * The policy jar for the current sources and a Keycloak release, from the cache or built once per source hash and
 * release. Compiled against that release's API jars (-Dkeycloak.version), so an API the release lacks fails the
 * build, naming the release, instead of a registration at run time. Maven builds a copy of the sources in the cache
 * folder, so the work tree gets no target/ and two checkouts never share a build.
 */
async function ensurePolicyJar(
  cacheDir: string,
  keycloakVersion: string,
): Promise<{ jar: string; jarHash: string; built: boolean }> {
  const sourceHash = await hashTree(POLICY_SOURCE_DIR, ['pom.xml', 'src']);
  const providersCache = join(cacheDir, 'providers');
  const jar = join(
    providersCache,
    `mcp-registration-policy-${sourceHash.slice(0, 16)}-${keycloakVersion}.jar`,
  );
  let built = false;
  if (!existsSync(jar)) {
    await mkdir(providersCache, { recursive: true });
    await buildPolicyJar(providersCache, jar, keycloakVersion);
    built = true;
  }
  return {
    jar,
    jarHash: createHash('sha256')
      .update(await readFile(jar))
      .digest('hex'),
    built,
  };
}

async function buildPolicyJar(providersCache: string, jar: string, keycloakVersion: string): Promise<void> {
  const mvn = await findMaven();
  const staging = join(providersCache, `.build-${process.pid}`);
  const logFile = join(providersCache, 'mcp-registration-policy-build.log');
  say(`building the DCR policy provider for Keycloak ${keycloakVersion} with Maven (log: ${logFile})`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  await copyFile(join(POLICY_SOURCE_DIR, 'pom.xml'), join(staging, 'pom.xml'));
  await cp(join(POLICY_SOURCE_DIR, 'src'), join(staging, 'src'), { recursive: true });
  const started = Date.now();
  const progress = setInterval(
    () => say(`  building the DCR policy provider: ${seconds(Date.now() - started)}`),
    5000,
  );
  try {
    await runLogged(mvn, ['-B', '-q', `-Dkeycloak.version=${keycloakVersion}`, 'package'], {
      cwd: staging,
      logFile,
    });
    await copyFile(join(staging, 'target', POLICY_JAR), `${jar}.tmp`);
    await rename(`${jar}.tmp`, jar);
  } catch {
    throw new LaunchError(
      'registration_policy_build_failed',
      `Maven could not build the DCR policy provider (${POLICY_SOURCE_DIR}) against Keycloak ${keycloakVersion}: ` +
        `it needs a JDK 17+, Maven's repository for that release's API jars, and sources that compile against ` +
        `them; last lines of ${logFile}:`,
      await tailFile(logFile, 30),
    );
  } finally {
    clearInterval(progress);
    await rm(staging, { recursive: true, force: true });
  }
}

/** Copies the jar into the dist's providers/ when it differs; write-and-rename keeps a running Keycloak's jar intact. */
async function installProvider(home: string, jar: string): Promise<void> {
  const target = join(home, 'providers', POLICY_JAR);
  const wanted = await readFile(jar);
  const present = await readFile(target).catch(() => undefined);
  if (present?.equals(wanted)) return;
  await writeFile(`${target}.tmp`, wanted);
  await rename(`${target}.tmp`, target);
}

/** sha256 over the relative paths and contents of the given entries (files or folders), in a stable order. */
export async function hashTree(root: string, entries: string[]): Promise<string> {
  const hash = createHash('sha256');
  const files: string[] = [];
  const walk = async (path: string): Promise<void> => {
    if ((await stat(path)).isDirectory()) {
      for (const name of (await readdir(path)).sort()) await walk(join(path, name));
    } else {
      files.push(path);
    }
  };
  for (const entry of entries) await walk(join(root, entry));
  for (const file of files) {
    hash
      .update(relative(root, file))
      .update('\0')
      .update(await readFile(file))
      .update('\0');
  }
  return hash.digest('hex');
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

/** The marker names the build options and the provider jar's hash: a changed policy reruns `kc.sh build`
 * (and keys the class-data archive, classDataSharing.ts). */
function buildMarker(options: string[], policyJarHash: string): string {
  return `${options.join(' ')}\nproviders/${POLICY_JAR} sha256:${policyJarHash}`;
}

async function buildIfNeeded(
  home: string,
  env: NodeJS.ProcessEnv,
  buildOptions: string[],
  wanted: string,
): Promise<boolean> {
  const marker = join(home, '.mcp-keycloak-stack-build');
  const options = buildOptions.join(' ');
  const done = await readFile(marker, 'utf8').catch(() => '');
  if (done.trim() === wanted) return false;
  say(`building Keycloak with ${options} and providers/${POLICY_JAR} (about 30s)`);
  const logFile = join(home, 'build.log');
  try {
    await runLogged(join(home, 'bin', 'kc.sh'), ['build', ...buildOptions], {
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
