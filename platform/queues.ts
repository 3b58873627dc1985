import { Queue, UnrecoverableError, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';

/**
 * One map from queue name to payload schema: `enqueue` is type-checked against it and every worker
 * parses its job with the same schema before doing anything. Payloads carry ids, never card data.
 */
export const QueuePayloads = {
  'fraud-check': z.strictObject({ orderId: z.string().min(1), eventId: z.string().min(1) }),
  'payment-authorise': z.strictObject({ orderId: z.string().min(1), eventId: z.string().min(1) }),
  email: z.strictObject({
    eventId: z.string().min(1),
    template: z.string().min(1),
    orderId: z.string().optional(),
    customerId: z.string().optional(),
    enrollmentId: z.string().optional(),
    to: z.string().email().optional(),
    data: z.record(z.string(), z.unknown()).default({}),
  }),
  // Without releaseSku and runId it is a program's scheduled tick, which finds the due releases itself.
  'subscription-generate': z.strictObject({ programId: z.string().min(1), releaseSku: z.string().min(1).optional(), runId: z.string().min(1).optional() }),
  'subscription-notice': z.strictObject({ programId: z.string().min(1), releaseSku: z.string().min(1) }),
  maintenance: z.strictObject({ task: z.enum(['expire-reservations', 'relay-outbox', 'purge-expired', 'audit-checkpoint']) }),
} as const;

export type QueueName = keyof typeof QueuePayloads;
export type QueuePayload<N extends QueueName> = z.input<(typeof QueuePayloads)[N]>;
export const QUEUE_NAMES = Object.keys(QueuePayloads) as QueueName[];

/** Sensible retry defaults: exponential backoff, failed jobs kept for the admin dashboard. */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

/**
 * Per-queue changes to the defaults. Email rides out an SMTP provider outage of about 40 minutes
 * (10 attempts, 5 s doubling) before a message is dead-lettered; a customer would rather get an
 * order confirmation late than never.
 */
export const QUEUE_JOB_OPTIONS: Partial<Record<QueueName, JobsOptions>> = {
  email: { attempts: 10, backoff: { type: 'exponential', delay: 5000 } },
};

export interface Queues {
  enqueue<N extends QueueName>(name: N, data: QueuePayload<N>, options?: JobsOptions): Promise<void>;
  queue(name: QueueName): Queue;
  prefix: string;
  close(): Promise<void>;
}

export function createQueues({ connection, prefix }: { connection: Redis; prefix: string }): Queues {
  const queues = new Map<QueueName, Queue>();
  const queue = (name: QueueName) => {
    let existing = queues.get(name);
    if (!existing) {
      existing = new Queue(name, { connection, prefix: `${prefix}:bull`, defaultJobOptions: { ...DEFAULT_JOB_OPTIONS, ...QUEUE_JOB_OPTIONS[name] } });
      queues.set(name, existing);
    }
    return existing;
  };
  return {
    prefix: `${prefix}:bull`,
    queue,
    async enqueue(name, data, options) {
      const payload = QueuePayloads[name].parse(data);
      await queue(name).add(name, payload, options);
    },
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
}

/** Parses a job's payload; a malformed one can never succeed, so it must not be retried. */
export function parseJobPayload<N extends QueueName>(name: N, data: unknown): z.output<(typeof QueuePayloads)[N]> {
  const result = QueuePayloads[name].safeParse(data);
  if (!result.success) throw new UnrecoverableError(`invalid ${name} payload: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return result.data as z.output<(typeof QueuePayloads)[N]>;
}
