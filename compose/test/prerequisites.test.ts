import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LaunchError } from '../native/output.ts';
import { findJava, findMaven, findOnPath } from '../native/prerequisites.ts';

// An environment probe, not a unit: it needs a JDK on PATH (the one `npm start` runs Keycloak with). Where there is
// none (a CI runner or laptop that only type-checks and runs the unit tests), it is skipped and says why.
const NO_JDK =
  (await findOnPath('java')) === undefined &&
  'no java on PATH: this probe checks the JDK the native stack runs Keycloak with (install a JDK 17+ to run it)';

describe('prerequisites', () => {
  it('a JAVA_HOME without a JDK is named, with what to install', async () => {
    await assert.rejects(findJava('/nonexistent-jdk'), (error: unknown) => {
      assert.ok(error instanceof LaunchError);
      assert.equal(error.code, 'java_missing');
      assert.match(error.message, /\/nonexistent-jdk\/bin\/java -version failed/);
      assert.match(error.message, /JAVA_HOME/);
      return true;
    });
  });

  it('Maven missing from PATH → says to install maven, and why it is needed', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent-bin';
    try {
      await assert.rejects(findMaven(), (error: unknown) => {
        assert.ok(error instanceof LaunchError);
        assert.equal(error.code, 'maven_missing');
        assert.match(error.message, /apt-get install maven/);
        assert.match(error.message, /install-prerequisites\.sh/);
        return true;
      });
    } finally {
      process.env.PATH = path;
    }
  });

  it('finds the JDK this machine runs Keycloak with', { skip: NO_JDK }, async () => {
    const { major } = await findJava(undefined);
    assert.ok(major >= 17, `Java ${major}`);
  });
});
