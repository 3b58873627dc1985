import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { ConfigError, loadConfig, type Config } from '../platform/config.ts';
import { EmbeddedServiceError, resolveInfrastructure, type ResolvedInfrastructure } from '../platform/embedded/index.ts';
import { createLogger, type Logger } from '../platform/logger.ts';
import { createRuntime, type Runtime } from './runtime.ts';
import { resolveSecrets } from '../platform/secrets.ts';

/**
 * What every mintdesk process does around its own work (apps/<process>/main.ts): read the
 * configuration, find or start the backing services, build the runtime (apps/runtime.ts), and on
 * SIGTERM run its shutdown steps before closing connections and embedded servers.
 */
export interface Booted {
  config: Readonly<Config>;
  logger: Logger;
  infrastructure: ResolvedInfrastructure;
  runtime: Runtime;
}

interface EmbeddedAnnouncement {
  pid: number;
  mongoUri: string;
  mongoEngine: ResolvedInfrastructure['mongoEngine'];
  redisUrl: string;
  s3: ResolvedInfrastructure['s3'];
  smtpUrl: string;
}

const announcementFile = (config: Readonly<Config>) => join(config.dataDir, 'embedded.json');

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A second mintdesk process on the same machine (`mintdesk workers` beside `mintdesk api`, or an
 * admin command while the platform runs) must use the embedded servers the first one started,
 * not start its own on the same data files.
 */
function runningEmbedded(config: Readonly<Config>): ResolvedInfrastructure | undefined {
  const file = announcementFile(config);
  if (!existsSync(file)) return undefined;
  const announced = JSON.parse(readFileSync(file, 'utf8')) as EmbeddedAnnouncement;
  if (!processAlive(announced.pid)) return undefined;
  return {
    mongoUri: config.mongo.uri ?? announced.mongoUri,
    mongoEngine: config.mongo.uri ? 'external' : announced.mongoEngine,
    redisUrl: config.redis.url ?? announced.redisUrl,
    s3: config.s3.endpoint ? { endpoint: config.s3.endpoint, region: config.s3.region, accessKeyId: config.s3.accessKeyId, secretAccessKey: config.s3.secretAccessKey, forcePathStyle: config.s3.forcePathStyle } : announced.s3,
    smtpUrl: config.smtp.url ?? announced.smtpUrl,
    mailbox: undefined,
    stop: async () => undefined,
  };
}

function announceEmbedded(config: Readonly<Config>, infrastructure: ResolvedInfrastructure): () => void {
  const embedded = !config.mongo.uri || !config.redis.url || !config.s3.endpoint || !config.smtp.url;
  if (!embedded) return () => undefined;
  mkdirSync(config.dataDir, { recursive: true });
  const file = announcementFile(config);
  const announcement: EmbeddedAnnouncement = { pid: process.pid, mongoUri: infrastructure.mongoUri, mongoEngine: infrastructure.mongoEngine, redisUrl: infrastructure.redisUrl, s3: infrastructure.s3, smtpUrl: infrastructure.smtpUrl };
  writeFileSync(file, JSON.stringify(announcement, null, 2), { mode: 0o600 });
  return () => rmSync(file, { force: true });
}

/** Config, embedded servers where no URL is set, connections and the service graph. */
export async function boot(name: string, options: { reuseRunning?: boolean } = {}): Promise<Booted> {
  let config: Readonly<Config>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`mintdesk: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, name });
  let infrastructure: ResolvedInfrastructure;
  try {
    const reused = options.reuseRunning === false ? undefined : runningEmbedded(config);
    if (reused) logger.info('using the embedded services of the running mintdesk process');
    infrastructure = reused ?? (await resolveInfrastructure(config, logger, { persistent: true }));
    if (!reused) {
      const withdraw = announceEmbedded(config, infrastructure);
      const stop = infrastructure.stop;
      infrastructure = { ...infrastructure, stop: async () => (withdraw(), stop()) };
    }
  } catch (error) {
    if (error instanceof EmbeddedServiceError) {
      console.error(`mintdesk: ${error.message}`);
      process.exit(3);
    }
    throw error;
  }
  const secrets = resolveSecrets(config, { persistent: config.env !== 'test' });
  const runtime = await createRuntime({ config, logger, infrastructure, secrets });
  return { config, logger, infrastructure, runtime };
}

export function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/**
 * SIGTERM/SIGINT: stop accepting connections, let in-flight requests and jobs finish within the
 * grace period, then close connections and embedded servers. A second signal forces the exit.
 */
export interface ShutdownStep {
  name: string;
  run(): Promise<void>;
}

export function onShutdown(booted: Booted, steps: ShutdownStep[]): void {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      booted.logger.warn('second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    booted.logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      booted.logger.error('graceful shutdown took too long; exiting');
      process.exit(1);
    }, booted.config.shutdownGraceSeconds * 1000);
    force.unref();
    for (const step of steps) {
      try {
        await step.run();
      } catch (error) {
        booted.logger.warn({ err: (error as Error).message, step: step.name }, 'shutdown step failed');
      }
    }
    await booted.runtime.close();
    await booted.infrastructure.stop();
    booted.logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** Stops an HTTP server: no new connections, in-flight requests finish. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Keep-alive sockets with no request in flight would hold close() open until they time out.
    server.closeIdleConnections();
  });
}
