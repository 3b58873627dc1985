import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from './logger.ts';

/**
 * Domain events the real-time console shows (a waiting call, an order held for review, ...).
 * They go to a capped Redis stream so a console process that reconnects can catch up from the last
 * id it saw instead of losing messages; durable facts live in Mongo, events only announce them.
 */
export const DomainEventSchemas = {
  'call.waiting': z.object({ callSid: z.string(), queue: z.string(), callerId: z.string(), customerId: z.string().nullable(), language: z.string(), entered: z.record(z.string(), z.string()), recordingDeclined: z.boolean(), tty: z.boolean() }),
  'call.left_queue': z.object({ callSid: z.string(), queue: z.string(), outcome: z.string() }),
  'call.connected': z.object({ callSid: z.string(), staffUserId: z.string() }),
  'callback.requested': z.object({ callbackId: z.string(), callSid: z.string(), bestTime: z.string() }),
  'order.placed': z.object({ orderId: z.string(), orderNumber: z.string(), channel: z.string(), totalCents: z.number().int() }),
  'order.status_changed': z.object({ orderId: z.string(), orderNumber: z.string(), from: z.string(), to: z.string() }),
  'order.review_required': z.object({ orderId: z.string(), orderNumber: z.string(), score: z.number() }),
  'staff.access_revoked': z.object({ staffUserId: z.string(), reason: z.string() }),
} as const;

export type DomainEventType = keyof typeof DomainEventSchemas;
export type DomainEventData<T extends DomainEventType> = z.infer<(typeof DomainEventSchemas)[T]>;
export interface DomainEvent<T extends DomainEventType = DomainEventType> {
  id: string;
  type: T;
  at: string;
  data: DomainEventData<T>;
}

export interface EventBus {
  publish<T extends DomainEventType>(type: T, data: DomainEventData<T>): Promise<void>;
  /** Events after `afterId` (exclusive), oldest first; `'0'` for everything kept. */
  readSince(afterId: string, count?: number): Promise<DomainEvent[]>;
  /** Follows the stream with a blocking reader on its own connection; returns a stop function. */
  follow(handler: (event: DomainEvent) => void, options?: { fromId?: string }): () => Promise<void>;
}

const STREAM_MAX_LENGTH = 10_000;

export function createEventBus({ redis, prefix, logger }: { redis: Redis; prefix: string; logger: Logger }): EventBus {
  const stream = `${prefix}:events`;
  const decode = (id: string, fields: string[]): DomainEvent | undefined => {
    const index = fields.indexOf('event');
    if (index < 0) return undefined;
    const parsed = JSON.parse(fields[index + 1] ?? '{}') as Omit<DomainEvent, 'id'>;
    return { id, ...parsed };
  };
  return {
    async publish(type, data) {
      const parsed = DomainEventSchemas[type].parse(data);
      try {
        await redis.xadd(stream, 'MAXLEN', '~', String(STREAM_MAX_LENGTH), '*', 'event', JSON.stringify({ type, at: new Date().toISOString(), data: parsed }));
      } catch (error) {
        // Announcements are best effort: the fact is already durable in Mongo and the console reloads it.
        logger.warn({ err: (error as Error).message, type }, 'could not publish domain event');
      }
    },
    async readSince(afterId, count = 500) {
      const entries = await redis.xrange(stream, afterId === '0' ? '-' : `(${afterId}`, '+', 'COUNT', count);
      return entries.map(([id, fields]) => decode(id, fields)).filter((e): e is DomainEvent => e !== undefined);
    },
    follow(handler, options = {}) {
      const reader = redis.duplicate();
      let lastId = options.fromId ?? '$';
      let running = true;
      const loop = (async () => {
        while (running) {
          try {
            const result = (await reader.xread('BLOCK', 1000, 'STREAMS', stream, lastId)) as [string, [string, string[]][]][] | null;
            for (const [, entries] of result ?? []) {
              for (const [id, fields] of entries) {
                lastId = id;
                const event = decode(id, fields);
                if (event) handler(event);
              }
            }
          } catch (error) {
            if (!running) break;
            logger.warn({ err: (error as Error).message }, 'event stream read failed; retrying');
            await new Promise((r) => setTimeout(r, 500));
          }
        }
      })();
      return async () => {
        running = false;
        reader.disconnect();
        await loop;
      };
    },
  };
}
