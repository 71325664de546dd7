// JVM class-data sharing for Keycloak: a dynamic CDS archive of the classes one Keycloak run loaded (Quarkus's
// own class loader included), kept in the cache folder next to the dist. The first run records it
// (-XX:ArchiveClassesAtExit, written when Keycloak stops, into a per-launcher temporary file); the next start
// checks it with `java -Xshare:on` and then passes -XX:SharedArchiveFile. Measured here: Keycloak ready
// ~3 s sooner on 2 cores, a quarter less CPU (README, "Start-up time"). The archive's name carries a hash of the
// dist's build (options, provider jar) and of the exact JVM, so a rebuilt dist or another JDK records a new one.
// Nothing here may stop the stack: any problem means no archive and one log line.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isAlive } from './launcherLock.ts';

export interface CdsPlan {
  /** JVM options for Keycloak (JAVA_OPTS_APPEND); empty: no archive. */
  javaOptions: string[];
  /** One line for the launcher's output. */
  note: string;
}

/** The archive's key: what makes an archive valid for a run (the dist's build and the exact JVM). */
export function archiveKey(build: string, java: string, javaVersion: string): string {
  return createHash('sha256').update(`${build}\0${java}\0${javaVersion}`).digest('hex').slice(0, 16);
}

export function archiveName(keycloakVersion: string, key: string): string {
  return `keycloak-${keycloakVersion}-cds-${key}.jsa`;
}

/** A recording in progress or left behind: `<archive>.<launcher pid>.tmp`. */
export function recordingName(archive: string, pid: number): string {
  return `${archive}.${pid}.tmp`;
}

/** Sorts the cache folder's archive files: stale (another key), recordings of dead launchers, ours. */
export function classifyArchiveFiles(
  names: string[],
  keycloakVersion: string,
  archive: string,
  isAlive: (pid: number) => boolean,
): { stale: string[]; finished: string[] } {
  const prefix = `keycloak-${keycloakVersion}-cds-`;
  const stale: string[] = [];
  const finished: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || name === archive) continue;
    const recording = /^(.*\.jsa)\.(\d+)\.tmp$/.exec(name);
    if (recording && isAlive(Number(recording[2]))) continue; // another launcher is recording it
    if (recording?.[1] === archive) finished.push(name);
    else stale.push(name);
  }
  return { stale, finished };
}

/** kc.sh splits JAVA_OPTS_APPEND on whitespace (xargs): a path it would split is not passed at all. */
export function safeForJavaOpts(path: string): boolean {
  return !/[\s'"\\]/.test(path);
}

export async function planClassDataSharing(opts: {
  cacheDir: string;
  keycloakVersion: string;
  /** The dist's build marker (keycloakDist.ts): build options and the provider jar's hash. */
  build: string;
  java: string;
  javaVersion: string;
  /** The dist's lib/quarkus-run.jar: the class path the archive was recorded with. */
  classPath: string;
  pid?: number;
  isAlive?: (pid: number) => boolean;
}): Promise<CdsPlan> {
  const archive = archiveName(opts.keycloakVersion, archiveKey(opts.build, opts.java, opts.javaVersion));
  const path = join(opts.cacheDir, archive);
  if (!safeForJavaOpts(path)) {
    return { javaOptions: [], note: `class-data sharing off: ${opts.cacheDir} has a space or quote` };
  }
  try {
    const { stale, finished } = classifyArchiveFiles(
      await readdir(opts.cacheDir),
      opts.keycloakVersion,
      archive,
      opts.isAlive ?? isAlive,
    );
    for (const name of stale) await rm(join(opts.cacheDir, name), { force: true });
    let promoted = false;
    for (const name of finished) {
      const candidate = join(opts.cacheDir, name);
      if (!promoted && (await archiveUsable(opts.java, candidate, opts.classPath))) {
        await rename(candidate, path);
        promoted = true;
      } else {
        await rm(candidate, { force: true });
      }
    }
    if ((await sizeOf(path)) > 0) {
      if (await archiveUsable(opts.java, path, opts.classPath)) {
        return { javaOptions: [`-XX:SharedArchiveFile=${path}`], note: `class-data archive ${path}` };
      }
      await rm(path, { force: true });
      return {
        javaOptions: [],
        note: `class-data archive ${path} is unusable (removed); starting without one`,
      };
    }
    const recording = recordingName(path, opts.pid ?? process.pid);
    return {
      // -Xlog: the dump lists thousands of skipped classes, which only fill keycloak.log.
      javaOptions: [`-XX:ArchiveClassesAtExit=${recording}`, '-Xlog:cds=error,cds+dynamic=error'],
      note: 'class-data archive: recording one for the next start (written when Keycloak stops)',
    };
  } catch (error) {
    return { javaOptions: [], note: `class-data sharing off: ${(error as Error).message}` };
  }
}

async function sizeOf(path: string): Promise<number> {
  return stat(path).then(
    (s) => s.size,
    () => 0,
  );
}

/** `-Xshare:on` fails (or crashes, for a truncated file) when the JVM cannot map the archive. */
function archiveUsable(java: string, archive: string, classPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(
      java,
      [
        `-XX:SharedArchiveFile=${archive}`,
        '-Xshare:on',
        '-XX:ErrorFile=/dev/null',
        '-XX:-CreateCoredumpOnCrash',
        '-cp',
        classPath,
        '-version',
      ],
      { stdio: 'ignore', cwd: '/' },
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}
