// Keycloak's build options are one decision in three places: the native dist (compose/native/keycloakDist.ts) and
// the two Keycloak images, which build with the same options as KC_* variables. The experimental `cimd` feature
// (docs/cimd.md) is among them, except for Keycloak 26.5 (an upgrade source only), which has no such feature.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { KEYCLOAK_BUILD_OPTIONS, KEYCLOAK_FEATURES, keycloakBuildOptions } from '../native/keycloakDist.ts';
import { REPO_ROOT } from '../native/paths.ts';

describe('Keycloak build options: native dist and images alike', () => {
  it('26.7 is built with --features=cimd; 26.5 (an upgrade source) without, its build would refuse it', () => {
    assert.deepEqual(keycloakBuildOptions('26.7.3'), [...KEYCLOAK_BUILD_OPTIONS, '--features=cimd']);
    assert.deepEqual(keycloakBuildOptions('26.5.6'), KEYCLOAK_BUILD_OPTIONS);
    assert.equal(KEYCLOAK_FEATURES, '--features=cimd');
  });

  for (const dockerfile of [
    'compose/offline-images/keycloak.Dockerfile',
    'compose/production/keycloak.Dockerfile',
  ]) {
    it(`${dockerfile} builds with the same features (KC_FEATURES)`, async () => {
      const text = await readFile(join(REPO_ROOT, dockerfile), 'utf8');
      const features = /^ENV .*\bKC_FEATURES=(\S+)/m.exec(text)?.[1];
      assert.equal(`--features=${features}`, KEYCLOAK_FEATURES, `${dockerfile}: KC_FEATURES=${features}`);
    });
  }
});
