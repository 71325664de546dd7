// Secrets from files (`<NAME>_FILE`: compose secrets, a Kubernetes secret volume): read once, never echoed.
import { readFileSync } from 'node:fs';
import { SeedError } from './errors.ts';

/** The file's content without its final newline; a missing, unreadable or empty file names the variable. */
export function readSecretFile(variable: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable');
    throw new SeedError('config_invalid', `${variable}: cannot read ${path} (${why})`);
  }
  // Editors and `echo` add one newline; a password never ends with one.
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '') throw new SeedError('config_invalid', `${variable}: ${path} is empty`);
  return secret;
}
