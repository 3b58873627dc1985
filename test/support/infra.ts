import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../platform/config.ts';
import { resolveInfrastructure, type ResolvedInfrastructure } from '../../platform/embedded/index.ts';
import { createLogger, type Logger } from '../../platform/logger.ts';
import { createRuntime, type Runtime } from '../../apps/runtime.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Secrets } from '../../platform/secrets.ts';
import { deleteKeys } from '../../platform/redis-keys.ts';

/**
 * The test suite's servers: started once per mocha run through the same module that `mintdesk start`
 * uses (FerretDB or mongodb-memory-server, Redis, s3rver, SMTP), unless *_URL variables point elsewhere.
 */
/**
 * A loaded CI machine can make an IVR webhook slower than the production budget (3 s); flow tests
 * must test the flow, not hit the apology path by accident. Tests of the budget set it themselves.
 */
const TEST_ENV_DEFAULTS = { IVR_REQUEST_BUDGET_MS: '10000' };

let shared: Promise<{ config: Readonly<Config>; infrastructure: ResolvedInfrastructure }> | undefined;

/** Every log line the suites' runtimes wrote; the privacy scan reads it. */
export const capturedLogLines: string[] = [];
const logSink = new Writable({
  write(chunk, _encoding, callback) {
    capturedLogLines.push(chunk.toString());
    if (capturedLogLines.length > 200_000) capturedLogLines.splice(0, 50_000);
    if (process.env.TEST_LOGS) process.stderr.write(chunk);
    callback();
  },
});

export function testLogger(): Logger {
  return createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'info', name: 'test', destination: logSink });
}

export function sharedInfrastructure() {
  shared ??= (async () => {
    const config = loadConfig({ ...TEST_ENV_DEFAULTS, ...process.env, NODE_ENV: 'test', MINTDESK_DATA_DIR: process.env.MINTDESK_DATA_DIR ?? '.data/test' });
    const infrastructure = await resolveInfrastructure(config, testLogger(), { persistent: false, ferretPostgresDatabase: 'mintdesk_ferretdb_test' });
    return { config, infrastructure };
  })();
  return shared;
}

export async function stopSharedInfrastructure(): Promise<void> {
  if (!shared) return;
  const { infrastructure } = await shared;
  shared = undefined;
  await infrastructure.stop();
}

export const uniqueName = (stem: string) => `${stem}_${randomBytes(5).toString('hex')}`;

export function testSecrets(): Secrets {
  return { appSecret: randomBytes(32).toString('base64url'), vaultMasterKeys: `t1:${randomBytes(32).toString('base64')}`, vaultActiveKeyId: 't1', auditHmacKey: randomBytes(32).toString('base64url') };
}

export interface TestContext {
  runtime: Runtime;
  services: Runtime['services'];
  config: Readonly<Config>;
  infrastructure: ResolvedInfrastructure;
  /** The HTTP app listening on an ephemeral loopback port. */
  baseUrl: string;
  server: Server;
  dbName: string;
  redisPrefix: string;
  close(): Promise<void>;
}

export interface TestContextOptions {
  clock?: Clock;
  /** Overrides on top of the test configuration (e.g. a lower lockout threshold). */
  env?: Record<string, string>;
  listen?: boolean;
  /** A Redis of the test's own (e.g. one it stops and restarts) instead of the shared one. */
  redisUrl?: string;
}

/** A fresh runtime on its own database, Redis prefix and bucket, torn down by `close()`. */
export async function createTestContext(options: TestContextOptions = {}): Promise<TestContext> {
  const { config: baseConfig, infrastructure } = await sharedInfrastructure();
  const config = options.env ? loadConfig({ ...TEST_ENV_DEFAULTS, ...process.env, NODE_ENV: 'test', MINTDESK_DATA_DIR: baseConfig.dataDir, ...options.env }) : baseConfig;
  const dbName = uniqueName('t');
  const redisPrefix = `test:${uniqueName('p')}`;
  const bucket = uniqueName('t').replace(/_/g, '-');
  const runtime = await createRuntime({
    config,
    logger: testLogger(),
    infrastructure: options.redisUrl ? { ...infrastructure, redisUrl: options.redisUrl } : infrastructure,
    secrets: testSecrets(),
    mongoDbName: dbName,
    redisPrefix,
    bucket,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  let server: Server | undefined;
  let baseUrl = '';
  if (options.listen !== false) {
    server = runtime.createHttpApp().listen(0, '127.0.0.1');
    await once(server, 'listening');
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  return {
    runtime,
    services: runtime.services,
    config,
    infrastructure,
    baseUrl,
    server: server as Server,
    dbName,
    redisPrefix,
    async close() {
      if (server) {
        server.closeAllConnections();
        await new Promise((resolve) => server!.close(resolve));
      }
      const { redis, mongo } = runtime.services.core;
      await deleteKeys(redis, `${redisPrefix}*`).catch(() => undefined);
      await mongo.dropDatabase().catch(() => undefined);
      await runtime.close();
    },
  };
}

