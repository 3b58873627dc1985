import type { Job } from 'bullmq';
import { z } from 'zod';
import { ConflictError, NotFoundError, ServiceUnavailableError } from '../../platform/errors.ts';
import { QUEUE_NAMES, type QueueName, type Queues } from '../../platform/queues.ts';
import { withTimeout } from '../../platform/timeout.ts';
import type { AuditService } from '../audit/service.ts';
import { staffPrincipal, type StaffGuard } from '../http/auth.ts';
import { clientIp } from '../http/rate-limit.ts';
import { StaffRouter } from '../http/staff-router.ts';
import { parseParams, parseQuery } from '../http/validate.ts';

export const QUEUES_STAFF_MOUNT = '/api/staff';

/**
 * The admins' view of the job queues: counts per state, the failed list with each job's reason
 * (a job in the failed set has used its last attempt, or could never succeed: it is dead-lettered
 * and waits here), and retry or removal of one job. Payloads are shown as their ids only; the
 * email queue's address and template data never reach the dashboard. Changes are audited.
 *
 * Removing the job of an order still waiting on that step (pending_fraud_check, payment_pending)
 * does not strand the order: the workers' stranded-order sweep enqueues it again after a while.
 * Cancel the order to stop it for good.
 */

// BullMQ 6 keeps a paused queue's jobs in its wait list: there is no separate 'paused' state to count.
const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;

const QueueParam = z.strictObject({ name: z.string().min(1).max(64) });
const JobParam = z.strictObject({ name: z.string().min(1).max(64), id: z.string().min(1).max(200) });
const FailedQuery = z.strictObject({
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(25),
});

/** BullMQ's connection waits for Redis forever; the dashboard answers 503 instead. */
const REDIS_TIMEOUT_MS = 3000;

export interface FailedJobView {
  id: string;
  name: string;
  failedReason: string;
  attemptsMade: number;
  maxAttempts: number;
  /** Ids in the payload, nothing else. */
  ids: Record<string, string>;
  createdAt: string;
  processedAt: string | null;
  failedAt: string | null;
}

export function createQueueRoutes({ queues, audit, guard }: { queues: Queues; audit: AuditService; guard: StaffGuard }): StaffRouter {
  const staff = new StaffRouter(guard, QUEUES_STAFF_MOUNT);

  staff.get('/queues', 'queues:manage', async (_req, res) => {
    const items = await bounded(
      Promise.all(
        QUEUE_NAMES.map(async (name) => {
          const counts = await queues.queue(name).getJobCounts(...JOB_STATES);
          return { name, counts, deadLettered: counts.failed ?? 0 };
        }),
      ),
    );
    res.setHeader('Cache-Control', 'no-store');
    res.json({ items });
  });

  staff.get('/queues/:name/failed', 'queues:manage', async (req, res) => {
    const name = queueName(parseParams(QueueParam, req).name);
    const { page, pageSize } = parseQuery(FailedQuery, req);
    const queue = queues.queue(name);
    const start = (page - 1) * pageSize;
    const [jobs, total] = await bounded(Promise.all([queue.getFailed(start, start + pageSize - 1), queue.getFailedCount()]));
    res.setHeader('Cache-Control', 'no-store');
    res.json({ items: (jobs as Job[]).filter(Boolean).map(failedView), page, pageSize, total });
  });

  staff.post('/queues/:name/jobs/:id/retry', 'queues:manage', async (req, res) => {
    const params = parseParams(JobParam, req);
    const name = queueName(params.name);
    const job = await findJob(queues, name, params.id);
    const state = await bounded(job.getState());
    if (state !== 'failed') throw new ConflictError('queues.job_not_failed', `Only failed jobs can be retried; this one is ${state}.`, { state });
    // A fresh attempt budget: the admin retries because the cause is fixed, so transient trouble
    // on the way should be retried again rather than dead-letter the job after one try.
    await bounded(job.retry('failed', { resetAttemptsMade: true }));
    await audit.record({ actor: staffPrincipal(req), action: 'queue.job_retry', resource: { type: 'queue_job', id: `${name}/${params.id}` }, outcome: 'success', ip: clientIp(req), details: { queue: name, jobId: params.id } });
    res.json({ id: params.id, queue: name, state: await bounded(job.getState()) });
  });

  staff.delete('/queues/:name/jobs/:id', 'queues:manage', async (req, res) => {
    const params = parseParams(JobParam, req);
    const name = queueName(params.name);
    const job = await findJob(queues, name, params.id);
    const state = await bounded(job.getState());
    if (state === 'active') throw new ConflictError('queues.job_active', 'This job is running; wait for it to finish or fail.');
    try {
      await bounded(job.remove());
    } catch (error) {
      if (error instanceof ServiceUnavailableError) throw error;
      // BullMQ refuses to remove a job a worker locked between our state check and the removal.
      throw new ConflictError('queues.job_active', 'This job is running; wait for it to finish or fail.');
    }
    await audit.record({ actor: staffPrincipal(req), action: 'queue.job_remove', resource: { type: 'queue_job', id: `${name}/${params.id}` }, outcome: 'success', ip: clientIp(req), details: { queue: name, jobId: params.id, state } });
    res.status(204).end();
  });

  return staff;
}

function queueName(name: string): QueueName {
  if (!(QUEUE_NAMES as string[]).includes(name)) throw new NotFoundError('queue', 'queues.not_found', 'No such queue.');
  return name as QueueName;
}

async function findJob(queues: Queues, name: QueueName, id: string): Promise<Job> {
  const job = await bounded(queues.queue(name).getJob(id));
  if (!job) throw new NotFoundError('job', 'queues.job_not_found', 'No such job.');
  return job;
}

function failedView(job: Job): FailedJobView {
  const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : null);
  return {
    id: String(job.id),
    name: job.name,
    failedReason: job.failedReason ?? '',
    attemptsMade: job.attemptsMade,
    maxAttempts: job.opts.attempts ?? 1,
    ids: payloadIds(job.data),
    createdAt: new Date(job.timestamp).toISOString(),
    processedAt: iso(job.processedOn),
    failedAt: iso(job.finishedOn),
  };
}

function payloadIds(data: unknown): Record<string, string> {
  const ids: Record<string, string> = {};
  if (data && typeof data === 'object') {
    for (const [key, value] of Object.entries(data)) if (/Id$/.test(key) && typeof value === 'string') ids[key] = value;
  }
  return ids;
}

function bounded<T>(work: Promise<T>): Promise<T> {
  return withTimeout(work, REDIS_TIMEOUT_MS, () => new ServiceUnavailableError('queues.unavailable', 'The job queues cannot be reached right now; try again shortly.'));
}
