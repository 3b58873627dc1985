import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../../platform/clock.ts';
import { AppError, BusinessRuleError, ServiceUnavailableError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import { QueuePayloads, type QueuePayload, type Queues } from '../../platform/queues.ts';
import type { CheckoutService } from '../../api/checkout/service.ts';
import type { CheckoutProduct } from '../../api/checkout/ports.ts';
import type { OrderService } from '../../api/orders/service.ts';
import { allocationKey, type AllocationDoc, type EnrollmentDoc, type RunDoc } from '../../api/subscriptions/model.ts';
import type { RunView, SkipReason } from '../../api/subscriptions/schema.ts';
import { subscriptionEmailEventId, type CustomerContact, type SubscriptionService } from '../../api/subscriptions/service.ts';
import { expiryValid } from '../../api/vault/cards.ts';

/**
 * Order generation for one release of a subscription program: one order per enrollment that wants
 * it, through the normal checkout, exactly once.
 *
 * Exactly once rests on three things:
 * 1. A claim per (enrollment, release) is an INSERT with a deterministic _id, made before checkout is
 *    called; a second claim (another run, a resumed run, a customer's "skip" link) fails on the
 *    unique index. No update has to be atomic.
 * 2. One generator per program at a time: a Redis lease with a heartbeat. A claim still `claimed`
 *    when a run starts therefore belongs to a dead run; before placing it again the generator looks
 *    for an order carrying that enrollmentId and releaseSku (the crash may have come after the order).
 * 3. Settling (state ordered/failed/skipped with the order id) and the emails are idempotent, so a
 *    crash between placing and settling only delays them to the next run.
 */

export interface GeneratorDeps {
  subscriptions: SubscriptionService;
  checkout: Pick<CheckoutService, 'placeOrder'>;
  orders: Pick<OrderService, 'model'>;
  queues: Queues;
  redis: Redis;
  redisPrefix: string;
  clock: Clock;
  logger: Logger;
}

export interface GenerateOptions {
  /** Stop starting orders (shutdown, or a simulated kill); the run stays resumable. */
  signal?: AbortSignal;
  /**
   * Orders in flight at once. Checkout is I/O bound (Mongo, Redis), so this hides latency; much
   * higher only queues work in the database.
   * @defaultValue 50
   */
  concurrency?: number;
  /** Outcomes settled per step. @defaultValue 200 */
  settleBatchSize?: number;
  /**
   * Tries per enrollment when checkout fails for a reason that is not the enrollment's (a lost
   * reply, an order-number clash); after the last one the run stops and resumes later.
   * @defaultValue 3
   */
  placeAttempts?: number;
  /** Called after each settle with the run's progress. */
  onProgress?: (run: RunView) => void;
}

/** Another generator holds the program's lease; try again later (the worker delays the job). */
export class LeaseBusyError extends ServiceUnavailableError {
  constructor(program: string) {
    super('subscription.generator_busy', `Another generator is working on ${program}; try again shortly.`);
  }
}

/** The run stopped before finishing (shutdown, lost lease, a dependency down); it resumes where it left off. */
export class RunInterruptedError extends ServiceUnavailableError {
  constructor(reason: string, cause?: unknown) {
    super('subscription.run_interrupted', `Subscription run interrupted: ${reason}`, cause);
  }
}

const LEASE_MS = 30_000;
const RENEW_EVERY_MS = 5_000;
// Stop starting orders well before the lease could lapse, so no order starts after another process may own the program.
const LEASE_SAFETY_MS = 10_000;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/**
 * Reads and writes the settling step runs beside the orders in flight. Kept small: it adds to the
 * database's load while orders are being placed, and a burst of hundreds of parallel commands can
 * starve FerretDB's PostgreSQL connection pool.
 */
const SETTLE_READS = 8;

async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/**
 * Default tries per enrollment before a transient error stops the run. Checkout on FerretDB can fail an
 * insert on an order-number clash without retrying it (the duplicate-key message lacks the index
 * name it looks for), which at tens of thousands of orders happens several times per release.
 */
const PLACE_ATTEMPTS = 3;

/** Failures that belong to the enrollment (recorded, emailed, the batch goes on), not to the run. */
const ENROLLMENT_FAILURE_KINDS = new Set(['validation', 'rule', 'payment', 'not_found', 'forbidden']);

type Outcome =
  | { key: string; enrollment: EnrollmentDoc; state: 'ordered'; orderId: string | null; orderNumber: string }
  | { key: string; enrollment: EnrollmentDoc; state: 'failed'; code: string; message: string }
  | { key: string; enrollment: EnrollmentDoc; state: 'skipped'; reason: SkipReason };

interface Counters {
  done: number;
  failed: number;
  skipped: number;
  alreadySettled: number;
}

interface Lease {
  /** True while the lease is certainly ours for long enough to start one more order. */
  valid(): boolean;
  lost: AbortSignal;
  release(): Promise<void>;
}

export function createSubscriptionGenerator(deps: GeneratorDeps) {
  const { subscriptions, clock, logger, redis } = deps;
  const { Enrollments, Allocations, Runs } = subscriptions.models;
  const Orders = deps.orders.model;

  async function acquireLease(program: string, runId: string): Promise<Lease> {
    const key = `${deps.redisPrefix}:sub:lease:${program}`;
    const owner = `${runId}:${randomBytes(8).toString('hex')}`;
    if ((await redis.set(key, owner, 'PX', LEASE_MS, 'NX')) !== 'OK') throw new LeaseBusyError(program);
    let validUntil = Date.now() + LEASE_MS - LEASE_SAFETY_MS;
    const lost = new AbortController();
    const timer = setInterval(() => {
      const started = Date.now();
      redis
        .eval(RENEW, 1, key, owner, String(LEASE_MS))
        .then((renewed) => {
          if (Number(renewed) === 1) validUntil = started + LEASE_MS - LEASE_SAFETY_MS;
          else lost.abort(new RunInterruptedError('the program lease was taken over'));
        })
        .catch((error: Error) => logger.warn({ err: error.message, program }, 'lease renewal failed; will retry'));
    }, RENEW_EVERY_MS);
    timer.unref();
    return {
      valid: () => !lost.signal.aborted && Date.now() < validUntil,
      lost: lost.signal,
      async release() {
        clearInterval(timer);
        await redis.eval(RELEASE, 1, key, owner).catch(() => undefined);
      },
    };
  }

  function orderBody(enrollment: EnrollmentDoc, contact: CustomerContact, releaseSku: string) {
    return {
      lines: [{ sku: releaseSku, quantity: enrollment.quantity, shipTo: 0 }],
      purchaser: contact,
      billingAddress: enrollment.billingAddress,
      shipments: [{ address: enrollment.shipTo }],
      payment: { type: 'saved_card', cardToken: enrollment.cardToken },
      attestation: { termsAccepted: enrollment.attestation.termsAccepted, ageConfirmed: enrollment.attestation.ageConfirmed },
      marketingOptIn: false,
    };
  }

  async function emails(jobs: QueuePayload<'email'>[]) {
    if (jobs.length === 0) return;
    // One round trip for the batch; the eventId doubles as job id, so a resumed run adds nothing twice.
    const parsed = jobs.map((job) => QueuePayloads.email.parse(job));
    await deps.queues.queue('email').addBulk(parsed.map((data) => ({ name: 'email', data, opts: { jobId: data.eventId } })));
  }

  /**
   * Runs (or resumes) one generation run. Resolves with the final progress when every enrollment is
   * settled; rejects with LeaseBusyError when another generator has the program, RunInterruptedError
   * when it stopped early (resumable), or the run's own error (unknown release: marked failed).
   */
  async function generate(runId: string, options: GenerateOptions = {}): Promise<RunView> {
    await subscriptions.ready();
    const run = await Runs.findById(runId).lean<RunDoc>();
    if (!run) throw new BusinessRuleError('subscription.run_not_found', `No run ${runId}.`);
    if (run.status === 'completed') return subscriptions.runView(run);
    const { program, releaseSku } = run;
    const lease = await acquireLease(program, runId);
    const concurrency = Math.max(1, options.concurrency ?? 50);
    const settleBatchSize = Math.max(1, options.settleBatchSize ?? 200);
    const placeAttempts = Math.max(1, options.placeAttempts ?? PLACE_ATTEMPTS);
    const counters: Counters = { done: 0, failed: 0, skipped: 0, alreadySettled: 0 };
    let total = 0;
    const startedAt = run.startedAt ?? clock();

    const saveProgress = async (extra: Partial<RunDoc> = {}) => {
      const set = { status: 'running' as RunDoc['status'], ...counters, total: Math.max(total, counters.done + counters.failed + counters.skipped + counters.alreadySettled), updatedAt: clock(), ...extra };
      await Runs.updateOne({ _id: runId }, { $set: set });
      if (options.onProgress) options.onProgress(subscriptions.runView({ ...run, ...set, startedAt } as RunDoc));
    };

    try {
      let release: CheckoutProduct;
      try {
        release = await subscriptions.releaseOf(program, releaseSku);
        if (!release.active) throw new BusinessRuleError('subscription.release_inactive', `${releaseSku} is not active; activate it before generating orders.`);
      } catch (error) {
        await saveProgress({ status: 'failed', lastError: (error as Error).message, finishedAt: clock() });
        throw error;
      }
      const year = release.releaseAt.getUTCFullYear();

      // Every allocation of this release so far: one streamed read instead of a lookup per enrollment.
      const known = new Map<string, Pick<AllocationDoc, 'state' | 'runId' | 'skipReason' | 'orderId' | 'orderNumber'>>();
      for await (const a of Allocations.find({ releaseSku }, { state: 1, runId: 1, skipReason: 1, orderId: 1, orderNumber: 1 }).lean<AllocationDoc>().cursor({ batchSize: 1000 })) {
        known.set(String(a._id), a);
      }
      // The enrollments that want the release, by id: the full record is read again right before
      // ordering so a pause, cancellation or change made during the run is honoured.
      const ids: string[] = [];
      for await (const e of Enrollments.find({ program, status: 'active' }, { status: 1, createdAt: 1, limits: 1 }).lean<EnrollmentDoc>().cursor({ batchSize: 1000 })) {
        if (subscriptions.wantsRelease(e, release.releaseAt)) ids.push(String(e._id));
      }
      total = ids.length;
      await Runs.updateOne({ _id: runId }, { $set: { status: 'running', total, startedAt, finishedAt: null, lastError: null, done: 0, failed: 0, skipped: 0, alreadySettled: 0, updatedAt: clock() }, $inc: { attempts: 1 } });
      logger.info({ runId, program, releaseSku, total, known: known.size }, 'subscription run started');

      const contacts = new Map<string, Promise<CustomerContact | undefined>>();
      const contactOf = (customerId: string) => {
        let pending = contacts.get(customerId);
        if (!pending) {
          pending = subscriptions.contactOf(customerId);
          contacts.set(customerId, pending);
          // Bounded: a run over many customers must not keep every contact in memory.
          if (contacts.size > 10_000) contacts.delete(contacts.keys().next().value!);
        }
        return pending;
      };

      let pendingOutcomes: Outcome[] = [];
      let settling: Promise<void> = Promise.resolve();
      let stopReason: Error | undefined;
      const stop = (reason: Error) => {
        stopReason ??= reason;
      };
      const onAbort = () => stop(new RunInterruptedError('stopped', options.signal?.reason));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.signal?.aborted) onAbort();
      lease.lost.addEventListener('abort', () => stop(lease.lost.reason as Error), { once: true });

      const countSettled = (a: Pick<AllocationDoc, 'state' | 'runId' | 'skipReason'>) => {
        // A customer's skip is this release's business whoever ran first; others count for the run that settled them.
        if (a.state === 'skipped' && a.skipReason === 'customer_skip') counters.skipped += 1;
        else if (a.runId !== runId) counters.alreadySettled += 1;
        else if (a.state === 'ordered') counters.done += 1;
        else if (a.state === 'failed') counters.failed += 1;
        else counters.skipped += 1;
      };

      async function settle(batch: Outcome[]) {
        if (batch.length === 0) return;
        const now = clock();
        const missingIds = batch.filter((o): o is Extract<Outcome, { state: 'ordered' }> => o.state === 'ordered' && !o.orderId);
        // Checkout answers with the order number; the id comes from the unique number index. One
        // equality read each: FerretDB scans the whole collection for an $in.
        await eachLimited(missingIds, SETTLE_READS, async (o) => {
          const order = await Orders.findOne({ orderNumber: o.orderNumber }, { _id: 1 }).lean();
          o.orderId = order ? String(order._id) : null;
        });
        // Mail first, then settle: a crash in between re-sends under the same eventId (a no-op) instead of never.
        await emails(
          batch.flatMap((o): QueuePayload<'email'>[] => {
            const base = { customerId: o.enrollment.customerId, enrollmentId: o.enrollment._id };
            if (o.state === 'ordered') {
              return [{ ...base, eventId: subscriptionEmailEventId('subscription_created', o.enrollment._id, releaseSku), template: 'subscription_created', ...(o.orderId ? { orderId: o.orderId } : {}), data: { program, releaseSku, releaseName: release.name, orderNumber: o.orderNumber, quantity: o.enrollment.quantity } }];
            }
            if (o.state === 'failed') {
              return [{ ...base, eventId: subscriptionEmailEventId('subscription_failed', o.enrollment._id, releaseSku), template: 'subscription_failed', data: { program, releaseSku, releaseName: release.name, code: o.code, reason: o.message } }];
            }
            return [];
          }),
        );
        await eachLimited(
          batch.filter((o): o is Extract<Outcome, { state: 'failed' }> => o.state === 'failed'),
          SETTLE_READS,
          (o) => subscriptions.recordFailure(o.enrollment._id, { code: o.code, message: o.message, releaseSku }),
        );
        // One updateOne per outcome, a few at a time, rather than a bulkWrite: FerretDB runs the
        // statements one by one anyway, and a long multi-statement update under load has stalled
        // its PostgreSQL connection pool.
        await eachLimited(batch, SETTLE_READS, (o) =>
          Allocations.updateOne(
            { _id: o.key, state: 'claimed' },
            {
              $set: {
                state: o.state,
                runId,
                settledAt: now,
                orderId: o.state === 'ordered' ? o.orderId : null,
                orderNumber: o.state === 'ordered' ? o.orderNumber : null,
                failure: o.state === 'failed' ? { code: o.code, message: o.message } : null,
                skipReason: o.state === 'skipped' ? o.reason : null,
              },
            },
          ),
        );
        for (const o of batch) counters[o.state === 'ordered' ? 'done' : o.state === 'failed' ? 'failed' : 'skipped'] += 1;
        await saveProgress();
      }

      const record = (outcome: Outcome) => {
        pendingOutcomes.push(outcome);
        if (pendingOutcomes.length >= settleBatchSize) {
          const batch = pendingOutcomes;
          pendingOutcomes = [];
          // Settling runs behind the orders; chained so progress writes never interleave.
          settling = settling.then(() => settle(batch));
          settling.catch((error: Error) => stop(new RunInterruptedError(`settling failed: ${error.message}`, error)));
        }
      };

      /** An order for a claim some earlier run made and never settled, if that run got as far as placing it. */
      async function orderFor(enrollmentId: string) {
        return Orders.findOne({ enrollmentId, releaseSku }, { _id: 1, orderNumber: 1 }).lean();
      }

      async function processOne(enrollmentId: string): Promise<void> {
        const key = allocationKey(enrollmentId, releaseSku);
        const prior = known.get(key);
        if (prior && prior.state !== 'claimed') {
          if (!(prior.state === 'failed' && run!.retryFailed && prior.runId !== runId)) return countSettled(prior);
          // A retry of an earlier failure: that attempt placed no order, so its allocation may go.
          await Allocations.deleteOne({ _id: key, state: 'failed' });
        }

        const enrollment = await Enrollments.findById(enrollmentId).lean<EnrollmentDoc>();
        if (prior?.state === 'claimed') {
          // A dead run's claim: it may have got as far as the order. Found, it is settled as ordered
          // whatever the enrollment's state now; the order exists and is the customer's to cancel.
          const existing = await orderFor(enrollmentId);
          if (existing) {
            if (enrollment) return record({ key, enrollment, state: 'ordered', orderId: String(existing._id), orderNumber: existing.orderNumber });
            counters.skipped += 1;
            return;
          }
        }
        if (!enrollment || !subscriptions.wantsRelease(enrollment, release.releaseAt)) {
          // Paused, cancelled or changed since the run listed it: nothing to order; a stale claim without an order is withdrawn.
          if (prior?.state === 'claimed') await Allocations.deleteOne({ _id: key, state: 'claimed' });
          counters.skipped += 1;
          return;
        }

        if (prior?.state !== 'claimed') {
          try {
            await Allocations.create({
              _id: key,
              enrollmentId,
              releaseSku,
              program,
              customerId: enrollment.customerId,
              year,
              runId,
              state: 'claimed',
              skipReason: null,
              failure: null,
              orderId: null,
              orderNumber: null,
              claimedAt: clock(),
              settledAt: null,
              declinedAt: null,
            } satisfies AllocationDoc);
          } catch (error) {
            if ((error as { code?: number }).code !== 11000) throw error;
            // Someone else got there first: almost always the customer's skip link.
            const other = await Allocations.findById(key).lean<AllocationDoc>();
            if (other && other.state !== 'claimed') return countSettled(other);
            throw new RunInterruptedError(`allocation ${key} was claimed by another generator`);
          }
        }

        const contact = await contactOf(enrollment.customerId);
        if (!contact) return record({ key, enrollment, state: 'skipped', reason: 'account_closed' });
        if (enrollment.limits.maxReleasesPerYear !== null) {
          const thisYear = await Allocations.countDocuments({ enrollmentId, year, state: 'ordered' });
          if (thisYear >= enrollment.limits.maxReleasesPerYear) return record({ key, enrollment, state: 'skipped', reason: 'yearly_limit' });
        }
        if (!expiryValid(enrollment.card.expMonth, enrollment.card.expYear, clock())) {
          return record({ key, enrollment, state: 'failed', code: 'payment.expired_card', message: `The card ending ${enrollment.card.last4} has expired; choose another card for your enrollment.` });
        }
        for (let attempt = 1; ; attempt += 1) {
          // The last moment to notice a lost lease before money and stock are involved.
          if (!lease.valid()) throw new RunInterruptedError('the program lease could not be renewed');
          try {
            const order = await deps.checkout.placeOrder(orderBody(enrollment, contact, releaseSku), { channel: 'subscription', customerId: enrollment.customerId, enrollmentId, releaseSku });
            return record({ key, enrollment, state: 'ordered', orderId: null, orderNumber: order.orderNumber });
          } catch (error) {
            if (error instanceof AppError && ENROLLMENT_FAILURE_KINDS.has(error.kind)) {
              return record({ key, enrollment, state: 'failed', code: error.code, message: error.message });
            }
            if (attempt >= placeAttempts) throw error;
            // A rejected insert (duplicate key) certainly wrote no order; after any other error the
            // order may exist (the reply was lost), so look before trying again.
            if ((error as { code?: unknown }).code !== 11000) {
              const existing = await orderFor(enrollmentId);
              if (existing) return record({ key, enrollment, state: 'ordered', orderId: String(existing._id), orderNumber: existing.orderNumber });
            }
            logger.warn({ err: (error as Error).message, runId, enrollmentId, attempt }, 'placing a subscription order failed; retrying');
            await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
          }
        }
      }

      // A fixed pool pulling from the list: bounded concurrency without per-batch stalls.
      let next = 0;
      let started = 0;
      const workers = Array.from({ length: Math.min(concurrency, ids.length) }, async () => {
        while (!stopReason && next < ids.length) {
          const id = ids[next++]!;
          started += 1;
          try {
            await processOne(id);
          } catch (error) {
            // Mongo or Redis trouble, or a bug: stop starting orders, settle what finished, retry the run later.
            logger.warn({ err: (error as Error).message, runId, enrollmentId: id }, 'subscription run stopping');
            stop(error instanceof RunInterruptedError ? error : new RunInterruptedError((error as Error).message, error));
          }
        }
      });
      await Promise.all(workers);
      options.signal?.removeEventListener('abort', onAbort);
      settling = settling.then(() => settle(pendingOutcomes));
      // Unsettled outcomes are not lost: their claims stay `claimed` and the next run adopts their orders.
      await settling.catch((error: Error) => stop(new RunInterruptedError(`settling failed: ${error.message}`, error)));

      if (stopReason) {
        // Best effort: the database may be why the run stopped; the next attempt recounts from the allocations.
        await saveProgress({ status: 'interrupted', lastError: stopReason.message }).catch((error: Error) => logger.warn({ err: error.message, runId }, 'could not record the interruption'));
        logger.warn({ runId, started, ...counters, total }, 'subscription run interrupted');
        throw stopReason;
      }
      await saveProgress({ status: 'completed', finishedAt: clock() });
      logger.info({ runId, program, releaseSku, total, ...counters }, 'subscription run completed');
      return subscriptions.runView((await Runs.findById(runId).lean<RunDoc>())!);
    } finally {
      await lease.release();
    }
  }

  /**
   * An order of an enrollment was declined after placement (card issuer at authorisation, or fraud
   * review): the enrollment records it and the customer hears why. Idempotent per order.
   */
  async function orderDeclined(orderId: string): Promise<boolean> {
    const order = await Orders.findById(orderId, { channel: 1, status: 1, enrollmentId: 1, releaseSku: 1, orderNumber: 1, customerId: 1, 'payment.declineReason': 1, 'payment.last4': 1 }).lean();
    if (!order || order.channel !== 'subscription' || order.status !== 'declined' || !order.enrollmentId || !order.releaseSku) return false;
    const { enrollmentId, releaseSku } = order;
    const reason = order.payment?.declineReason ?? null;
    const code = reason ? `payment.${reason}` : 'order.declined';
    const message = reason ? `The card ending ${order.payment.last4} was declined for your ${releaseSku} order; update the card on your enrollment.` : `Your ${releaseSku} order could not be completed.`;
    await Allocations.updateOne({ _id: allocationKey(enrollmentId, releaseSku), declinedAt: null }, { $set: { declinedAt: clock() } });
    await subscriptions.recordFailure(enrollmentId, { code, message, releaseSku, orderId, orderNumber: order.orderNumber });
    await emails([
      {
        eventId: `${subscriptionEmailEventId('subscription_failed', enrollmentId, releaseSku)}.declined`,
        template: 'subscription_failed',
        customerId: order.customerId ?? undefined,
        enrollmentId,
        orderId,
        data: { releaseSku, orderNumber: order.orderNumber, code, reason: message },
      },
    ]);
    return true;
  }

  return { generate, orderDeclined };
}

export type SubscriptionGenerator = ReturnType<typeof createSubscriptionGenerator>;
