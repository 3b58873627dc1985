import type { Redis } from 'ioredis';
import { createServices, type CoreDeps, type Services } from '../api/services.ts';
import { createTwilioPhoneNetwork, type PhoneNetwork } from '../ivr/phone-network.ts';
import { systemClock, type Clock } from '../platform/clock.ts';
import type { Config } from '../platform/config.ts';
import { connectMongo, createBullConnection, createMailTransport, createRedis, createS3Client } from '../platform/connections.ts';
import type { ResolvedInfrastructure } from '../platform/embedded/index.ts';
import { createEventBus } from '../platform/events.ts';
import type { Logger } from '../platform/logger.ts';
import { createObjectStore } from '../platform/object-store.ts';
import { createQueues } from '../platform/queues.ts';
import type { Secrets } from '../platform/secrets.ts';
import { withTimeout } from '../platform/timeout.ts';
import { createHttpApp } from './api/app.ts';
import type { Readiness } from './health.ts';
import { createPhoneSimulator, type PhoneSimulator } from './dev/phone-simulator.ts';

/**
 * The composition root every process, test suite and benchmark builds its platform with: connect
 * to the backing services, pick the adapters (Twilio or the development phone simulator; the
 * simulated payment gateway unless a real one is given), wire the service graph (api/services.ts).
 * What a process then serves or starts is up to its main (apps/<process>/main.ts).
 */
export interface Runtime {
  services: Services;
  /** Twilio when an account is configured, otherwise the development phone simulator. */
  phone: PhoneNetwork;
  /** The development phone simulator (no Twilio account): its live calls and its /simulator router. */
  phoneSimulator: PhoneSimulator | undefined;
  /** Connection for BullMQ workers (maxRetriesPerRequest: null). */
  bullConnection: Redis;
  readiness: Readiness;
  /** The HTTP application of `mintdesk api` (apps/api/app.ts) on this runtime. */
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

  // Connections
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

  // Adapters, then the service graph
  const { phone, phoneSimulator } = connectPhoneNetwork(config, options.secrets.appSecret, logger);
  const services = createServices(core, { phone });

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
    phone,
    phoneSimulator,
    bullConnection,
    readiness,
    createHttpApp: () => createHttpApp({ services, phone, phoneSimulator, readiness }),
    async close() {
      await core.queues.close().catch(() => undefined);
      mailer.close();
      await Promise.allSettled([mongo.close(), redis.quit(), bullConnection.quit()]);
    },
  };
}

/**
 * Twilio when both credentials are set; otherwise the phone simulator, a development adapter the
 * way the simulated gateway stands in for a payment processor (/simulator is mounted outside
 * production only).
 */
function connectPhoneNetwork(config: Readonly<Config>, appSecret: string, logger: Logger): { phone: PhoneNetwork; phoneSimulator: PhoneSimulator | undefined } {
  if (config.twilio.accountSid && config.twilio.authToken) return { phone: createTwilioPhoneNetwork(config), phoneSimulator: undefined };
  const simulated = createPhoneSimulator({ config, appSecret, logger });
  return { phone: simulated.network, phoneSimulator: simulated.simulator };
}
