import { startWorkers } from '../../workers/start.ts';
import { boot, onShutdown, type Booted, type ShutdownStep } from '../process.ts';

/**
 * `mintdesk workers`: the background process.
 *
 *   connects to  MongoDB, Redis (BullMQ), S3, SMTP (or the embedded ones) (apps/runtime.ts)
 *   mounts       nothing: no HTTP
 *   starts       every BullMQ worker (fraud, payments, subscriptions, email, maintenance) and the
 *                maintenance loop (workers/start.ts), after rebuilding Redis stock from Mongo
 */
export async function main(): Promise<void> {
  const booted = await boot('mintdesk-workers');
  const workers = await runWorkers(booted);
  onShutdown(booted, [workers]);
}

export async function runWorkers(booted: Booted): Promise<ShutdownStep> {
  const workers = await startWorkers(booted.runtime);
  // BullMQ's close waits for active jobs to finish, which is the graceful part of SIGTERM.
  return { name: 'workers', run: () => workers.close() };
}
