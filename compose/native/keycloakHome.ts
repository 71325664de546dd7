// A per-stack Keycloak home over the shared, built distribution: its own data/ (realm import folder, temp
// files), the dist's lib/, conf/, providers/ and themes/ by symlink. Stacks started side by side (tests with
// other ports and STACK_DIRs) then never read each other's import folder.
import { copyFile, mkdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';

const SHARED = ['lib', 'conf', 'providers', 'themes', 'version.txt'];

export async function prepareKeycloakHome(distHome: string, stackHome: string): Promise<string> {
  await rm(stackHome, { recursive: true, force: true });
  await mkdir(join(stackHome, 'bin'), { recursive: true });
  await mkdir(join(stackHome, 'data'), { recursive: true });
  // kc.sh resolves its own path with `readlink -f` and derives kc.home.dir from it, so it must be a real file.
  await copyFile(join(distHome, 'bin', 'kc.sh'), join(stackHome, 'bin', 'kc.sh'));
  for (const name of SHARED) await symlink(join(distHome, name), join(stackHome, name));
  return stackHome;
}
