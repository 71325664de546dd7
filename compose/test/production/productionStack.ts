// docker-compose.production.yml as its tests see it: its services, and how big Keycloak's cluster is.
import type { RunOptions } from '../support/composeHarness.ts';

export const PRODUCTION_SERVICES = {
  longRunning: [
    'postgres',
    'keycloak-1',
    'keycloak-2',
    'valkey',
    'proxy',
    'janitor',
    'mcp-server-1',
    'mcp-server-2',
  ],
  oneShot: ['seed', 'stack-ready'],
} as const;

type Compose = (args: string[], opts?: RunOptions) => Promise<{ code: number; out: string }>;

/**
 * The member count of the newest Infinispan cluster view each node logged (ISPN000094 "… (2) […]"), if both
 * agree; undefined before both logged one. Logs, because the nodes publish no cluster gauge without extra metrics.
 */
export async function clusterSize(dc: Compose, since?: string): Promise<number | undefined> {
  const sizes: number[] = [];
  for (const node of ['keycloak-1', 'keycloak-2']) {
    const args = ['logs', '--no-color', ...(since ? ['--since', since] : []), node];
    const logs = (await dc(args, { capture: true, allowFail: true })).out;
    const views = [
      ...logs.matchAll(/ISPN000094: Received new cluster view for channel ISPN: \[[^\]]*\] \((\d+)\)/g),
    ];
    const newest = views.at(-1)?.[1];
    if (newest === undefined) return undefined;
    sizes.push(Number(newest));
  }
  return sizes[0] === sizes[1] ? sizes[0] : Math.min(...sizes);
}
