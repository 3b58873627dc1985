import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { startEmbeddedMongo } from './mongo.ts';
import { startEmbeddedRedis } from './redis.ts';
import { startEmbeddedS3 } from './s3.ts';
import { startEmbeddedSmtp, type Mailbox } from './smtp.ts';

export { EmbeddedServiceError } from './mongo.ts';
export type { Mailbox, ReceivedMail } from './smtp.ts';

/** Where each backing service is, after filling every unset URL with an embedded server. */
export interface ResolvedInfrastructure {
  mongoUri: string;
  mongoEngine: 'external' | 'memory-server' | 'ferretdb';
  redisUrl: string;
  s3: { endpoint: string | undefined; region: string; accessKeyId: string | undefined; secretAccessKey: string | undefined; forcePathStyle: boolean };
  smtpUrl: string;
  /** Present only when the embedded SMTP server is used: the console's mail viewer reads it. */
  mailbox: Mailbox | undefined;
  stop(): Promise<void>;
}

export interface ResolveOptions {
  /** Keep embedded data under the data dir between runs (the platform) or not (tests). */
  persistent: boolean;
  ferretPostgresDatabase?: string;
}

export async function resolveInfrastructure(config: Config, logger: Logger, options: ResolveOptions): Promise<ResolvedInfrastructure> {
  const stops: (() => Promise<void>)[] = [];
  const common = { dataDir: config.dataDir, persistent: options.persistent, logger };
  try {
    const [mongo, redis, s3, smtp] = await Promise.all([
      config.mongo.uri
        ? { uri: config.mongo.uri, engine: 'external' as const }
        : startEmbeddedMongo({
            ...common,
            engine: config.mongo.embedded,
            ferretPostgresUrl: config.mongo.ferretPostgresUrl,
            ...(options.ferretPostgresDatabase ? { ferretPostgresDatabase: options.ferretPostgresDatabase } : {}),
          }).then((m) => (stops.push(m.stop), m)),
      config.redis.url ? { url: config.redis.url } : startEmbeddedRedis(common).then((r) => (stops.push(r.stop), r)),
      config.s3.endpoint
        ? { endpoint: config.s3.endpoint, accessKeyId: config.s3.accessKeyId, secretAccessKey: config.s3.secretAccessKey }
        : startEmbeddedS3(common).then((s) => (stops.push(s.stop), s)),
      config.smtp.url ? { url: config.smtp.url, mailbox: undefined } : startEmbeddedSmtp(common).then((s) => (stops.push(s.stop), s)),
    ]);
    return {
      mongoUri: mongo.uri,
      mongoEngine: mongo.engine,
      redisUrl: redis.url,
      s3: { endpoint: s3.endpoint, region: config.s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: config.s3.forcePathStyle },
      smtpUrl: smtp.url,
      mailbox: smtp.mailbox,
      stop: async () => {
        await Promise.allSettled(stops.reverse().map((stop) => stop()));
      },
    };
  } catch (error) {
    await Promise.allSettled(stops.map((stop) => stop()));
    throw error;
  }
}
