import { DelayedError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Transporter } from 'nodemailer';
import type { Services } from '../../api/services.ts';
import { parseJobPayload } from '../../platform/queues.ts';
import type { RunningWorker, WorkerRuntime } from '../runner.ts';
import { createEmailSender, type DeliveryOutcome } from './sender.ts';

/**
 * The `email` queue's worker. BullMQ supplies the rate limit (a queue-wide limiter, so several
 * worker processes together stay under the SMTP provider's limit), retries with exponential backoff
 * (platform/queues.ts), and keeps jobs that failed their last attempt as failed jobs: the dead
 * letters, listed with their reason on the queue dashboard. The reason is also written to the email
 * log (GET /api/staff/email/log?state=failed).
 */

export interface EmailWorkerOptions {
  services: Services;
  /** A BullMQ connection (maxRetriesPerRequest: null): runtime.bullConnection. */
  connection: Redis;
  /** Defaults to services.core.mailer; tests point one at a closed port. */
  transport?: Transporter;
  /**
   * Emails per second across every worker of this queue.
   * @defaultValue 50
   */
  ratePerSecond?: number;
  /**
   * Jobs one worker runs at once (SMTP round trips overlap; the transport pool bounds connections).
   * @defaultValue 10
   */
  concurrency?: number;
  claimLeaseMs?: number;
  busyRecheckMs?: number;
  /**
   * Start taking jobs at once; false leaves that to `worker.run()`.
   * @defaultValue true
   */
  autorun?: boolean;
}

export const DEFAULT_EMAIL_RATE_PER_SECOND = 50;

export function createEmailWorker(options: EmailWorkerOptions) {
  const { services } = options;
  const { core } = services;
  const logger = core.logger.child({ worker: 'email' });
  const sender = createEmailSender({
    services,
    transport: options.transport ?? core.mailer,
    logger,
    ...(options.claimLeaseMs !== undefined ? { claimLeaseMs: options.claimLeaseMs } : {}),
    ...(options.busyRecheckMs !== undefined ? { busyRecheckMs: options.busyRecheckMs } : {}),
  });

  const processor = async (job: Job, token?: string): Promise<DeliveryOutcome> => {
    let payload;
    try {
      payload = parseJobPayload('email', job.data);
    } catch (error) {
      const data = job.data as { eventId?: unknown; template?: unknown } | undefined;
      if (typeof data?.eventId === 'string' && data.eventId) {
        await services.email.recordRejectedJob(data.eventId, typeof data.template === 'string' ? data.template : 'unknown', (error as Error).message).catch(() => undefined);
      }
      throw error;
    }
    const attempt = job.attemptsMade + 1;
    const result = await sender.deliver(payload, { attempt, final: attempt >= (job.opts.attempts ?? 1) });
    if (result.outcome === 'busy') {
      // Another worker holds the claim: look again later without spending one of the job's attempts.
      await job.moveToDelayed(result.retryAt.getTime(), token);
      throw new DelayedError();
    }
    return result;
  };

  const worker = new Worker('email', processor, {
    connection: options.connection,
    prefix: core.queues.prefix,
    concurrency: options.concurrency ?? 10,
    limiter: { max: options.ratePerSecond ?? DEFAULT_EMAIL_RATE_PER_SECOND, duration: 1000 },
    autorun: options.autorun ?? true,
  });
  // Without a listener an 'error' event would throw out of the emitter; while Redis is down one arrives per reconnect.
  let lastErrorLog = 0;
  worker.on('error', (error) => {
    if (Date.now() - lastErrorLog < 30_000) return;
    lastErrorLog = Date.now();
    logger.warn({ err: error.message }, 'email worker error (Redis unreachable?); it keeps retrying');
  });
  worker.on('stalled', (jobId) => logger.warn({ jobId }, 'email job stalled (its worker stopped answering); its claim is taken over when the lease ends'));
  worker.on('failed', (job, error) => {
    if (job && (job.attemptsMade >= (job.opts.attempts ?? 1) || error.name === 'UnrecoverableError')) {
      logger.error({ jobId: job.id, eventId: (job.data as { eventId?: string }).eventId, template: (job.data as { template?: string }).template, err: error.message }, 'email dead-lettered');
    }
  });

  return {
    worker,
    async close() {
      // Waits for emails in flight, so a deploy does not cut an SMTP conversation short.
      await worker.close();
    },
  };
}

/** The email worker of a process (workers/start.ts), in the shape of the other queue workers. */
export function startEmailWorker(runtime: Pick<WorkerRuntime, 'services' | 'bullConnection'>, options: Omit<EmailWorkerOptions, 'services' | 'connection'> = {}): RunningWorker & { worker: Worker } {
  const running = createEmailWorker({ services: runtime.services, connection: runtime.bullConnection, ...options });
  return { name: 'email', worker: running.worker, close: running.close };
}
