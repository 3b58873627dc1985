import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { isAppError } from '../platform/errors.ts';
import type { Services } from '../api/services.ts';
import type { Logger } from '../platform/logger.ts';
import { parseJobPayload, type QueueName, type QueuePayloads } from '../platform/queues.ts';

/**
 * One way to run a queue: the payload is parsed with the queue's schema before anything else, and
 * errors steer retries. A malformed payload or an AppError of kind `validation` / `not_found` can
 * never succeed, so the job fails at once (UnrecoverableError); anything else (Redis or Mongo
 * away, a gateway timeout, a busy lock) is retried with the queue's exponential backoff. A job that
 * fails its last attempt stays in the failed set: that is the dead-letter list the admin
 * dashboard (api/queues/routes.ts) shows and retries.
 */

/** What the workers run on: the service graph and BullMQ's connection (a `Runtime` from apps/runtime.ts). */
export interface WorkerRuntime {
  services: Services;
  /** Connection for BullMQ workers (maxRetriesPerRequest: null). */
  bullConnection: Redis;
}

export interface WorkerDeps {
  /** BullMQ's connection (maxRetriesPerRequest: null); the worker duplicates it for blocking reads. */
  connection: Redis;
  /** Must equal the queues' prefix (`Queues.prefix`) or the worker watches empty queues. */
  prefix: string;
  logger: Logger;
}

export interface QueueWorkerOptions<N extends QueueName> {
  queue: N;
  /**
   * Jobs this process runs at once.
   * @defaultValue 1
   */
  concurrency?: number;
  handler: (payload: z.output<(typeof QueuePayloads)[N]>, job: Job) => Promise<unknown>;
}

export interface RunningWorker {
  name: string;
  /** Stops taking jobs and waits for the active ones to finish (the graceful part of SIGTERM). */
  close(): Promise<void>;
}

/** While Redis is down BullMQ reports an error per reconnect attempt; one line per interval is enough. */
const ERROR_LOG_INTERVAL_MS = 30_000;

export function startQueueWorker<N extends QueueName>(deps: WorkerDeps, options: QueueWorkerOptions<N>): RunningWorker & { worker: Worker } {
  const logger = deps.logger.child({ queue: options.queue });
  const worker = new Worker(
    options.queue,
    async (job: Job) => {
      const payload = parseJobPayload(options.queue, job.data);
      try {
        return await options.handler(payload, job);
      } catch (error) {
        throw toJobError(error);
      }
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: options.concurrency ?? 1 },
  );

  worker.on('completed', (job) => {
    logger.info({ jobId: job.id, ids: payloadIds(job.data), attempt: job.attemptsMade, ms: job.finishedOn && job.processedOn ? job.finishedOn - job.processedOn : undefined }, 'job done');
  });
  worker.on('failed', (job, error) => {
    if (!job) return;
    const maxAttempts = job.opts.attempts ?? 1;
    const final = error instanceof UnrecoverableError || error.name === 'UnrecoverableError' || job.attemptsMade >= maxAttempts;
    const entry = { jobId: job.id, ids: payloadIds(job.data), attemptsMade: job.attemptsMade, maxAttempts, err: error.message };
    if (final) logger.error(entry, 'job failed for good; it waits in the failed list for an admin');
    else logger.warn(entry, 'job failed; will retry');
  });
  worker.on('stalled', (jobId) => logger.warn({ jobId }, 'job stalled (its worker stopped answering); it will run again'));
  let lastErrorLog = 0;
  worker.on('error', (error) => {
    const now = Date.now();
    if (now - lastErrorLog < ERROR_LOG_INTERVAL_MS) return;
    lastErrorLog = now;
    logger.warn({ err: error.message }, 'queue worker error (Redis unreachable?); it keeps retrying');
  });

  return {
    name: options.queue,
    worker,
    close: () => worker.close(),
  };
}

/** Maps a handler's error to what BullMQ should do with the job. */
export function toJobError(error: unknown): Error {
  if (error instanceof UnrecoverableError) return error;
  if (isAppError(error)) {
    // The code leads the message: it becomes the job's failedReason on the dashboard.
    const reason = `${error.code}: ${error.message}`;
    if (error.kind === 'validation' || error.kind === 'not_found') return new UnrecoverableError(reason);
    return new Error(reason, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** Ids in a payload, for logs: payloads carry ids, but the email queue also has an address and template data. */
function payloadIds(data: unknown): Record<string, string> {
  const ids: Record<string, string> = {};
  if (data && typeof data === 'object') {
    for (const [key, value] of Object.entries(data)) if (/Id$/.test(key) && typeof value === 'string') ids[key] = value;
  }
  return ids;
}
