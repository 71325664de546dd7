// Maintenance holds: another process (`npm run backup`) asks the running launcher to keep a supervised process
// stopped for a while by writing STACK_DIR/maintenance.json; the launcher polls it once a second. The hold ends
// when the file is removed or its requester is gone, so a backup killed mid-copy never leaves Keycloak down.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isAlive } from './launcherLock.ts';
import type { Supervisor } from './supervisor.ts';

export interface MaintenanceRequest {
  /** The process asking; the hold ends when it is gone. */
  pid: number;
  /** Supervised process names, e.g. ["Keycloak"]. */
  hold: string[];
  reason: string;
}

export const maintenanceFile = (stackDir: string) => join(stackDir, 'maintenance.json');

export async function readMaintenance(stackDir: string): Promise<MaintenanceRequest | undefined> {
  try {
    const request = JSON.parse(await readFile(maintenanceFile(stackDir), 'utf8')) as MaintenanceRequest;
    return Number.isInteger(request.pid) && Array.isArray(request.hold) ? request : undefined;
  } catch {
    return undefined;
  }
}

export async function requestMaintenance(stackDir: string, request: MaintenanceRequest): Promise<void> {
  await writeFile(maintenanceFile(stackDir), `${JSON.stringify(request)}\n`, { mode: 0o600 });
}

export async function endMaintenance(stackDir: string): Promise<void> {
  await rm(maintenanceFile(stackDir), { force: true });
}

/** The launcher's side: applies the request file to the supervisor every `everyMs`; returns a stop function. */
export function watchMaintenance(
  stackDir: string,
  supervisor: Supervisor,
  say: (line: string) => void,
  everyMs = 1_000,
): () => void {
  let busy = false;
  const tick = async () => {
    if (busy || supervisor.stopping) return;
    busy = true;
    try {
      const request = await readMaintenance(stackDir);
      const wanted = request && isAlive(request.pid) ? request.hold : [];
      for (const name of supervisor.held().filter((n) => !wanted.includes(n))) supervisor.release(name);
      for (const name of wanted.filter((n) => !supervisor.held().includes(n))) {
        say(`holding ${name} for maintenance: ${request?.reason ?? ''} (pid ${request?.pid})`);
        await supervisor.hold(name).catch((error: unknown) => say(`cannot hold ${name}: ${String(error)}`));
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
