// The card folder (seed/src/cardFolder.ts): in compose, root becomes the folder's owner before writing; a folder
// that cannot be written is refused with stack_dir_not_writable, naming who the seed runs as, the folder's owner and
// what to set. The process calls are faked, so these hold whoever runs the tests (root included).
import assert from 'node:assert/strict';
import { chown, mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  notWritableMessage,
  prepareCardFolder,
  type Identity,
  type ProcessIdentity,
} from '../src/cardFolder.ts';
import { SeedError } from '../src/errors.ts';

function fakeProcess(start: Identity, options: { denied?: string; becomeFails?: string } = {}) {
  let current = start;
  const became: Identity[] = [];
  const proc: ProcessIdentity = {
    current: () => current,
    become(target) {
      if (options.becomeFails) throw Object.assign(new Error('not permitted'), { code: options.becomeFails });
      became.push(target);
      current = target;
    },
    async canWrite(dir) {
      if (options.denied) {
        throw Object.assign(new Error(`${options.denied}: access ${dir}`), { code: options.denied });
      }
    },
  };
  return { proc, became };
}

/** A card folder owned by someone other than root: the runner's own, or given to 4242:4343 when root runs this. */
const folder = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'card-folder-'));
  if (process.getuid?.() === 0) await chown(dir, 4242, 4343);
  const info = await stat(dir);
  return { cardPath: join(dir, 'stack.json'), dir, owner: { uid: info.uid, gid: info.gid } };
};

describe('prepareCardFolder', () => {
  it('compose, as root: becomes the folder owner before anything is written, and says so', async () => {
    const { cardPath, dir, owner } = await folder();
    const { proc, became } = fakeProcess({ uid: 0, gid: 0 });
    const lines: string[] = [];
    await prepareCardFolder(cardPath, { compose: true }, (l) => lines.push(l), proc);
    assert.deepEqual(became, [owner]);
    assert.match(lines.join('\n'), new RegExp(`as uid ${owner.uid} gid ${owner.gid}, the owner of ${dir}`));
  });

  it('compose, as root: a root-owned folder keeps root (root on the host, or rootless Docker)', async () => {
    // `/` is root's on every machine that runs these tests.
    const { proc, became } = fakeProcess({ uid: 0, gid: 0 });
    await prepareCardFolder('/stack.json', { compose: true }, () => {}, proc);
    assert.deepEqual(became, []);
  });

  it('compose, not root (STACK_UID set): never switches, whatever the owner', async () => {
    const { cardPath } = await folder();
    const user = fakeProcess({ uid: 5151, gid: 5151 });
    await prepareCardFolder(cardPath, { compose: true }, () => {}, user.proc);
    assert.deepEqual(user.became, []);
  });

  it('native (no STACK_MODE=compose): never switches identity, even as root', async () => {
    const { cardPath } = await folder();
    const { proc, became } = fakeProcess({ uid: 0, gid: 0 });
    await prepareCardFolder(cardPath, { compose: false }, () => {}, proc);
    assert.deepEqual(became, []);
  });

  it('a folder that does not exist yet is left to the writer, which creates it', async () => {
    const { dir } = await folder();
    const { proc } = fakeProcess({ uid: 1000, gid: 1000 }, { denied: 'EACCES' });
    await prepareCardFolder(join(dir, 'not-yet', 'stack.json'), { compose: true }, () => {}, proc);
  });

  it('not writable: stack_dir_not_writable naming the user, the owner and STACK_UID/STACK_GID to set', async () => {
    const { cardPath, dir, owner } = await folder();
    const { proc } = fakeProcess({ uid: 5252, gid: 5353 }, { denied: 'EACCES' });
    await assert.rejects(
      prepareCardFolder(cardPath, { compose: true }, () => {}, proc),
      (error: unknown) => {
        assert.ok(error instanceof SeedError);
        assert.equal(error.code, 'stack_dir_not_writable');
        assert.match(error.message, new RegExp(`stack card folder ${dir} \\(STACK_DIR on the host`));
        assert.match(error.message, /runs as uid 5252 gid 5353/);
        assert.match(error.message, new RegExp(`belongs to uid ${owner.uid} gid ${owner.gid}`));
        assert.match(
          error.message,
          new RegExp(`Set STACK_UID=${owner.uid} and STACK_GID=${owner.gid} in \\.env`),
        );
        assert.match(error.message, /or leave both empty/);
        return true;
      },
    );
  });

  it('a switch the container refuses (no CAP_SETUID) says to start as the owner instead', async () => {
    const { cardPath, owner } = await folder();
    const { proc } = fakeProcess({ uid: 0, gid: 0 }, { becomeFails: 'EPERM' });
    await assert.rejects(
      prepareCardFolder(cardPath, { compose: true }, () => {}, proc),
      (error: unknown) =>
        error instanceof SeedError &&
        error.code === 'stack_dir_not_writable' &&
        error.message.includes(`Set STACK_UID=${owner.uid} and STACK_GID=${owner.gid} in .env`),
    );
  });
});

describe('notWritableMessage', () => {
  const dir = '/stack';
  it('the issue: root created .stack, the seed runs as 1000 — set 0/0 or leave empty', () => {
    const message = notWritableMessage(
      dir,
      { uid: 1000, gid: 1000 },
      { uid: 0, gid: 0, mode: 0o40755 },
      'EACCES',
      true,
    );
    assert.equal(
      message,
      'the stack card folder /stack (STACK_DIR on the host, default ./.stack) is not writable by the seed, which ' +
        'runs as uid 1000 gid 1000; the folder belongs to uid 0 gid 0, mode 0755. Set STACK_UID=0 and STACK_GID=0 ' +
        "in .env (the folder owner's `id -u` and `id -g`), or leave both empty so the seed writes as the folder's " +
        'owner; or give the folder to uid 1000 gid 1000 (sudo chown 1000:1000 on the host). Then run docker ' +
        'compose up -d again.',
    );
  });

  it('its own folder without write permission: chmod, not STACK_UID', () => {
    const message = notWritableMessage(
      dir,
      { uid: 1000, gid: 1000 },
      { uid: 1000, gid: 1000, mode: 0o555 },
      'EACCES',
      true,
    );
    assert.match(
      message,
      /mode 0555: its mode denies writing even to its owner\. Make it writable \(chmod u\+w/,
    );
    assert.doesNotMatch(message, /STACK_UID/);
  });

  it('a read-only mount: mount it read-write', () => {
    const message = notWritableMessage(
      dir,
      { uid: 0, gid: 0 },
      { uid: 0, gid: 0, mode: 0o755 },
      'EROFS',
      true,
    );
    assert.match(message, /on a read-only file system\. Mount STACK_DIR read-write\.$/);
  });

  it('native: make the folder writable or choose another STACK_DIR', () => {
    const message = notWritableMessage(
      '/srv/.stack',
      { uid: 1001, gid: 1001 },
      { uid: 0, gid: 0, mode: 0o755 },
      'EACCES',
      false,
    );
    assert.match(message, /^the stack card folder \/srv\/\.stack is not writable/);
    assert.match(
      message,
      /sudo chown 1001:1001 \/srv\/\.stack\), or choose another folder with STACK_DIR\.$/,
    );
  });
});
