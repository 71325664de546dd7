// Starts the native stack — Valkey, Keycloak and (unless it needs the seed's gateway client) the MCP server
// together, then the seed, the janitor and, if not yet, the MCP server — and
// writes the stack card. On any failure everything already started is stopped again before the error surfaces.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cardUpstreams } from '@mcp-keycloak-stack/seed/cardUpstreams';
import { readStackCard, writeStackCard, type StackCard } from '@mcp-keycloak-stack/seed/stackCard';
import { planClassDataSharing } from './classDataSharing.ts';
import { readDatabaseVersion, recordDatabaseVersion, versionStep } from './databaseVersion.ts';
import { ensureKeycloakDist } from './keycloakDist.ts';
import { prepareKeycloakHome } from './keycloakHome.ts';
import { writeLock } from './launcherLock.ts';
import { ManagedChild } from './managedChild.ts';
import { LaunchError, phase, say } from './output.ts';
import { INSTALL_SCRIPT, REALM_EXPORT_DIR, stackPaths } from './paths.ts';
import { assertPortsFree } from './ports.ts';
import { findJava, findValkeyServer, provisionWithApt } from './prerequisites.ts';
import { httpOk, valkeyPing, waitUntilReady } from './readiness.ts';
import { realmChangedSinceImport, realmFilesHash, recordImport } from './realmDrift.ts';
import { readRealmFiles, stageRealmFiles } from './realmFiles.ts';
import { loadOrCreateSecrets } from './secrets.ts';
import { writeValkeyConfig } from './valkeyConfig.ts';
import type { SupervisedService } from './supervisor.ts';
import { janitorSpec, keycloakSpec, mcpServerEnv, mcpServerSpec, seedSpec, valkeySpec } from './services.ts';
import type { Settings } from './settings.ts';
import { loadUpstreams } from './upstreams.ts';

const VALKEY_READY_MS = 20_000;
const MCP_READY_MS = 30_000;

export interface RunningStack {
  children: ManagedChild[];
  /** The long-running processes, with how to start each again and know it is ready (supervisor.ts). */
  services: SupervisedService[];
  card: StackCard;
  timings: Record<string, number>;
  stop(): Promise<void>;
}

/**
 * `children` belongs to the caller, so a Ctrl-C that arrives mid start-up can stop what is already running;
 * a stopped child ends the wait it is in with an error.
 */
export async function startStack(
  settings: Settings,
  startedAt: Date,
  children: ManagedChild[] = [],
): Promise<RunningStack> {
  const paths = stackPaths(settings.stackDir);
  const timings: Record<string, number> = {};
  const stop = async () => {
    for (const child of [...children].reverse()) await child.stop();
  };
  const track = async (child: ManagedChild) => {
    children.push(child);
    await writeLock(paths.lock, {
      pid: process.pid,
      startedAt: startedAt.toISOString(),
      children: children.map((c) => ({ name: c.name, pid: c.pid })),
    });
    return child;
  };

  try {
    const realmFiles = await readRealmFiles(REALM_EXPORT_DIR);
    const realmHash = await realmFilesHash(realmFiles);
    const databaseWasNew = !existsSync(join(paths.keycloakData, 'h2'));
    if (await realmChangedSinceImport(paths.keycloakData, realmHash)) {
      say(
        `note: realm-export/ changed since Keycloak imported it; Keycloak keeps the realm in its database and ` +
          `does not re-import. To import the new files: npm run stop, delete ${paths.keycloakData}, npm start.`,
      );
    }
    if (!realmFiles.some((file) => file.realm === settings.realm)) {
      throw new LaunchError(
        'realm_file_missing',
        `no file in ${REALM_EXPORT_DIR} defines realm "${settings.realm}" (KEYCLOAK_REALM)`,
      );
    }
    const step = versionStep(await readDatabaseVersion(paths.keycloakData), settings.keycloakVersion);
    if (step.kind === 'downgrade') {
      throw new LaunchError(
        'keycloak_downgrade',
        `the Keycloak database in ${paths.keycloakData} was last run by Keycloak ${step.from}, newer than ` +
          `KEYCLOAK_VERSION=${settings.keycloakVersion}; Keycloak migrates a database forward only. Set ` +
          `KEYCLOAK_VERSION=${step.from}, or go back by restoring a backup made before the upgrade ` +
          '(docs/upgrade.md)',
      );
    }
    if (settings.keycloakUpgradeSource) {
      say(
        `note: Keycloak ${settings.keycloakVersion} is accepted only to run a stack made with it until it is ` +
          'upgraded to 26.7 (docs/upgrade.md)',
      );
    }
    if (step.kind === 'upgrade') {
      say(
        `upgrading: the database was last run by Keycloak ${step.from}; Keycloak ${settings.keycloakVersion} ` +
          'migrates it on this start, with no way back but a backup made before (docs/upgrade.md)',
      );
    }
    const upstreams = loadUpstreams(settings);
    const java = await findJava(settings.javaHome);
    const valkeyServer = await findValkeyServer().catch(async (error: unknown) => {
      if (!(error instanceof LaunchError) || !(await provisionWithApt(INSTALL_SCRIPT, say))) throw error;
      return findValkeyServer();
    });
    await assertPortsFree([
      { port: settings.ports.keycloak, service: 'Keycloak HTTP', variable: 'KC_PORT' },
      {
        port: settings.ports.keycloakManagement,
        service: 'Keycloak management/health',
        variable: 'KC_MANAGEMENT_PORT',
      },
      { port: settings.ports.mcp, service: 'MCP server', variable: 'MCP_PORT' },
      { port: settings.ports.mcpMetrics, service: 'MCP server /metrics', variable: 'MCP_METRICS_PORT' },
      { port: settings.ports.valkey, service: 'Valkey', variable: 'VALKEY_PORT' },
    ]);
    for (const dir of [paths.logs, paths.keycloakData, paths.valkeyData]) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    }

    const dist = await phase(`Keycloak ${settings.keycloakVersion} distribution`, () =>
      ensureKeycloakDist({
        version: settings.keycloakVersion,
        cacheDir: settings.cacheDir,
        env: process.env,
      }),
    );
    timings.keycloakDist = dist.ms;
    if (dist.value.actions.length === 0) say(`  cached in ${dist.value.home}`);
    const keycloakHome = await prepareKeycloakHome(dist.value.home, paths.keycloakHome);
    const cds = settings.classDataSharing
      ? await planClassDataSharing({
          cacheDir: settings.cacheDir,
          keycloakVersion: settings.keycloakVersion,
          build: dist.value.build,
          java: java.java,
          javaVersion: java.version,
          classPath: join(dist.value.home, 'lib', 'quarkus-run.jar'),
        })
      : { javaOptions: [], note: 'class-data sharing off (KEYCLOAK_CDS=off)' };
    say(`  ${cds.note}`);
    await stageRealmFiles(realmFiles, keycloakHome);
    const secrets = await loadOrCreateSecrets(paths.secrets, {
      username: settings.adminUsername,
      passwordFromEnv: settings.adminPasswordFromEnv,
    });

    // The card tells tests and people the addresses the MCP server itself is given.
    const serverEnv = mcpServerEnv(settings, secrets);
    // The previous card keeps the demo passwords, so a restart (and the seed in it) does not change them.
    const previous = await readStackCard(paths.card).catch(() => undefined);
    await writeStackCard(paths.card, {
      version: 1,
      mode: 'native',
      status: 'starting',
      issuer: settings.issuer,
      keycloakUrl: settings.keycloakUrl,
      keycloakManagementUrl: `http://127.0.0.1:${settings.ports.keycloakManagement}`,
      realm: settings.realm,
      jwksUrl: serverEnv.OIDC_JWKS_URL,
      mcpUrl: settings.mcpUrl,
      mcpHealthUrl: `http://127.0.0.1:${settings.ports.mcp}/healthz`,
      resourceMetadataUrl: settings.resourceMetadataUrl,
      upstreams: cardUpstreams(settings.mcpUrl, upstreams),
      valkeyUrl: serverEnv.VALKEY_URL as string,
      users: previous?.users ?? [],
      clients: previous?.clients ?? {},
      launcherPid: process.pid,
      startedAt: startedAt.toISOString(),
      logsDir: paths.logs,
    });

    await writeValkeyConfig(paths.valkeyConfig, secrets.valkeyPassword);
    const specs = {
      valkey: valkeySpec(settings, valkeyServer.path),
      keycloak: keycloakSpec(settings, keycloakHome, secrets, settings.javaHome, cds.javaOptions),
      janitor: janitorSpec(settings, secrets),
    };
    const checks = {
      valkey: valkeyPing(settings.ports.valkey, secrets.valkeyPassword),
      keycloak: httpOk(`http://127.0.0.1:${settings.ports.keycloakManagement}/health/ready`),
      mcp: httpOk(`http://127.0.0.1:${settings.ports.mcp}/healthz`),
    };
    const valkey = await track(await ManagedChild.start(specs.valkey));
    const keycloak = await track(await ManagedChild.start(specs.keycloak));
    say(`started ${valkeyServer.flavour}-server and Keycloak (Java ${java.major}); logs in ${paths.logs}`);
    const startMcp = async (gateway?: { clientId: string; clientSecret: string }) => {
      const spec = mcpServerSpec(settings, secrets, gateway);
      const child = await track(await ManagedChild.start(spec));
      const ready = phase('MCP server ready', () =>
        waitUntilReady({ name: 'MCP server', child, check: checks.mcp, timeoutMs: MCP_READY_MS }),
      );
      ready.catch(() => undefined); // awaited below; a failure elsewhere first must not leave it unhandled
      return { spec, child, ready };
    };
    // The MCP server needs nothing from Keycloak or the seed to start (it fetches the JWKS on the first token),
    // except the gateway's token-exchange client, which the seed writes into the card: without a token-exchange
    // upstream it starts now, alongside Keycloak, instead of after the seed.
    const needsGatewayClient = upstreams.some((u) => u.identity.type === 'token-exchange');
    const early = needsGatewayClient ? undefined : await startMcp();
    const [valkeyReady, keycloakReady] = await Promise.all([
      phase(`${valkeyServer.flavour === 'valkey' ? 'Valkey' : 'Redis (Valkey fallback)'} ready`, () =>
        waitUntilReady({
          name: 'Valkey',
          child: valkey,
          check: checks.valkey,
          timeoutMs: VALKEY_READY_MS,
        }),
      ),
      phase('Keycloak ready', () =>
        waitUntilReady({
          name: 'Keycloak',
          child: keycloak,
          check: checks.keycloak,
          timeoutMs: settings.keycloakStartTimeoutMs,
        }),
      ),
    ]);
    timings.valkey = valkeyReady.ms;
    timings.keycloak = keycloakReady.ms;
    await recordImport(paths.keycloakData, realmHash, databaseWasNew);
    await recordDatabaseVersion(paths.keycloakData, settings.keycloakVersion);

    const seeded = await phase('seed (users, clients)', async () => {
      const seed = await track(await ManagedChild.start(seedSpec(settings, secrets)));
      const exit = await seed.exited;
      const output = await seed.tail(20);
      if (exit.code !== 0) {
        throw new LaunchError('seed_failed', `the seed ${seed.describeExit()}; its output:`, output);
      }
      for (const line of output) say(`  ${line}`);
    });
    timings.seed = seeded.ms;

    const janitor = await track(await ManagedChild.start(specs.janitor));
    // After the seed when an upstream needs the gateway client the seed writes into the card.
    const {
      spec: mcpSpec,
      child: mcp,
      ready: mcpReady,
    } = early ?? (await startMcp((await readStackCard(paths.card))?.gateway));
    timings.mcpServer = (await mcpReady).ms;

    const readyAt = new Date();
    const card = await readStackCard(paths.card);
    if (!card) throw new LaunchError('stack_card_missing', `${paths.card} disappeared during start-up`);
    const ready: StackCard = {
      ...card,
      status: 'ready',
      readyAt: readyAt.toISOString(),
      startupMs: readyAt.getTime() - startedAt.getTime(),
    };
    await writeStackCard(paths.card, ready);
    // Start order, which is also the order the supervisor stops them in reverse.
    const services: SupervisedService[] = [
      { spec: specs.valkey, child: valkey, ready: checks.valkey, readyTimeoutMs: VALKEY_READY_MS },
      {
        spec: specs.keycloak,
        child: keycloak,
        ready: checks.keycloak,
        readyTimeoutMs: settings.keycloakStartTimeoutMs,
      },
      { spec: specs.janitor, child: janitor, readyTimeoutMs: 0 },
      { spec: mcpSpec, child: mcp, ready: checks.mcp, readyTimeoutMs: MCP_READY_MS },
    ];
    return { children, services, card: ready, timings, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
