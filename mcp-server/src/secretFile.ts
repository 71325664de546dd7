// Secrets from files (`<NAME>_FILE`, as compose secrets and Kubernetes mount them): the value never sits in the
// environment of a compose file or a process listing. Read once at start-up by config.ts, synchronously.
import { readFileSync } from 'node:fs';

export type SecretFileResult = { ok: true; value: string } | { ok: false; problem: string };

/** The file's content without its final newline; a missing, unreadable or empty file is a problem naming it. */
export function readSecretFile(variable: string, path: string): SecretFileResult {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable');
    return { ok: false, problem: `${variable}: cannot read ${path} (${why})` };
  }
  // Editors and `echo` add one newline; a password never ends with one.
  const value = content.replace(/\r?\n$/, '');
  if (value === '') return { ok: false, problem: `${variable}: ${path} is empty` };
  return { ok: true, value };
}
