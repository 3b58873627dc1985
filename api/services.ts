import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { Transporter } from 'nodemailer';
import type { Clock } from '../platform/clock.ts';
import type { Config } from '../platform/config.ts';
import type { Mailbox } from '../platform/embedded/index.ts';
import type { EventBus } from '../platform/events.ts';
import type { Logger } from '../platform/logger.ts';
import type { ObjectStore } from '../platform/object-store.ts';
import type { Queues } from '../platform/queues.ts';
import type { Secrets } from '../platform/secrets.ts';

/** Connections and cross-cutting tools every domain service may take. Built in platform/runtime.ts. */
export interface CoreDeps {
  config: Readonly<Config>;
  logger: Logger;
  clock: Clock;
  secrets: Secrets;
  mongo: Connection;
  redis: Redis;
  /** Prefix for every Redis key (tests use a unique one per suite). */
  redisPrefix: string;
  objectStore: ObjectStore;
  mailer: Transporter;
  mailbox: Mailbox | undefined;
  events: EventBus;
  queues: Queues;
}

/**
 * The whole service graph, wired explicitly in one place: read top to bottom to see who depends
 * on whom. The API routes, the IVR, the console and the workers all receive this object.
 */
export function createServices(core: CoreDeps) {
  return {
    core,
  };
}

export type Services = ReturnType<typeof createServices>;
