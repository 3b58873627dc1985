import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../platform/config.ts';
import type { ResolvedInfrastructure } from '../../platform/embedded/index.ts';
import { createLogger } from '../../platform/logger.ts';
import { createRuntime, type Runtime } from '../../apps/runtime.ts';
import { sharedInfrastructure, stopSharedInfrastructure, testSecrets, uniqueName } from '../../test/support/infra.ts';
import { deleteKeys } from '../../platform/redis-keys.ts';

/**
 * A full mintdesk runtime for a benchmark: the embedded servers the test suite uses (FerretDB on
 * PostgreSQL or mongod, Redis, s3rver, SMTP, unless *_URL variables point elsewhere), a database,
 * Redis prefix and bucket of its own, and the HTTP app on a loopback port. Same wiring as
 * production (platform/runtime.ts), so what is measured is the real request path.
 */
export interface BenchRuntime {
  runtime: Runtime;
  services: Runtime['services'];
  config: Readonly<Config>;
  infrastructure: ResolvedInfrastructure;
  baseUrl: string;
  server: Server;
  redisPrefix: string;
  /** Closes the runtime, drops its data and stops the embedded servers. */
  shutdown(): Promise<void>;
}

export interface BenchRuntimeOptions {
  /** Report every Mongo command to `runtime.services.core.mongo.getClient()` listeners (see bench/checkout/profile.ts). */
  monitorMongoCommands?: boolean;
  /** Log level of the runtime; lines are formatted as in production and then discarded. @defaultValue 'info' */
  logLevel?: string;
  /** Configuration overrides (environment variable names), e.g. `{ TRUST_PROXY: 'true' }`. */
  env?: Record<string, string>;
}

export async function startBenchRuntime(options: BenchRuntimeOptions = {}): Promise<BenchRuntime> {
  const shared = await sharedInfrastructure();
  const { infrastructure } = shared;
  const config = options.env ? loadConfig({ ...process.env, NODE_ENV: 'test', MINTDESK_DATA_DIR: shared.config.dataDir, ...options.env }) : shared.config;
  const redisPrefix = `bench:${uniqueName('p')}`;
  // Production writes log lines to stdout; formatting them is part of a request's cost, printing them is not.
  const discard = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const mongoUri = options.monitorMongoCommands ? withUriOption(infrastructure.mongoUri, 'monitorCommands', 'true') : infrastructure.mongoUri;
  const runtime = await createRuntime({
    config,
    logger: createLogger({ level: options.logLevel ?? 'info', name: 'bench', destination: discard }),
    infrastructure: { ...infrastructure, mongoUri },
    secrets: testSecrets(),
    mongoDbName: uniqueName('bench'),
    redisPrefix,
    bucket: uniqueName('bench').replace(/_/g, '-'),
  });
  const server = runtime.createHttpApp().listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    runtime,
    services: runtime.services,
    config,
    infrastructure,
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    redisPrefix,
    async shutdown() {
      // A load generator stops counting before the server stops working: let the requests still
      // in flight finish before their Redis and Mongo connections go away.
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeIdleConnections();
      const forced = setTimeout(() => server.closeAllConnections(), 30_000);
      await closed;
      clearTimeout(forced);
      const { redis, mongo } = runtime.services.core;
      await deleteKeys(redis, `${redisPrefix}*`).catch(() => undefined);
      await mongo.dropDatabase().catch(() => undefined);
      await runtime.close();
      await stopSharedInfrastructure();
    },
  };
}

/** Which engine answered as "Mongo": benchmarks print it, because FerretDB and mongod differ a lot. */
export function describeInfrastructure(bench: Pick<BenchRuntime, 'infrastructure'>): string {
  return `mongo=${bench.infrastructure.mongoEngine} redis=${bench.infrastructure.redisUrl}`;
}

function withUriOption(uri: string, name: string, value: string): string {
  const url = new URL(uri);
  url.searchParams.set(name, value);
  return url.toString();
}

