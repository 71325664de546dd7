// The native Valkey's configuration file: a password and no CONFIG command. In a file (0600), not in argv,
// so the password never shows in `ps`; CONFIG renamed away so a client that has the password still cannot
// rewrite persistence settings or point the AOF elsewhere (Valkey and Redis both honour rename-command).
import { writeFile } from 'node:fs/promises';

export async function writeValkeyConfig(path: string, password: string): Promise<void> {
  const lines = [
    '# Written by the mcp-keycloak-stack launcher at every start; edits are overwritten.',
    `requirepass "${password}"`,
    'rename-command CONFIG ""',
    '',
  ];
  await writeFile(path, lines.join('\n'), { mode: 0o600 });
}

/** The URL clients use: the password in the userinfo (the stack card that holds it is 0600). */
export function valkeyUrlWithPassword(port: number, password: string): string {
  return `redis://:${encodeURIComponent(password)}@127.0.0.1:${port}`;
}

/** For output meant for people: the URL without its password. */
export function redactValkeyUrl(url: string): string {
  if (!URL.canParse(url)) return url;
  const parsed = new URL(url);
  if (!parsed.password) return url;
  parsed.password = '';
  parsed.username = '';
  return `${parsed.toString().replace(/\/$/, '')} (password in the stack card)`;
}
