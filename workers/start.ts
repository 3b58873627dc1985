import { startFraudWorker } from './fraud/worker.ts';
import { reconcileInventory, startMaintenanceLoop, startMaintenanceWorker, type MaintenanceOptions } from './maintenance/worker.ts';
import { startPaymentWorker } from './payments/worker.ts';
import { startEmailWorker } from './email/worker.ts';
import { startSubscriptionWorkers } from './subscriptions/worker.ts';
import type { RunningWorker, WorkerRuntime } from './runner.ts';

export interface RunningWorkers {
  close(): Promise<void>;
}

export interface WorkersOptions {
  /** Jobs each queue runs at once in this process. */
  concurrency?: {
    /** @defaultValue 50 */
    fraud?: number;
    /** @defaultValue 10 */
    payment?: number;
  };
  /** Timer-loop settings; `false` runs no loop (tests that drive maintenance themselves). */
  maintenance?: MaintenanceOptions | false;
  /**
   * Rebuild the Redis stock counters from Mongo before taking jobs.
   * @defaultValue true
   */
  reconcileOnStart?: boolean;
}

/** Every BullMQ worker of the platform, started against one runtime (`mintdesk workers` or `start`). */
export async function startWorkers(runtime: WorkerRuntime, options: WorkersOptions = {}): Promise<RunningWorkers> {
  const { services } = runtime;
  const logger = services.core.logger;
  if (options.reconcileOnStart !== false) {
    // Redis down at start-up must not keep the workers down: the maintenance loop rebuilds the
    // counters as soon as Redis answers (their marker is missing).
    await reconcileInventory(services).catch((error: Error) => logger.error({ err: error.message }, 'inventory reconcile at start-up failed; the maintenance loop will retry'));
  }

  // One line per queue worker. Each returns { name, close }.
  const workers: RunningWorker[] = [
    startFraudWorker(runtime, { concurrency: options.concurrency?.fraud ?? runtime.services.core.config.workers.fraudConcurrency }),
    startPaymentWorker(runtime, { concurrency: options.concurrency?.payment ?? runtime.services.core.config.workers.paymentConcurrency }),
    startMaintenanceWorker(runtime),
    ...startSubscriptionWorkers(runtime),
    startEmailWorker(runtime, { ratePerSecond: runtime.services.core.config.workers.emailRatePerSecond }),
  ];
  const maintenance = options.maintenance === false ? undefined : startMaintenanceLoop(services, options.maintenance);

  logger.info({ workers: workers.map((w) => w.name), maintenance: maintenance !== undefined }, 'workers started');
  return {
    async close() {
      await maintenance?.close();
      // BullMQ's close waits for active jobs to finish, which is the graceful part of SIGTERM.
      await Promise.allSettled(workers.map((worker) => worker.close()));
    },
  };
}
