// A real OpenLDAP for a test: Debian's slapd started as the test's own process on a free loopback port, with a
// slapd.conf and a database in a temporary directory, loaded with a small LDIF (dc=example,dc=test: carol in the
// group cn=mcp-admins, dave not), stopped and removed by `stop`. slapd and ldap-utils come from
// compose/native/install-prerequisites.sh (npm test runs it when they are missing).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { access, constants, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateSecret } from '../../../src/passwords.ts';

const exec = promisify(execFile);
export const BASE_DN = 'dc=example,dc=test';
export const PEOPLE_DN = `ou=people,${BASE_DN}`;
export const GROUPS_DN = `ou=groups,${BASE_DN}`;
export const ADMIN_GROUP = 'mcp-admins';

export interface Person {
  username: string;
  password: string;
  dn: string;
}

export interface TestDirectory {
  url: string;
  /** The account Keycloak binds as, and its password. */
  bind: { dn: string; password: string };
  carol: Person;
  dave: Person;
  dir: string;
  /** Deletes an entry (ldapdelete as the directory's manager). */
  remove(dn: string): Promise<void>;
  stop(): Promise<void>;
}

async function findProgram(name: string): Promise<string> {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin']) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (
      await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  throw new Error(
    `${name} not found: install slapd and ldap-utils (sudo bash compose/native/install-prerequisites.sh)`,
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`slapd exited (${child.exitCode}): ${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`slapd did not listen on 127.0.0.1:${port}: ${log()}`);
}

const person = (uid: string, first: string, password: string) =>
  [
    `dn: uid=${uid},${PEOPLE_DN}`,
    'objectClass: inetOrgPerson',
    `uid: ${uid}`,
    `cn: ${first} Example`,
    'sn: Example',
    `givenName: ${first}`,
    `mail: ${uid}@example.test`,
    `userPassword: ${password}`,
    '',
  ].join('\n');

export async function startDirectory(): Promise<TestDirectory> {
  const slapd = await findProgram('slapd');
  const ldapadd = await findProgram('ldapadd');
  const ldapdelete = await findProgram('ldapdelete');
  const dir = await mkdtemp(join(tmpdir(), 'mcp-slapd-'));
  await mkdir(join(dir, 'data'));
  const manager = { dn: `cn=manager,${BASE_DN}`, password: generateSecret() };
  const bind = { dn: `cn=keycloak,ou=services,${BASE_DN}`, password: generateSecret() };
  const carol = { username: 'carol', password: generateSecret(), dn: `uid=carol,${PEOPLE_DN}` };
  const dave = { username: 'dave', password: generateSecret(), dn: `uid=dave,${PEOPLE_DN}` };
  await writeFile(
    join(dir, 'slapd.conf'),
    [
      ...['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include /etc/ldap/schema/${s}.schema`),
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      `pidfile ${join(dir, 'slapd.pid')}`,
      'database mdb',
      'maxsize 10485760',
      `suffix "${BASE_DN}"`,
      `rootdn "${manager.dn}"`,
      `rootpw ${manager.password}`,
      `directory ${join(dir, 'data')}`,
      // Passwords are only compared (a bind), never read; the rest is readable by a bound account.
      'access to attrs=userPassword by anonymous auth by * none',
      'access to * by users read by * none',
      '',
    ].join('\n'),
  );
  const ldif = [
    [`dn: ${BASE_DN}`, 'objectClass: dcObject', 'objectClass: organization', 'o: Example', 'dc: example', ''],
    [`dn: ou=services,${BASE_DN}`, 'objectClass: organizationalUnit', 'ou: services', ''],
    [`dn: ${PEOPLE_DN}`, 'objectClass: organizationalUnit', 'ou: people', ''],
    [`dn: ${GROUPS_DN}`, 'objectClass: organizationalUnit', 'ou: groups', ''],
    [
      `dn: ${bind.dn}`,
      'objectClass: person',
      'cn: keycloak',
      'sn: Keycloak',
      `userPassword: ${bind.password}`,
      '',
    ],
  ]
    .map((lines) => lines.join('\n'))
    .concat([
      person('carol', 'Carol', carol.password),
      person('dave', 'Dave', dave.password),
      [
        `dn: cn=${ADMIN_GROUP},${GROUPS_DN}`,
        'objectClass: groupOfNames',
        `cn: ${ADMIN_GROUP}`,
        `member: ${carol.dn}`,
        '',
      ].join('\n'),
    ])
    .join('\n');
  await writeFile(join(dir, 'data.ldif'), ldif, { mode: 0o600 });

  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  let log = '';
  // -d 0: stays in the foreground, so this test owns the process and stops it.
  const child = spawn(slapd, ['-d', '0', '-h', `${url}/`, '-f', join(dir, 'slapd.conf')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, () => log);
    const manage = ['-x', '-H', url, '-D', manager.dn, '-w', manager.password];
    await exec(ldapadd, [...manage, '-f', join(dir, 'data.ldif')]);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    bind,
    carol,
    dave,
    dir,
    async remove(dn: string) {
      await exec(ldapdelete, ['-x', '-H', url, '-D', manager.dn, '-w', manager.password, dn]);
    },
    stop,
  };
}
