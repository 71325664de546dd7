// RAM and CPU per service of a compose project, as `docker stats` sees them: the production profile's sizing
// (docs/production.md), sampled idle and under the drills' load. Printed, never asserted.
import { run } from '../support/composeHarness.ts';

export interface ServiceSize {
  service: string;
  cpuPercent: number;
  memMiB: number;
}

const MIB: Record<string, number> = { B: 1 / 1048576, KiB: 1 / 1024, MiB: 1, GiB: 1024 };

/** One `docker stats --no-stream` of the project's running containers, by compose service (its label). */
export async function sampleSizes(project: string, env: NodeJS.ProcessEnv): Promise<ServiceSize[]> {
  const services = await containerServices(project, env);
  if (services.size === 0) return [];
  const out = (
    await run(
      'docker',
      ['stats', '--no-stream', '--format', '{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}', ...services.keys()],
      { env, capture: true, allowFail: true },
    )
  ).out;
  return out
    .split('\n')
    .map((line) => line.trim().split('|'))
    .filter((parts) => parts.length === 3 && services.has(parts[0] ?? ''))
    .map(([name = '', cpu = '', mem = '']) => {
      const used = /^([\d.]+)([KMG]?i?B)/.exec(mem.trim());
      return {
        service: services.get(name) ?? name,
        cpuPercent: Number.parseFloat(cpu),
        memMiB: used ? Number(used[1]) * (MIB[used[2] ?? 'MiB'] ?? 1) : Number.NaN,
      };
    })
    .sort((a, b) => a.service.localeCompare(b.service));
}

/** Running containers of the project: name → compose service (a container being recreated is skipped). */
async function containerServices(project: string, env: NodeJS.ProcessEnv): Promise<Map<string, string>> {
  const out = (
    await run(
      'docker',
      [
        'ps',
        '--filter',
        `label=com.docker.compose.project=${project}`,
        '--format',
        '{{.Names}}|{{.Label "com.docker.compose.service"}}',
      ],
      { env, capture: true },
    )
  ).out;
  return new Map(
    out
      .split('\n')
      .map((line) => line.trim().split('|'))
      .filter(
        (parts): parts is [string, string] => parts.length === 2 && Boolean(parts[0]) && Boolean(parts[1]),
      ),
  );
}

/** The highest CPU and memory per service over several samples. */
export function peak(samples: readonly ServiceSize[][]): ServiceSize[] {
  const byService = new Map<string, ServiceSize>();
  for (const sample of samples)
    for (const s of sample) {
      const seen = byService.get(s.service);
      byService.set(s.service, {
        service: s.service,
        cpuPercent: Math.max(seen?.cpuPercent ?? 0, s.cpuPercent),
        memMiB: Math.max(seen?.memMiB ?? 0, s.memMiB),
      });
    }
  return [...byService.values()].sort((a, b) => a.service.localeCompare(b.service));
}

export function formatSizes(title: string, sizes: readonly ServiceSize[]): string[] {
  const total = sizes.reduce((sum, s) => sum + s.memMiB, 0);
  return [
    `${title} (docker stats; CPU: % of one core):`,
    ...sizes.map(
      (s) =>
        `  ${s.service.padEnd(14)} CPU ${s.cpuPercent.toFixed(1).padStart(6)} %  RAM ${s.memMiB.toFixed(0).padStart(5)} MiB`,
    ),
    `  ${'all'.padEnd(14)} ${' '.repeat(14)}RAM ${total.toFixed(0).padStart(5)} MiB`,
  ];
}
