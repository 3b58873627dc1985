import type { Clock } from '../../platform/clock.ts';
import type { Logger } from '../../platform/logger.ts';
import { QueuePayloads, type Queues } from '../../platform/queues.ts';
import { allocationKey, type EnrollmentDoc, type NoticeDoc } from '../../api/subscriptions/model.ts';
import { subscriptionEmailEventId, type SubscriptionService } from '../../api/subscriptions/service.ts';

export interface NoticeDeps {
  subscriptions: SubscriptionService;
  queues: Queues;
  clock: Clock;
  logger: Logger;
}

export interface NoticeResult {
  program: string;
  releaseSku: string;
  sent: number;
  /** Already noticed, already ordered or skipped, or not wanting this release. */
  skipped: number;
}

const BATCH = 500;

/**
 * "Your next release is coming" emails, each with signed links to confirm, skip the release or
 * cancel the enrollment. One notice per (enrollment, release): the email's eventId is deterministic
 * and a marker is written after the email is queued, so a retried job mails nobody twice and a
 * crash between the two re-queues under the same eventId (which the email worker drops).
 */
export function createNoticeSender(deps: NoticeDeps) {
  const { subscriptions, clock, logger } = deps;
  const { Enrollments, Allocations, Notices } = subscriptions.models;

  async function send(program: string, releaseSku: string, options: { signal?: AbortSignal } = {}): Promise<NoticeResult> {
    await subscriptions.ready();
    const release = await subscriptions.releaseOf(program, releaseSku);
    const result: NoticeResult = { program, releaseSku, sent: 0, skipped: 0 };
    if (release.releaseAt.getTime() <= clock().getTime()) return result;

    // What is already settled or noticed for this release, read once (FerretDB scans for every $in).
    const done = new Set<string>();
    for await (const n of Notices.find({ releaseSku }, { _id: 1 }).lean<NoticeDoc>().cursor({ batchSize: 1000 })) done.add(String(n._id));
    for await (const a of Allocations.find({ releaseSku }, { _id: 1 }).lean().cursor({ batchSize: 1000 })) done.add(String(a._id));

    let batch: Pick<EnrollmentDoc, '_id' | 'customerId' | 'quantity' | 'status' | 'createdAt' | 'limits'>[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const now = clock();
      const jobs = batch.map((e) => {
        const data = QueuePayloads.email.parse({
          eventId: subscriptionEmailEventId('subscription_upcoming', e._id, releaseSku),
          template: 'subscription_upcoming',
          customerId: e.customerId,
          enrollmentId: e._id,
          data: {
            program,
            releaseSku,
            releaseName: release.name,
            releaseAt: release.releaseAt.toISOString(),
            quantity: e.quantity,
            unitPriceCents: release.priceCents,
            // The links expire when the release opens: by then the order exists or was skipped.
            links: subscriptions.linksFor(e._id, releaseSku, release.releaseAt),
          },
        });
        return { name: 'email', data, opts: { jobId: data.eventId } };
      });
      await deps.queues.queue('email').addBulk(jobs);
      const markers: NoticeDoc[] = batch.map((e) => ({ _id: allocationKey(e._id, releaseSku), enrollmentId: e._id, releaseSku, sentAt: now, response: null, respondedAt: null }));
      await Notices.insertMany(markers, { ordered: false }).catch((error: { code?: number; writeErrors?: unknown[] }) => {
        // A marker written by a concurrent job or a link response is the same fact.
        if (error.code !== 11000 && !error.writeErrors) throw error;
      });
      result.sent += batch.length;
      batch = [];
    };

    for await (const e of Enrollments.find({ program, status: 'active' }, { customerId: 1, quantity: 1, status: 1, createdAt: 1, limits: 1 }).lean<EnrollmentDoc>().cursor({ batchSize: 1000 })) {
      if (options.signal?.aborted) break;
      if (done.has(allocationKey(String(e._id), releaseSku)) || !subscriptions.wantsRelease(e, release.releaseAt)) {
        result.skipped += 1;
        continue;
      }
      batch.push(e);
      if (batch.length >= BATCH) await flush();
    }
    await flush();
    logger.info({ ...result }, 'subscription notices queued');
    return result;
  }

  return { send };
}

export type NoticeSender = ReturnType<typeof createNoticeSender>;
