// A local certificate authority for the test run (npm test): Keycloak trusts it, through its own option
// KC_TRUSTSTORE_PATHS (it reads KC_* variables itself; the launcher passes its environment on), so that tests can
// serve client ID metadata documents over HTTPS on loopback (docs/cimd.md). Kept in <stack dir>/test-ca, key mode
// 0600; a stack started without it does not trust it, and the tests that need it say so. openssl does the work.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export function testCaDir(stackDir: string): string {
  return join(stackDir, 'test-ca');
}

/** The CA certificate (PEM file) of `dir`, made once: ten years, only for signing the tests' server certificates. */
export async function ensureTestCa(dir: string): Promise<string> {
  const cert = join(dir, 'ca.pem');
  const key = join(dir, 'ca.key');
  if (existsSync(cert) && existsSync(key)) return cert;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '3650',
    '-subj',
    '/CN=mcp-keycloak-stack test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  await chmod(key, 0o600);
  return cert;
}

/** A server certificate for loopback (localhost, 127.0.0.1) signed by the CA of `dir`; a day is enough. */
export async function issueLoopbackCertificate(dir: string): Promise<{ key: string; cert: string }> {
  if (!existsSync(join(dir, 'ca.key'))) {
    throw new Error(
      `no test CA in ${dir}: npm test makes one when it starts the stack (compose/native/testCa.ts)`,
    );
  }
  const work = await mkdtemp(join(dir, 'issue-'));
  try {
    const extensions = join(work, 'ext.cnf');
    await writeFile(
      extensions,
      'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' +
        'keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
    );
    await run('openssl', [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-keyout',
      join(work, 'server.key'),
      '-out',
      join(work, 'server.csr'),
    ]);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      join(work, 'server.csr'),
      '-CA',
      join(dir, 'ca.pem'),
      '-CAkey',
      join(dir, 'ca.key'),
      '-set_serial',
      String(Date.now()),
      '-days',
      '1',
      '-extfile',
      extensions,
      '-out',
      join(work, 'server.pem'),
    ]);
    return {
      key: await readFile(join(work, 'server.key'), 'utf8'),
      cert: await readFile(join(work, 'server.pem'), 'utf8'),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
