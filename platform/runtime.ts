import type { Redis } from 'ioredis';
import { createHttpApp, type Readiness } from '../api/app.ts';
import { createServices, type CoreDeps, type Services } from '../api/services.ts';
import { systemClock, type Clock } from './clock.ts';
import type { Config } from './config.ts';
import { connectMongo, createBullConnection, createMailTransport, createRedis, createS3Client } from './connections.ts';
import type { ResolvedInfrastructure } from './embedded/index.ts';
import { createEventBus } from './events.ts';
import type { Logger } from './logger.ts';
import { createObjectStore } from './object-store.ts';
import { createQueues } from './queues.ts';
import type { Secrets } from './secrets.ts';

export interface Runtime {
  services: Services;
  /** Connection for BullMQ workers (maxRetriesPerRequest: null). */
  bullConnection: Redis;
  readiness: Readiness;
  createHttpApp(): ReturnType<typeof createHttpApp>;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  config: Readonly<Config>;
  logger: Logger;
  infrastructure: Pick<ResolvedInfrastructure, 'mongoUri' | 'redisUrl' | 's3' | 'smtpUrl' | 'mailbox'>;
  secrets: Secrets;
  clock?: Clock;
  /** Overrides for tests: a unique database, key prefix and bucket per suite. */
  mongoDbName?: string;
  redisPrefix?: string;
  bucket?: string;
}

/** Connects to every backing service and wires the service graph. One per process (or per test suite). */
export async function createRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { config, logger, infrastructure } = options;
  const mongo = await connectMongo(infrastructure.mongoUri, options.mongoDbName ?? config.mongo.dbName);
  const redis = createRedis(infrastructure.redisUrl);
  const bullConnection = createBullConnection(infrastructure.redisUrl);
  const redisPrefix = options.redisPrefix ?? config.redis.prefix;
  const objectStore = createObjectStore({ client: createS3Client(infrastructure.s3), bucket: options.bucket ?? config.s3.bucket });
  await objectStore.ensureBucket().catch((error: Error) => logger.warn({ err: error.message }, 'could not ensure S3 bucket; recordings will fail until it exists'));
  const mailer = createMailTransport(infrastructure.smtpUrl);
  const core: CoreDeps = {
    config,
    logger,
    clock: options.clock ?? systemClock,
    secrets: options.secrets,
    mongo,
    redis,
    redisPrefix,
    objectStore,
    mailer,
    mailbox: infrastructure.mailbox,
    events: createEventBus({ redis, prefix: redisPrefix, logger }),
    queues: createQueues({ connection: bullConnection, prefix: redisPrefix }),
  };
  const services = createServices(core);
  const readiness: Readiness = {
    async check() {
      const probe = async (fn: () => Promise<unknown>) => {
        try {
          await withTimeout(fn(), 2000);
          return 'ok' as const;
        } catch (error) {
          return `unavailable: ${(error as Error).message}`;
        }
      };
      const [mongoState, redisState, s3State] = await Promise.all([
        probe(() => mongo.db!.admin().command({ ping: 1 })),
        probe(() => redis.ping()),
        probe(() => objectStore.ping()),
      ]);
      return { mongo: mongoState, redis: redisState, s3: s3State };
    },
  };
  return {
    services,
    bullConnection,
    readiness,
    createHttpApp: () => createHttpApp(services, { readiness }),
    async close() {
      await core.queues.close().catch(() => undefined);
      mailer.close();
      await Promise.allSettled([mongo.close(), redis.quit(), bullConnection.quit()]);
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]);
}
