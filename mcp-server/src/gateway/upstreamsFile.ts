// The gateway's upstreams file (MCP_UPSTREAMS_FILE): which MCP servers sit behind the gateway, how to reach
// them, who may call which tool. YAML or JSON (YAML is a superset), validated with zod; every problem names the
// upstream and the field. Read by the MCP server (routes, policy) and by the seed (realm scopes), so this file
// imports nothing of either: only zod, yaml and node:fs.
import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';

export class UpstreamsFileError extends Error {
  readonly code = 'upstreams_invalid';
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamsFileError';
  }
}

/** A lowercase name: it becomes a path segment, a scope (`mcp:<name>`) and a Valkey key part. */
const NAME = /^[a-z][a-z0-9-]{0,31}$/;
/** RFC 6749 §3.3 scope-token. */
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
/** Tool-name patterns: tool-name characters (MCP spec: A-Z a-z 0-9 _ - .) plus `*` as a wildcard. */
const TOOL_PATTERN = /^[A-Za-z0-9_.*/-]{1,128}$/;
const toolPatternString = z
  .string()
  .regex(TOOL_PATTERN, 'must be a tool name or a pattern with * (letters, digits, _ . - /)');
/** Paths the server itself answers; an upstream may not take them. */
const RESERVED_PATHS = ['/mcp', '/healthz', '/readyz', '/metrics', '/console', '/.well-known'];
/** The built-in tools' name in the stack card and in audit lines. */
export const BUILTIN_UPSTREAM = 'builtin';

const scopeList = z.array(z.string().regex(SCOPE, 'must be OAuth scope tokens (no spaces or quotes)'));
const roleList = z.array(z.string().min(1).max(255));
const stringMap = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'must be a name'), z.string());

const stdioTransport = z.strictObject({
  type: z.literal('stdio'),
  command: z.string({ error: 'is required: the program to run (e.g. node, uvx, python3)' }).min(1),
  args: z.array(z.string()).default([]),
  /** Added to a minimal environment (PATH, HOME, …: the SDK's default); the gateway's own is not inherited. */
  env: stringMap.default({}),
  cwd: z.string().min(1).optional(),
  /**
   * A stdio server is one session. `per-subject`: each token subject gets its own process (capped, idle ones
   * stopped), so no user sees another's server-side state. `shared`: one process for every caller.
   */
  isolation: z.enum(['per-subject', 'shared']).default('per-subject'),
  maxProcesses: z.number().int().min(1).max(1000).default(20),
  idleSeconds: z.number().int().min(10).max(86_400).default(300),
});

const httpTransport = z.strictObject({
  type: z.literal('streamable-http'),
  url: z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' }),
  /** The upstream's own credentials (e.g. an API key); `${VAR}` takes the value from the environment. */
  headers: stringMap.default({}),
});

const toolRule = z.strictObject({
  /** Tool names; `*` matches any run of characters (`delete_*`). */
  match: z.union([toolPatternString, z.array(toolPatternString).min(1)], {
    error: 'must be a tool name or pattern, or a list of them',
  }),
  scopes: scopeList.default([]),
  roles: roleList.default([]),
});

const identity = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({
    /** RFC 8693 at Keycloak: the gateway trades the caller's token for one whose audience is `audience`. */
    type: z.literal('token-exchange'),
    /** The upstream API's client id in the realm (the exchanged token's `aud`). */
    audience: z.string().min(1).max(255),
    /** Header the exchanged token is sent in. */
    header: z.string().default('Authorization'),
  }),
]);

const upstream = z.strictObject({
  name: z
    .string({ error: 'is required' })
    .regex(NAME, 'must be lowercase letters, digits and -, starting with a letter (≤ 32)'),
  title: z.string().min(1).max(200).optional(),
  transport: z.discriminatedUnion('type', [stdioTransport, httpTransport], {
    error: 'must have type stdio or streamable-http',
  }),
  /** Public path; default /mcp/<name>. */
  path: z
    .string()
    .regex(/^\/[A-Za-z0-9._~/-]*[A-Za-z0-9._~-]$/, 'must be a URL path like /mcp/tickets')
    .optional(),
  /** Scopes every request to this upstream needs; default [mcp:<name>] (the seed gives it the audience). */
  scopes: scopeList.min(1).optional(),
  /** A call (or any request) still unanswered after this long gets a JSON-RPC error. */
  timeoutSeconds: z.number().int().min(1).max(3600).default(60),
  identity: identity.default({ type: 'none' }),
  tools: z
    .strictObject({
      allow: z.array(toolPatternString).default(['*']),
      deny: z.array(toolPatternString).default([]),
      rules: z.array(toolRule).default([]),
    })
    .default({ allow: ['*'], deny: [], rules: [] }),
  audit: z.strictObject({ arguments: z.boolean().default(false) }).default({ arguments: false }),
});

const file = z.strictObject({ upstreams: z.array(upstream).default([]) });

export type UpstreamSpec = z.output<typeof upstream> & { path: string; scopes: string[] };
export type StdioTransportSpec = z.output<typeof stdioTransport>;
export type HttpTransportSpec = z.output<typeof httpTransport>;
export type ToolRuleSpec = z.output<typeof toolRule>;

/** Reads and validates the file; `env` fills `${VAR}` in transport strings (secrets stay out of the file). */
export function loadUpstreamsFile(
  path: string,
  env: Readonly<Record<string, string | undefined>>,
): UpstreamSpec[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UpstreamsFileError(`cannot read the upstreams file ${path}: ${(error as Error).message}`);
  }
  return parseUpstreams(text, env, path);
}

export function parseUpstreams(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  source = 'upstreams file',
): UpstreamSpec[] {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos ? ` (line ${error.linePos[0].line})` : '';
    const first = (error as Error).message.split('\n')[0];
    throw new UpstreamsFileError(`${source} is not valid YAML or JSON${where}: ${first}`);
  }
  if (raw === null || raw === undefined) raw = {};
  const parsed = file.safeParse(raw);
  if (!parsed.success) {
    throw new UpstreamsFileError(
      `${source}: ${parsed.error.issues.map((issue) => describeIssue(issue, raw)).join('; ')}`,
    );
  }
  const problems: string[] = [];
  const upstreams = parsed.data.upstreams.map((spec) => {
    const label = `upstream ${JSON.stringify(spec.name)}`;
    const path = spec.path ?? `/mcp/${spec.name}`;
    // /mcp/<anything> is the upstreams' namespace; /mcp itself and the server's other paths are not.
    const taken = RESERVED_PATHS.some((r) => path === r || (r !== '/mcp' && path.startsWith(`${r}/`)));
    if (taken) problems.push(`${label}: path ${path} is the server's own`);
    const scopes = spec.scopes ?? [`mcp:${spec.name}`];
    // A stdio server has no HTTP request to carry a token: its identity is the process's own.
    if (spec.identity.type === 'token-exchange' && spec.transport.type === 'stdio')
      problems.push(`${label}: identity: token-exchange needs a streamable-http transport`);
    const substituted = substitute(spec.transport, env, `${label}: transport`, problems);
    return { ...spec, path, scopes, transport: substituted } as UpstreamSpec;
  });
  duplicates(upstreams.map((u) => u.name)).forEach((name) =>
    problems.push(`upstream names must be unique: ${JSON.stringify(name)} appears more than once`),
  );
  duplicates(upstreams.map((u) => u.path)).forEach((path) =>
    problems.push(`upstream paths must be unique: ${path} appears more than once`),
  );
  if (upstreams.some((u) => u.name === BUILTIN_UPSTREAM))
    problems.push(`upstream name ${BUILTIN_UPSTREAM} is the built-in tools' own`);
  if (problems.length > 0) throw new UpstreamsFileError(`${source}: ${problems.join('; ')}`);
  return upstreams;
}

/** "upstream "x": transport.command: …" — the upstream by name when the file gives one, else by position. */
function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const [top, index, ...rest] = issue.path;
  if (top === 'upstreams' && typeof index === 'number') {
    const name = (raw as { upstreams?: { name?: unknown }[] }).upstreams?.[index]?.name;
    const label = typeof name === 'string' ? `upstream ${JSON.stringify(name)}` : `upstreams[${index}]`;
    return `${label}: ${rest.length ? `${rest.join('.')}: ` : ''}${issue.message}`;
  }
  return `${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`;
}

/** Replaces `${VAR}` in every string of the transport; a variable that is not set is a problem, not "". */
function substitute<T>(
  value: T,
  env: Readonly<Record<string, string | undefined>>,
  where: string,
  problems: string[],
): T {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const found = env[name];
      if (found === undefined) {
        problems.push(`${where} names \${${name}}, which is not set in the environment`);
        return '';
      }
      return found;
    }) as T;
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, env, where, problems)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, substitute(item, env, `${where}.${key}`, problems)]),
    ) as T;
  }
  return value;
}

function duplicates(values: readonly string[]): string[] {
  return [...new Set(values.filter((value, n) => values.indexOf(value) !== n))];
}

/** The public URL of an upstream: the built-in resource URL's origin (and any prefix before /mcp) + its path. */
export function upstreamResourceUrl(builtinResourceUrl: string, path: string): string {
  const base = new URL(builtinResourceUrl);
  const prefix = base.pathname.replace(/\/mcp\/?$/, '');
  return `${base.origin}${prefix}${path}`;
}
