import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LaunchError } from '../native/output.ts';
import { findJava, findMaven } from '../native/prerequisites.ts';

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

  it('finds the JDK this machine runs Keycloak with', async () => {
    const { major } = await findJava(undefined);
    assert.ok(major >= 17, `Java ${major}`);
  });
});
