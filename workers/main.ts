import type { Runtime } from '../platform/runtime.ts';

export interface RunningWorkers {
  close(): Promise<void>;
}

/** Every BullMQ worker of the platform, started against one runtime (`mintdesk workers` or `start`). */
export async function startWorkers(runtime: Runtime): Promise<RunningWorkers> {
  const closers: (() => Promise<void>)[] = [];
  runtime.services.core.logger.info({ workers: closers.length }, 'workers started');
  return {
    async close() {
      // BullMQ's close waits for active jobs to finish, which is the graceful part of SIGTERM.
      await Promise.allSettled(closers.map((close) => close()));
    },
  };
}
