// Memory sizing for a small, steady server (issue 4: RSS ≤ 120 MB under load; it was ≈ 200 MB).
//
// Measured with `npm run bench` (32 connections): the live heap is ≈ 17 MB, yet with V8's defaults the young
// generation takes 32 MB and the old generation fills to ≈ 75 MB, mostly with request objects promoted while
// they wait for Valkey, before V8 runs a full GC. Two heap knobs and MALLOC_ENV below bring it to ≈ 100 MB
// at the same throughput (mcp-server/README.md, Benchmark):
// - a smaller young generation: SEMI_SPACE_NODE_OPTION, which V8 reads only at process start, so the image
//   sets it in NODE_OPTIONS and the launcher and the benchmark pass it on the command line; 4 MB semi-spaces
//   cost twice the scavenges of 8 MB but no measurable throughput, and ≈ 10 MB less RSS;
// - old-generation headroom of MCP_HEAP_GROWING_PERCENT over the live heap after each full GC (V8 picks
//   10–300 % by its own heuristics), which V8 reads at run time, so it is set here from the config.
import { setFlagsFromString } from 'node:v8';

export const SEMI_SPACE_NODE_OPTION = '--max-semi-space-size=4';

/**
 * glibc malloc arenas: by default up to 8 per core, one for each thread that allocates (V8's GC helper threads
 * do), and memory freed in one arena is not reused by another. Two arenas keep RSS ≈ 10 MB lower under load at
 * the same throughput (npm run bench). glibc reads it at process start: the image sets it in its environment,
 * the launcher and the benchmark in the server's.
 */
export const MALLOC_ENV = { MALLOC_ARENA_MAX: '2' } as const;

/** 0 leaves V8's heuristics alone. */
export function tuneHeap(heapGrowingPercent: number): void {
  if (heapGrowingPercent > 0) setFlagsFromString(`--heap-growing-percent=${heapGrowingPercent}`);
}
