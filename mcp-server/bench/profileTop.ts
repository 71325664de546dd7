// The top items of a V8 .cpuprofile (`node --cpu-prof`): self time per function and per package, as a share
// of the busy (not idle) sampled time — the server idles while the bench loads the others.
// `npm run bench -- --profile` runs the `auth` server under --cpu-prof and prints these.
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileItem {
  name: string;
  selfMs: number;
  share: number;
}

/** Where a frame lives: the npm package, node's own code, V8's pseudo-frames, or this repository. */
function ownerOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : `native: ${functionName || '(anonymous)'}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  return 'this repository';
}

export async function profileTop(
  file: string,
  count = 15,
): Promise<{ busyMs: number; functions: ProfileItem[]; owners: ProfileItem[] }> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  for (const id of [...selfUs.keys()])
    if ((byId.get(id) as ProfileNode).callFrame.functionName === '(idle)') selfUs.delete(id);
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const functions = new Map<string, number>();
  const owners = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = (byId.get(id) as ProfileNode).callFrame;
    const short = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/mcp-server\//, '');
    const name = url
      ? `${functionName || '(anonymous)'} ${short}:${lineNumber + 1}`
      : ownerOf(url, functionName);
    functions.set(name, (functions.get(name) ?? 0) + us);
    const owner = ownerOf(url, functionName);
    owners.set(owner, (owners.get(owner) ?? 0) + us);
  }
  const top = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, us]) => ({
        name,
        selfMs: Math.round(us / 1000),
        share: Math.round((us / totalUs) * 1000) / 10,
      }));
  return { busyMs: Math.round(totalUs / 1000), functions: top(functions), owners: top(owners) };
}
