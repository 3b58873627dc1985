import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { AppError } from '../../platform/errors.ts';
import type { DomainEvent } from '../../platform/events.ts';
import { startQueueWorker, type RunningWorker, type WorkerRuntime } from '../runner.ts';
import { createSubscriptionGenerator, LeaseBusyError, type GenerateOptions } from './generator.ts';
import { createNoticeSender } from './notices.ts';

/** How long a run waits when another generator holds its program before it tries again. */
const BUSY_RETRY_MS = 15_000;

export interface SubscriptionWorkerOptions {
  /** Passed to the generator (tests lower them; production keeps the defaults). */
  generate?: Pick<GenerateOptions, 'concurrency' | 'settleBatchSize'>;
  /** Follow order status changes to record declined subscription orders. @defaultValue true */
  followDeclines?: boolean;
}

/** A run for a missing run id or a release outside the program will not get better by retrying. */
function permanent(error: unknown): unknown {
  if (error instanceof AppError && ['not_found', 'rule', 'validation'].includes(error.kind)) return new UnrecoverableError(`${error.code}: ${error.message}`);
  return error;
}

/**
 * The subscription workers: `subscription-generate` (a run for one release, or a program's scheduled
 * tick when the payload names no release), `subscription-notice`, and a follower of order status
 * changes that records declined subscription orders on their enrollment.
 */
export function startSubscriptionWorkers(runtime: WorkerRuntime, options: SubscriptionWorkerOptions = {}): RunningWorker[] {
  const { services, bullConnection } = runtime;
  const { core, subscriptions } = services;
  const logger = core.logger.child({ component: 'subscriptions' });
  const generator = createSubscriptionGenerator({
    subscriptions,
    checkout: services.checkout,
    orders: services.orders,
    queues: core.queues,
    redis: core.redis,
    redisPrefix: core.redisPrefix,
    clock: core.clock,
    logger,
  });
  const notices = createNoticeSender({ subscriptions, queues: core.queues, clock: core.clock, logger });
  // BullMQ's close waits for active jobs; a run of many thousand orders stops early instead and resumes on the next worker.
  const shutdown = new AbortController();
  const deps = { connection: bullConnection, prefix: core.queues.prefix, logger };

  async function runGeneration(job: Job, runId: string) {
    try {
      return await generator.generate(runId, { ...options.generate, signal: shutdown.signal });
    } catch (error) {
      if (error instanceof LeaseBusyError && job.token) {
        // Not a failure: wait for the other generator without using up an attempt.
        await job.moveToDelayed(Date.now() + BUSY_RETRY_MS, job.token);
        throw new DelayedError();
      }
      throw permanent(error);
    }
  }

  async function tick(program: string) {
    const due = await subscriptions.dueReleases(program);
    const day = core.clock().toISOString().slice(0, 10);
    for (const sku of due.notice) {
      // At most one notice job per release per day; the notice markers make a repeat cheap anyway.
      await core.queues.enqueue('subscription-notice', { programId: program, releaseSku: sku }, { jobId: `notice.${program}.${sku}.${day}` });
    }
    const runs: string[] = [];
    for (const sku of due.generate) {
      const run = await subscriptions.startScheduledRun(program, sku);
      if (run) runs.push(run._id);
    }
    return { program, notices: due.notice, runs };
  }

  const generate = startQueueWorker(deps, {
    queue: 'subscription-generate',
    concurrency: 2,
    async handler(payload, job) {
      if (payload.releaseSku && payload.runId) return runGeneration(job, payload.runId);
      if (!payload.releaseSku && !payload.runId) return tick(payload.programId);
      throw new UnrecoverableError('subscription-generate needs both releaseSku and runId, or neither (a scheduled tick)');
    },
  });
  generate.worker.on('failed', (job, error) => {
    const runId = (job?.data as { runId?: string } | undefined)?.runId;
    if (!job || !runId) return;
    if (error instanceof UnrecoverableError || error.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1)) {
      void subscriptions.models.Runs.updateOne({ _id: runId, status: { $ne: 'completed' } }, { $set: { status: 'failed', lastError: error.message, updatedAt: core.clock() } }).catch(() => undefined);
    }
  });

  const notice = startQueueWorker(deps, {
    queue: 'subscription-notice',
    async handler(payload) {
      try {
        return await notices.send(payload.programId, payload.releaseSku, { signal: shutdown.signal });
      } catch (error) {
        throw permanent(error);
      }
    },
  });

  const workers: RunningWorker[] = [
    {
      name: 'subscription-generate',
      async close() {
        shutdown.abort();
        await generate.close();
      },
    },
    notice,
  ];
  if (options.followDeclines !== false) workers.push(followDeclines(runtime, generator.orderDeclined, logger));
  return workers;
}

/**
 * A subscription order declined after it was placed (by the card issuer at authorisation, or by a
 * fraud analyst) is recorded on its enrollment. The stream position is kept in Redis, so a decline
 * announced while no worker ran is still seen on start (the stream keeps its last 10,000 events).
 */
function followDeclines(runtime: WorkerRuntime, orderDeclined: (orderId: string) => Promise<boolean>, logger: WorkerRuntime['services']['core']['logger']): RunningWorker {
  const { core } = runtime.services;
  const cursorKey = `${core.redisPrefix}:sub:events-cursor`;
  let chain: Promise<void> = Promise.resolve();
  const started = (async () => {
    const fromId = (await core.redis.get(cursorKey).catch(() => null)) ?? '$';
    return core.events.follow(
      (event: DomainEvent) => {
        chain = chain
          .then(async () => {
            if (event.type === 'order.status_changed' && (event.data as { to?: string }).to === 'declined') {
              await orderDeclined((event.data as { orderId: string }).orderId);
            }
            await core.redis.set(cursorKey, event.id);
          })
          .catch((error: Error) => logger.warn({ err: error.message, eventId: event.id }, 'could not record a declined subscription order'));
      },
      { fromId },
    );
  })();
  return {
    name: 'subscription-declines',
    async close() {
      const stop = await started;
      await stop();
      await chain;
    },
  };
}
