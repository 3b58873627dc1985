import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { DomainEvent, DomainEventData } from '../../platform/events.ts';
import type { Logger } from '../../platform/logger.ts';
import type { TaskService } from './service.ts';

/**
 * Turns the platform's domain events into tasks: a caller waiting in the IVR queue, a callback
 * request, an order held for fraud review. One process at a time reads the event stream (a lease
 * in Redis), in order, from a cursor kept in Redis, so a restart resumes where the last reader
 * stopped and a hang-up is never handled before the wait it ends. Creating a task is idempotent
 * (unique source key), so an event read twice after a crash makes one task.
 */

export interface TaskIntakeDeps {
  redis: Redis;
  redisPrefix: string;
  tasks: TaskService;
  logger: Logger;
}

const LEASE_MS = 10_000;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;

/** Score 80 and above: the riskiest orders are looked at first. */
const fraudPriority = (score: number) => (score >= 80 ? 7 : 5);

export async function handleDomainEvent(tasks: TaskService, event: DomainEvent): Promise<void> {
  switch (event.type) {
    case 'call.waiting': {
      const data = event.data as DomainEventData<'call.waiting'>;
      // A caller sent back to the queue while their task is still open keeps that task.
      if ((await tasks.openTasksOfSource(data.callSid)).length) return;
      await tasks.create({
        source: { kind: 'call', ref: data.callSid },
        sourceKey: `call:${data.callSid}:${event.id}`,
        channel: 'call',
        priority: 6,
        language: /^[a-z]{2}$/.test(data.language) ? data.language : 'en',
        summary: { channel: 'call', callSid: data.callSid, callerId: data.callerId, customerId: data.customerId, queue: data.queue, tty: data.tty, recordingDeclined: data.recordingDeclined },
      });
      return;
    }
    case 'call.left_queue': {
      const data = event.data as DomainEventData<'call.left_queue'>;
      for (const task of await tasks.openTasksOfSource(data.callSid)) {
        if (task.state === 'assigned' || task.state === 'wrapping_up') continue;
        // Hung up while waiting: abandoned. Taken out of the queue otherwise (a callback, the menu, a rep): cancelled.
        await tasks.cancel(task.id, data.outcome === 'hangup' ? 'abandoned' : 'cancelled', `call left the queue: ${data.outcome}`);
      }
      return;
    }
    case 'callback.requested': {
      const data = event.data as DomainEventData<'callback.requested'>;
      await tasks.create({
        source: { kind: 'callback', ref: data.callbackId },
        channel: 'callback',
        priority: 4,
        summary: { channel: 'callback', callbackId: data.callbackId, callSid: data.callSid, bestTime: data.bestTime },
      });
      return;
    }
    case 'order.review_required': {
      const data = event.data as DomainEventData<'order.review_required'>;
      await tasks.create({
        source: { kind: 'fraud', ref: data.orderId },
        channel: 'fraud_review',
        priority: fraudPriority(data.score),
        summary: { channel: 'fraud_review', orderId: data.orderId, orderNumber: data.orderNumber, score: data.score },
      });
      return;
    }
    case 'order.status_changed': {
      const data = event.data as DomainEventData<'order.status_changed'>;
      if (data.from !== 'fraud_review') return;
      // Decided elsewhere (the HTTP API): a review nobody has taken yet is no longer needed.
      for (const task of await tasks.openTasksOfSource(data.orderId)) {
        if (task.state === 'pending' || task.state === 'offered') await tasks.cancel(task.id, 'cancelled', `order left review: ${data.to}`);
      }
      return;
    }
    default:
      return;
  }
}

export function startTaskIntake(deps: TaskIntakeDeps): { stop(): Promise<void> } {
  const { redis, logger } = deps;
  const stream = `${deps.redisPrefix}:events`;
  const leaseKey = `${deps.redisPrefix}:tasks:intake:lease`;
  const cursorKey = `${deps.redisPrefix}:tasks:intake:cursor`;
  const me = randomUUID();
  const reader = redis.duplicate();
  let running = true;
  let leader = false;

  async function holdLease(): Promise<boolean> {
    if (leader) {
      leader = Number(await redis.eval(RENEW, 1, leaseKey, me, String(LEASE_MS))) === 1;
    } else {
      leader = (await redis.set(leaseKey, me, 'PX', LEASE_MS, 'NX')) === 'OK';
    }
    return leader;
  }

  async function cursor(): Promise<string> {
    const stored = await redis.get(cursorKey);
    if (stored) return stored;
    // First reader ever: start from now (older events were announcements nobody routed).
    const [last] = await redis.xrevrange(stream, '+', '-', 'COUNT', 1);
    const start = last?.[0] ?? '0-0';
    await redis.set(cursorKey, start, 'NX');
    return (await redis.get(cursorKey)) ?? start;
  }

  const loop = (async () => {
    let lastRenew = 0;
    while (running) {
      try {
        if (Date.now() - lastRenew > LEASE_MS / 3 || !leader) {
          lastRenew = Date.now();
          if (!(await holdLease())) {
            await new Promise((resolve) => setTimeout(resolve, 1000));
            continue;
          }
        }
        const from = await cursor();
        const result = (await reader.xread('COUNT', 100, 'BLOCK', 1000, 'STREAMS', stream, from)) as [string, [string, string[]][]][] | null;
        for (const [, entries] of result ?? []) {
          for (const [id, fields] of entries) {
            if (!running) break;
            const index = fields.indexOf('event');
            if (index >= 0) {
              const parsed = JSON.parse(fields[index + 1] ?? '{}') as Omit<DomainEvent, 'id'>;
              await handleDomainEvent(deps.tasks, { id, ...parsed }).catch((error: Error) => logger.error({ err: error.message, eventId: id, type: parsed.type }, 'task intake: event not turned into a task'));
            }
            await redis.set(cursorKey, id);
          }
        }
      } catch (error) {
        if (!running) break;
        logger.warn({ err: (error as Error).message }, 'task intake: reading events failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  })();

  return {
    async stop() {
      running = false;
      reader.disconnect();
      await loop;
      if (leader) await redis.eval(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`, 1, leaseKey, me).catch(() => undefined);
    },
  };
}
