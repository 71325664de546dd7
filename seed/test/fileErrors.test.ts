// A failed file operation is reported as a file error naming the path, the user and the fix, with its own code
// (seed/src/fileErrors.ts) — never as "Keycloak request failed", what the seed used to say of it (issue 13).
// The line main.ts prints for each kind of failure: seed/src/failure.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SeedError } from '../src/errors.ts';
import { failureLine } from '../src/failure.ts';
import { fileErrorOf } from '../src/fileErrors.ts';
import { StackCardError, writeStackCard, type StackCard } from '../src/stackCard.ts';

const SEED_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The error node:fs rejects with, as the seed met it in the issue. */
const fsError = (code: string, syscall: string, path: string) =>
  Object.assign(new Error(`${code}: permission denied, ${syscall} '${path}'`), {
    errno: -13,
    code,
    syscall,
    path,
  });

const compose = { cardPath: '/stack/stack.json', compose: true, who: { uid: 1000, gid: 1000 } };

describe('fileErrorOf', () => {
  it("the issue's EACCES on the card's temp file: file_access_denied, the path, the user, STACK_UID/STACK_GID", () => {
    const error = fileErrorOf(fsError('EACCES', 'open', '/stack/stack.json.1.tmp'), compose);
    assert.ok(error instanceof SeedError);
    assert.equal(error.code, 'file_access_denied');
    assert.equal(
      error.message,
      'cannot open /stack/stack.json.1.tmp: permission denied (EACCES) for uid 1000 gid 1000. Leave STACK_UID ' +
        "and STACK_GID empty in .env, so the seed writes as the card folder's owner, or set them to the owner's " +
        '`id -u` and `id -g`; or make the folder (STACK_DIR on the host, default ./.stack) writable by uid 1000 ' +
        'gid 1000. Then run docker compose up -d again.',
    );
  });

  it('natively, the card folder is named with the chown that fixes it', () => {
    const native = {
      cardPath: '/home/ann/mcp/.stack/stack.json',
      compose: false,
      who: { uid: 1001, gid: 1001 },
    };
    const error = fileErrorOf(fsError('EPERM', 'rename', '/home/ann/mcp/.stack/stack.json.77.tmp'), native);
    assert.equal(error?.code, 'file_access_denied');
    assert.match(
      error?.message ?? '',
      /^cannot rename \/home\/ann\/mcp\/\.stack\/stack\.json\.77\.tmp: permission denied \(EPERM\)/,
    );
    assert.match(
      error?.message ?? '',
      /sudo chown 1001:1001 \/home\/ann\/mcp\/\.stack\), or choose another folder with STACK_DIR/,
    );
  });

  it('a file elsewhere (e.g. the LDAP bind password): its path and who must be able to read it', () => {
    const error = fileErrorOf(fsError('EACCES', 'open', '/run/secrets/ldap'), compose);
    assert.equal(error?.code, 'file_access_denied');
    assert.match(
      error?.message ?? '',
      /^cannot open \/run\/secrets\/ldap: permission denied \(EACCES\) for uid 1000 gid 1000\. Make it accessible/,
    );
    assert.doesNotMatch(error?.message ?? '', /STACK_UID/);
  });

  it('a read-only file system says so', () => {
    const error = fileErrorOf(fsError('EROFS', 'open', '/stack/secrets.json'), compose);
    assert.equal(error?.code, 'file_access_denied');
    assert.match(
      error?.message ?? '',
      /cannot open \/stack\/secrets\.json: the file system is read-only \(EROFS\)/,
    );
  });

  it('any other file failure is file_failed with the path and the reason (a real one: a file where a folder is)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'file-errors-'));
    await writeFile(join(dir, 'not-a-folder'), 'x');
    const cardPath = join(dir, 'not-a-folder', 'stack.json');
    const failure = await writeStackCard(cardPath, {} as StackCard).catch((error: unknown) => error);
    const error = fileErrorOf(failure, { cardPath, compose: false });
    assert.equal(error?.code, 'file_failed');
    assert.match(error?.message ?? '', new RegExp(`${join(dir, 'not-a-folder')}`));
  });

  it('is not a file error: a socket error (no path), an HTTP error, a plain Error', () => {
    const socket = Object.assign(new Error('connect ECONNREFUSED'), {
      code: 'ECONNREFUSED',
      syscall: 'connect',
    });
    assert.equal(fileErrorOf(socket, compose), undefined);
    assert.equal(
      fileErrorOf(Object.assign(new Error('x'), { response: { status: 500 } }), compose),
      undefined,
    );
    assert.equal(fileErrorOf(new Error('boom'), compose), undefined);
  });
});

describe('failureLine', () => {
  it('a SeedError as it stands; a stack card error with its code', () => {
    assert.equal(
      failureLine(new SeedError('realm_missing', 'no realm mcp'), compose),
      '[seed] error (realm_missing): no realm mcp',
    );
    assert.equal(
      failureLine(new StackCardError('/stack/stack.json is not valid JSON'), compose),
      '[seed] error (stack_card_invalid): /stack/stack.json is not valid JSON',
    );
  });

  it('a file error as a file error, not as a Keycloak request', () => {
    const line = failureLine(fsError('EACCES', 'open', '/stack/stack.json.1.tmp'), compose);
    assert.match(line, /^\[seed\] error \(file_access_denied\): cannot open \/stack\/stack\.json\.1\.tmp/);
    assert.doesNotMatch(line, /Keycloak/);
  });

  it("Keycloak's admin API refusing, or not answering at all, is a Keycloak request failure", () => {
    const http = Object.assign(new Error('unknown_error'), { response: { status: 403 } });
    assert.equal(
      failureLine(http, compose),
      '[seed] error: Keycloak request failed with HTTP 403: unknown_error',
    );
    const unreachable = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    });
    assert.equal(failureLine(unreachable, compose), '[seed] error: Keycloak request failed: ECONNREFUSED');
  });

  it('anything else as itself, blaming nobody', () => {
    assert.equal(failureLine(new Error('boom'), compose), '[seed] error: boom');
  });
});

describe('the seed process', () => {
  it('exits 1 with the file error when the card cannot be written, before any request to Keycloak', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'file-errors-'));
    await writeFile(join(dir, 'not-a-folder'), 'x');
    const cardPath = join(dir, 'not-a-folder', 'stack.json');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: SEED_ROOT,
      env: {
        PATH: process.env.PATH,
        STACK_MODE: 'compose',
        STACK_CARD_PATH: cardPath,
        // Nothing listens there: a Keycloak request would fail differently.
        KEYCLOAK_URL: 'http://127.0.0.1:9',
        KEYCLOAK_ADMIN_PASSWORD: 'not-used-here',
        STACK_PUBLIC_KEYCLOAK_URL: 'http://localhost:8080',
        STACK_PUBLIC_KEYCLOAK_MANAGEMENT_URL: 'http://127.0.0.1:9000',
        STACK_PUBLIC_MCP_URL: 'http://localhost:3000/mcp',
        STACK_PUBLIC_VALKEY_URL: 'redis://127.0.0.1:6379',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 1, stderr);
    assert.match(
      stderr,
      new RegExp(`\\[seed\\] error \\(file_failed\\): cannot .*${join(dir, 'not-a-folder')}`),
    );
    assert.doesNotMatch(stderr, /Keycloak/);
  });
});
