import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { Clock } from '../../platform/clock.ts';
import { AppError, BusinessRuleError, ConflictError, NotFoundError, parseOrThrow, ValidationError } from '../../platform/errors.ts';
import { withLock } from '../../platform/locks.ts';
import type { Logger } from '../../platform/logger.ts';
import { QueuePayloads, type Queues } from '../../platform/queues.ts';
import type { PostalAddress } from '../addresses/schema.ts';
import type { AuditService } from '../audit/service.ts';
import type { CheckoutProduct } from '../checkout/ports.ts';
import type { CatalogService } from '../catalog/service.ts';
import { customerModel } from '../customers/model.ts';
import type { Principal } from '../http/principal.ts';
import { actorLabel } from '../http/principal.ts';
import { expiryValid } from '../vault/cards.ts';
import type { VaultService } from '../vault/service.ts';
import { signLink, verifyLink } from './links.ts';
import {
  allocationKey,
  allocationModel,
  enrollmentModel,
  noticeModel,
  programSettingsModel,
  runModel,
  type AllocationDoc,
  type EnrollmentDoc,
  type RunDoc,
} from './model.ts';
import {
  CancelEnrollmentRequest,
  ChangeEnrollmentRequest,
  DEFAULT_NOTICE_LEAD_DAYS,
  EnrollRequest,
  GenerateRequest,
  LINK_ACTIONS,
  ProgramSettingsInput,
  RunQuery,
  StaffEnrollmentQuery,
  type EnrollmentView,
  type LinkAction,
  type LinkPreview,
  type LinkResult,
  type ProgramSettings,
  type RunTrigger,
  type RunView,
} from './schema.ts';
import { programCodeSchema, skuSchema } from '../catalog/schema.ts';

export interface SubscriptionServiceDeps {
  mongo: Connection;
  redis: Redis;
  redisPrefix: string;
  clock: Clock;
  logger: Logger;
  appSecret: string;
  /** Where the links in notice emails point (the API's public origin). */
  publicBaseUrl: string;
  vault: Pick<VaultService, 'savedCard'>;
  catalog: Pick<CatalogService, 'getForCheckout' | 'listByProgram'>;
  householdKeyOf: (address: PostalAddress) => string;
  audit: Pick<AuditService, 'record'>;
  queues: Queues;
}

/** What the generator needs of the customer record to fill in the order's purchaser. */
export interface CustomerContact {
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
}

export interface Failure {
  code: string;
  message: string;
}

const notFound = () => new NotFoundError('subscription', 'subscription.not_found', 'No such enrollment.');
const DAY_MS = 24 * 3600 * 1000;

/** Deterministic per (enrollment, release, template), so a retried job or a resumed run never mails twice. */
export function subscriptionEmailEventId(template: string, enrollmentId: string, releaseSku: string): string {
  // BullMQ refuses custom job ids containing ':'; dots keep the parts readable.
  return `sub.${template}.${enrollmentId}.${releaseSku}`;
}

/**
 * Enrollments and everything around them except the order generation itself (workers/subscriptions):
 * customer self-service, signed links, the admin views and the run records. Every change to an
 * enrollment happens under a per-enrollment Redis lock, because FerretDB single-document updates are
 * not atomic under concurrency and the customer, a link and the generator may touch the same one.
 */
export function createSubscriptionService(deps: SubscriptionServiceDeps) {
  const { clock, redis, redisPrefix } = deps;
  const Enrollments = enrollmentModel(deps.mongo);
  const Allocations = allocationModel(deps.mongo);
  const Runs = runModel(deps.mongo);
  const Programs = programSettingsModel(deps.mongo);
  const Notices = noticeModel(deps.mongo);
  const Customers = customerModel(deps.mongo);

  let indexes: Promise<void> | undefined;
  // Uniqueness is the whole exactly-once story, so nothing is written before the indexes exist.
  const ready = () =>
    (indexes ??= Promise.all([Enrollments.init(), Allocations.init(), Runs.init(), Programs.init(), Notices.init()]).then(
      () => undefined,
      (error: unknown) => {
        indexes = undefined;
        throw error;
      },
    ));

  const lockKey = (enrollmentId: string) => `${redisPrefix}:lock:enrollment:${enrollmentId}`;
  const activeKeyOf = (customerId: string, program: string, householdKey: string) => `${customerId}:${program}:${householdKey}`;

  function view(doc: EnrollmentDoc): EnrollmentView {
    return {
      id: doc._id,
      program: doc.program,
      status: doc.status,
      quantity: doc.quantity,
      shipTo: doc.shipTo,
      billingAddress: doc.billingAddress,
      card: { cardToken: doc.cardToken, ...doc.card },
      limits: { maxReleasesPerYear: doc.limits?.maxReleasesPerYear ?? null, endsAt: doc.limits?.endsAt ? doc.limits.endsAt.toISOString() : null },
      createdAt: doc.createdAt.toISOString(),
      updatedAt: doc.updatedAt.toISOString(),
      pausedAt: doc.pausedAt ? doc.pausedAt.toISOString() : null,
      cancelledAt: doc.cancelledAt ? doc.cancelledAt.toISOString() : null,
      lastFailure: doc.lastFailure
        ? { code: doc.lastFailure.code, message: doc.lastFailure.message, releaseSku: doc.lastFailure.releaseSku, orderNumber: doc.lastFailure.orderNumber ?? null, at: new Date(doc.lastFailure.at).toISOString() }
        : null,
    };
  }

  function runView(doc: RunDoc): RunView {
    const settled = doc.done + doc.failed + doc.skipped + doc.alreadySettled;
    return {
      runId: doc._id,
      program: doc.program,
      releaseSku: doc.releaseSku,
      trigger: doc.trigger,
      requestedBy: doc.requestedBy,
      retryFailed: doc.retryFailed,
      status: doc.status,
      total: doc.total,
      done: doc.done,
      failed: doc.failed,
      skipped: doc.skipped,
      alreadySettled: doc.alreadySettled,
      remaining: doc.status === 'completed' ? 0 : Math.max(0, doc.total - settled),
      attempts: doc.attempts,
      lastError: doc.lastError,
      createdAt: doc.createdAt.toISOString(),
      startedAt: doc.startedAt ? doc.startedAt.toISOString() : null,
      finishedAt: doc.finishedAt ? doc.finishedAt.toISOString() : null,
      updatedAt: doc.updatedAt.toISOString(),
    };
  }

  /** The saved card, or a field error on `cardToken`: an expired card cannot pay for a future release. */
  async function cardFor(customerId: string, cardToken: string) {
    let card;
    try {
      card = await deps.vault.savedCard(customerId, cardToken);
    } catch (error) {
      if (error instanceof AppError && error.kind === 'not_found') {
        throw new ValidationError('Choose one of your saved cards.', [{ path: 'cardToken', code: 'card.not_found', message: 'No such saved card.' }], 'card.not_found');
      }
      throw error;
    }
    if (!expiryValid(card.expMonth, card.expYear, clock())) {
      throw new ValidationError('That card has expired.', [{ path: 'cardToken', code: 'card.expired', message: 'The card has expired; add a new one.' }], 'card.expired');
    }
    return { brand: card.brand, last4: card.last4, expMonth: card.expMonth, expYear: card.expYear };
  }

  async function loadOwned(customerId: string, enrollmentId: string): Promise<EnrollmentDoc> {
    const doc = await Enrollments.findById(enrollmentId).lean<EnrollmentDoc>();
    if (!doc || doc.customerId !== customerId) throw notFound();
    return doc;
  }

  /** Read, decide, write under the enrollment's lock; `decide` returns the fields to set or null for "no change". */
  async function mutate(enrollmentId: string, customerId: string | null, decide: (doc: EnrollmentDoc) => Promise<Partial<EnrollmentDoc> | null> | Partial<EnrollmentDoc> | null): Promise<EnrollmentDoc> {
    await ready();
    return withLock(redis, lockKey(enrollmentId), async () => {
      const doc = await Enrollments.findById(enrollmentId).lean<EnrollmentDoc>();
      if (!doc || (customerId !== null && doc.customerId !== customerId)) throw notFound();
      const set = await decide(doc);
      if (!set) return doc;
      const next = { ...set, updatedAt: clock(), version: doc.version + 1 };
      try {
        await Enrollments.updateOne({ _id: enrollmentId }, { $set: next });
      } catch (error) {
        if ((error as { code?: number }).code === 11000) throw alreadyEnrolled();
        throw error;
      }
      return { ...doc, ...next };
    });
  }

  const alreadyEnrolled = () => new ConflictError('subscription.already_enrolled', 'You are already enrolled in this program for that address.');
  const notActive = (doc: EnrollmentDoc) => new BusinessRuleError('subscription.cancelled', 'This enrollment was cancelled; enroll again to receive new releases.', { status: doc.status });

  async function programProducts(program: string) {
    const products = await deps.catalog.listByProgram(program);
    if (products.length === 0) throw new NotFoundError('program', 'subscription.program_not_found', 'No such subscription program.');
    return products;
  }

  /** The next release's household limit caps the units per release, so the customer hears it now, not at the release. */
  async function checkQuantity(program: string, quantity: number) {
    const now = clock();
    const next = (await programProducts(program)).find((p) => new Date(p.releaseAt).getTime() > now.getTime());
    if (next?.householdLimit != null && quantity > next.householdLimit) {
      throw new BusinessRuleError('subscription.quantity_above_limit', `${next.name} is limited to ${next.householdLimit} per household.`, { limit: next.householdLimit, sku: next.sku });
    }
  }

  /** A release of the program: the product must exist and belong to it. */
  async function releaseOf(program: string, releaseSku: string): Promise<CheckoutProduct> {
    const product = (await deps.catalog.getForCheckout([releaseSku])).get(releaseSku);
    if (!product) throw new NotFoundError('product', 'catalog.product_not_found', 'No such product.');
    if (product.program !== program) throw new BusinessRuleError('subscription.not_in_program', `${releaseSku} is not a release of ${program}.`, { program, releaseSku });
    return product;
  }

  async function settingsOf(program: string): Promise<ProgramSettings> {
    const doc = await Programs.findById(program).lean();
    return doc
      ? { noticeLeadDays: doc.noticeLeadDays, allocationLeadDays: doc.allocationLeadDays, schedule: doc.schedule }
      : { noticeLeadDays: DEFAULT_NOTICE_LEAD_DAYS, allocationLeadDays: 1, schedule: null };
  }

  function linkUrl(token: string) {
    return `${deps.publicBaseUrl}/api/subscriptions/links/${token}`;
  }

  async function createRun(input: { program: string; releaseSku: string; trigger: RunTrigger; requestedBy: string; retryFailed: boolean }): Promise<RunDoc> {
    await ready();
    const now = clock();
    const doc: RunDoc = {
      _id: `run_${randomUUID().replace(/-/g, '')}`,
      program: input.program,
      releaseSku: input.releaseSku,
      trigger: input.trigger,
      requestedBy: input.requestedBy,
      retryFailed: input.retryFailed,
      status: 'queued',
      total: 0,
      done: 0,
      failed: 0,
      skipped: 0,
      alreadySettled: 0,
      attempts: 0,
      lastError: null,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      updatedAt: now,
    };
    await Runs.create(doc);
    return doc;
  }

  async function enqueueRun(run: RunDoc) {
    // The run id is the job id: a double submit of the same run is one job.
    await deps.queues.enqueue('subscription-generate', { programId: run.program, releaseSku: run.releaseSku, runId: run._id }, { jobId: run._id });
  }

  async function cancelEnrollment(enrollmentId: string, customerId: string | null, reason: string) {
    let changed = false;
    const doc = await mutate(enrollmentId, customerId, (current) => {
      if (current.status === 'cancelled') return null;
      changed = true;
      return { status: 'cancelled', cancelledAt: clock(), cancelReason: reason, activeKey: `cancelled:${current._id}` };
    });
    return { doc, changed };
  }

  /** A new enrollment record as `enroll` stores it (also used to seed benchmarks in bulk). */
  function buildEnrollment(customerId: string, data: EnrollRequest, card: EnrollmentDoc['card']): EnrollmentDoc {
    const now = clock();
    const householdKey = deps.householdKeyOf(data.shipTo);
    return {
      _id: randomUUID(),
      customerId,
      program: data.program,
      status: 'active',
      quantity: data.quantity,
      shipTo: data.shipTo,
      billingAddress: data.billingAddress ?? data.shipTo,
      householdKey,
      cardToken: data.cardToken,
      card,
      limits: { maxReleasesPerYear: data.limits.maxReleasesPerYear, endsAt: data.limits.endsAt },
      attestation: { termsAccepted: true, ageConfirmed: true, at: now },
      activeKey: activeKeyOf(customerId, data.program, householdKey),
      createdAt: now,
      updatedAt: now,
      pausedAt: null,
      cancelledAt: null,
      cancelReason: null,
      lastFailure: null,
      version: 0,
    };
  }

  return {
    models: { Enrollments, Allocations, Runs, Programs, Notices },
    ready,
    view,
    runView,
    releaseOf,
    buildEnrollment,
    settingsOf,

    // --- customer self-service (customerId always from the session) ---

    async enroll(customerId: string, input: unknown): Promise<EnrollmentView> {
      const data = parseOrThrow(EnrollRequest, input);
      await ready();
      await checkQuantity(data.program, data.quantity);
      const card = await cardFor(customerId, data.cardToken);
      const doc = buildEnrollment(customerId, data, card);
      try {
        await Enrollments.create(doc);
      } catch (error) {
        if ((error as { code?: number }).code === 11000) throw alreadyEnrolled();
        throw error;
      }
      deps.logger.info({ enrollmentId: doc._id, program: doc.program }, 'enrollment created');
      return view(doc);
    },

    async list(customerId: string): Promise<EnrollmentView[]> {
      await ready();
      const docs = await Enrollments.find({ customerId }).sort({ createdAt: -1 }).limit(200).lean<EnrollmentDoc[]>();
      return docs.map(view);
    },

    async get(customerId: string, enrollmentId: string): Promise<EnrollmentView> {
      await ready();
      return view(await loadOwned(customerId, enrollmentId));
    },

    async change(customerId: string, enrollmentId: string, input: unknown): Promise<EnrollmentView> {
      const data = parseOrThrow(ChangeEnrollmentRequest, input);
      const doc = await mutate(enrollmentId, customerId, async (current) => {
        if (current.status === 'cancelled') throw notActive(current);
        const set: Partial<EnrollmentDoc> = {};
        if (data.quantity !== undefined) {
          await checkQuantity(current.program, data.quantity);
          set.quantity = data.quantity;
        }
        if (data.shipTo) {
          set.shipTo = data.shipTo;
          set.householdKey = deps.householdKeyOf(data.shipTo);
          set.activeKey = activeKeyOf(customerId, current.program, set.householdKey);
        }
        if (data.billingAddress) set.billingAddress = data.billingAddress;
        if (data.cardToken) {
          set.card = await cardFor(customerId, data.cardToken);
          set.cardToken = data.cardToken;
        }
        if (data.limits) {
          set.limits = {
            maxReleasesPerYear: data.limits.maxReleasesPerYear === undefined ? current.limits.maxReleasesPerYear : data.limits.maxReleasesPerYear,
            endsAt: data.limits.endsAt === undefined ? current.limits.endsAt : data.limits.endsAt,
          };
        }
        return set;
      });
      return view(doc);
    },

    async pause(customerId: string, enrollmentId: string): Promise<EnrollmentView> {
      return view(
        await mutate(enrollmentId, customerId, (current) => {
          if (current.status === 'cancelled') throw notActive(current);
          return current.status === 'paused' ? null : { status: 'paused', pausedAt: clock() };
        }),
      );
    },

    async resume(customerId: string, enrollmentId: string): Promise<EnrollmentView> {
      return view(
        await mutate(enrollmentId, customerId, (current) => {
          if (current.status === 'cancelled') throw notActive(current);
          return current.status === 'active' ? null : { status: 'active', pausedAt: null };
        }),
      );
    },

    async cancel(customerId: string, enrollmentId: string, input: unknown = {}): Promise<EnrollmentView> {
      const { reason } = parseOrThrow(CancelEnrollmentRequest, input ?? {});
      return view((await cancelEnrollment(enrollmentId, customerId, reason ?? 'customer request')).doc);
    },

    // --- signed links in notice emails ---

    linksFor(enrollmentId: string, releaseSku: string, expiresAt: Date): Record<LinkAction, string> {
      const links = {} as Record<LinkAction, string>;
      for (const action of LINK_ACTIONS) links[action] = linkUrl(signLink({ enrollmentId, releaseSku, action, expiresAt }, deps.appSecret));
      return links;
    },

    /** What the link will do; no side effects (mail scanners and previews open links). */
    async previewLink(token: string): Promise<LinkPreview> {
      const claims = verifyLink(token, deps.appSecret, clock());
      await ready();
      const enrollment = await Enrollments.findById(claims.enrollmentId).lean<EnrollmentDoc>();
      if (!enrollment) throw notFound();
      const release = await releaseOf(enrollment.program, claims.releaseSku);
      const allocation = await Allocations.findById(allocationKey(enrollment._id, claims.releaseSku)).lean<AllocationDoc>();
      const units = `${enrollment.quantity} × ${release.name}`;
      const description = {
        confirm: `Confirm that you want ${units} ordered for you when it is released.`,
        skip: `Skip ${release.name}: no order is placed for this release; your enrollment continues.`,
        cancel: `Cancel your ${enrollment.program} enrollment: no further releases are ordered.`,
      }[claims.action];
      return {
        action: claims.action,
        description,
        program: enrollment.program,
        release: { sku: release.sku, name: release.name, releaseAt: release.releaseAt.toISOString() },
        quantity: enrollment.quantity,
        enrollmentStatus: enrollment.status,
        allocation: allocation?.state ?? null,
        expiresAt: claims.expiresAt.toISOString(),
      };
    },

    async applyLink(token: string): Promise<LinkResult> {
      const claims = verifyLink(token, deps.appSecret, clock());
      await ready();
      const enrollment = await Enrollments.findById(claims.enrollmentId).lean<EnrollmentDoc>();
      if (!enrollment) throw notFound();
      const release = await releaseOf(enrollment.program, claims.releaseSku);
      const key = allocationKey(enrollment._id, claims.releaseSku);
      const now = clock();
      const respond = (response: LinkAction) =>
        Notices.updateOne({ _id: key }, { $set: { response, respondedAt: now }, $setOnInsert: { enrollmentId: enrollment._id, releaseSku: claims.releaseSku, sentAt: now } }, { upsert: true });

      if (claims.action === 'cancel') {
        const { changed } = await cancelEnrollment(enrollment._id, null, 'cancelled from notice email link');
        await respond('cancel');
        return changed
          ? { action: 'cancel', outcome: 'cancelled', message: `Your ${enrollment.program} enrollment is cancelled.` }
          : { action: 'cancel', outcome: 'already_done', message: 'This enrollment was already cancelled.' };
      }
      if (enrollment.status === 'cancelled') throw notActive(enrollment);

      if (claims.action === 'confirm') {
        // Confirming after a skip is a change of mind: the skip is withdrawn if no order was placed instead.
        await Allocations.deleteOne({ _id: key, state: 'skipped', skipReason: 'customer_skip' });
        await respond('confirm');
        const allocation = await Allocations.findById(key).lean<AllocationDoc>();
        if (allocation?.state === 'ordered') return { action: 'confirm', outcome: 'already_done', message: `Your order for ${release.name} has already been placed.` };
        if (enrollment.status === 'paused') return { action: 'confirm', outcome: 'confirmed', message: `Noted. Your enrollment is paused: resume it before ${release.name} is released to receive it.` };
        return { action: 'confirm', outcome: 'confirmed', message: `Thank you: ${enrollment.quantity} × ${release.name} will be ordered for you at release.` };
      }

      // Skip: the skip is itself the allocation, so it and the generator's claim cannot both exist.
      const skip: AllocationDoc = {
        _id: key,
        enrollmentId: enrollment._id,
        releaseSku: claims.releaseSku,
        program: enrollment.program,
        customerId: enrollment.customerId,
        year: release.releaseAt.getUTCFullYear(),
        runId: null,
        state: 'skipped',
        skipReason: 'customer_skip',
        failure: null,
        orderId: null,
        orderNumber: null,
        claimedAt: now,
        settledAt: now,
        declinedAt: null,
      };
      try {
        await Allocations.create(skip);
      } catch (error) {
        if ((error as { code?: number }).code !== 11000) throw error;
        const existing = await Allocations.findById(key).lean<AllocationDoc>();
        if (existing?.state === 'skipped') return { action: 'skip', outcome: 'already_done', message: `${release.name} is already skipped.` };
        if (existing?.state === 'failed') return { action: 'skip', outcome: 'already_done', message: `No order was placed for ${release.name}.` };
        throw new BusinessRuleError('subscription.already_ordered', `Your order for ${release.name} has already been placed; cancel it from your order history if you no longer want it.`);
      }
      await respond('skip');
      return { action: 'skip', outcome: 'skipped', message: `${release.name} is skipped; your enrollment continues with the next release.` };
    },

    // --- for the generator ---

    /**
     * Purchaser details for an order, or undefined for a closed or anonymised account. A projection
     * of the customer record by id (one indexed read) rather than getProfile, which also loads the
     * consent records the order does not need.
     */
    async contactOf(customerId: string): Promise<CustomerContact | undefined> {
      const doc = await Customers.findById(customerId, { firstName: 1, lastName: 1, email: 1, phone: 1, status: 1 }).lean();
      if (!doc || doc.status !== 'active' || !doc.firstName || !doc.lastName || !doc.email || !doc.phone) return undefined;
      return { firstName: doc.firstName, lastName: doc.lastName, email: doc.email, phone: doc.phone };
    },

    /** The last failure, shown to the customer and emailed; under the lock, as customers change the same record. */
    async recordFailure(enrollmentId: string, failure: { code: string; message: string; releaseSku: string; orderId?: string | null; orderNumber?: string | null }) {
      await mutate(enrollmentId, null, () => ({
        lastFailure: { code: failure.code, message: failure.message, releaseSku: failure.releaseSku, orderId: failure.orderId ?? null, orderNumber: failure.orderNumber ?? null, at: clock() },
      }));
    },

    /**
     * Whether an enrollment wants this release: active, enrolled before the release opens, not ended
     * before it. Checked in code rather than in the query: FerretDB evaluates range and $or filters
     * document by document anyway, and the generator re-checks each enrollment right before ordering.
     */
    wantsRelease(doc: Pick<EnrollmentDoc, 'status' | 'createdAt' | 'limits'>, releaseAt: Date): boolean {
      if (doc.status !== 'active') return false;
      if (new Date(doc.createdAt).getTime() >= releaseAt.getTime()) return false;
      const endsAt = doc.limits?.endsAt;
      return !endsAt || new Date(endsAt).getTime() >= releaseAt.getTime();
    },

    createRun,

    // --- staff (subscriptions:manage) ---

    /** Enrollments of a program, addresses included: audited before anything is returned. */
    async staffListByProgram(actor: Principal, program: string, query: unknown, ip?: string) {
      const code = parseOrThrow(programCodeSchema, program);
      const q = parseOrThrow(StaffEnrollmentQuery, query ?? {});
      await ready();
      const filter: Record<string, unknown> = { program: code, ...(q.status ? { status: q.status } : {}) };
      const [docs, total] = await Promise.all([
        Enrollments.find(filter).sort({ createdAt: -1, _id: 1 }).skip((q.page - 1) * q.pageSize).limit(q.pageSize).lean<EnrollmentDoc[]>(),
        Enrollments.countDocuments(filter),
      ]);
      await deps.audit.record({
        actor,
        action: 'subscription_enrollment.list',
        resource: { type: 'subscription_enrollment' },
        outcome: 'success',
        ...(ip ? { ip } : {}),
        details: { program: code, status: q.status ?? null, page: q.page, count: docs.length, enrollmentIds: docs.map((d) => d._id) },
      });
      return { items: docs.map((doc) => ({ ...view(doc), customerId: doc.customerId })), page: q.page, pageSize: q.pageSize, total };
    },

    async staffGet(actor: Principal, enrollmentId: string, ip?: string) {
      await ready();
      const doc = await Enrollments.findById(enrollmentId).lean<EnrollmentDoc>();
      await deps.audit.record({ actor, action: 'subscription_enrollment.read', resource: { type: 'subscription_enrollment', id: enrollmentId }, outcome: doc ? 'success' : 'failure', ...(ip ? { ip } : {}) });
      if (!doc) throw notFound();
      const allocations = await Allocations.find({ enrollmentId }).sort({ claimedAt: -1 }).limit(50).lean<AllocationDoc[]>();
      return {
        ...view(doc),
        customerId: doc.customerId,
        allocations: allocations.map((a) => ({ releaseSku: a.releaseSku, state: a.state, skipReason: a.skipReason, failure: a.failure, orderNumber: a.orderNumber, claimedAt: a.claimedAt.toISOString(), settledAt: a.settledAt ? a.settledAt.toISOString() : null, declinedAt: a.declinedAt ? a.declinedAt.toISOString() : null })),
      };
    },

    /** Starts a generation run for one release (the admin trigger; also ahead of the public sale). */
    async requestRun(actor: Principal, program: string, releaseSku: string, input: unknown = {}): Promise<RunView> {
      const code = parseOrThrow(programCodeSchema, program);
      const sku = parseOrThrow(skuSchema, releaseSku);
      const { retryFailed } = parseOrThrow(GenerateRequest, input ?? {});
      await ready();
      await releaseOf(code, sku);
      const active = await Runs.findOne({ program: code, releaseSku: sku, status: { $in: ['queued', 'running'] } }).lean<RunDoc>();
      if (active) throw new ConflictError('subscription.run_in_progress', 'A run for this release is already queued or running.', { runId: active._id });
      const run = await createRun({ program: code, releaseSku: sku, trigger: 'admin', requestedBy: actorLabel(actor), retryFailed });
      await enqueueRun(run);
      await deps.audit.record({ actor, action: 'subscription_run.request', resource: { type: 'subscription_run', id: run._id }, outcome: 'success', details: { program: code, releaseSku: sku, retryFailed } });
      return runView(run);
    },

    async requestNotices(actor: Principal, program: string, releaseSku: string) {
      const code = parseOrThrow(programCodeSchema, program);
      const sku = parseOrThrow(skuSchema, releaseSku);
      await releaseOf(code, sku);
      await deps.queues.enqueue('subscription-notice', { programId: code, releaseSku: sku }, { jobId: `notice.${code}.${sku}.${clock().getTime()}` });
      await deps.audit.record({ actor, action: 'subscription_notice.request', resource: { type: 'product', id: sku }, outcome: 'success', details: { program: code } });
      return { program: code, releaseSku: sku, queued: true };
    },

    async getRun(runId: string): Promise<RunView> {
      await ready();
      const doc = await Runs.findById(runId).lean<RunDoc>();
      if (!doc) throw new NotFoundError('subscription_run', 'subscription.run_not_found', 'No such run.');
      return runView(doc);
    },

    async listRuns(query: unknown) {
      const q = parseOrThrow(RunQuery, query ?? {});
      await ready();
      const filter: Record<string, unknown> = { ...(q.program ? { program: q.program } : {}), ...(q.releaseSku ? { releaseSku: q.releaseSku } : {}) };
      const [docs, total] = await Promise.all([Runs.find(filter).sort({ createdAt: -1 }).skip((q.page - 1) * q.pageSize).limit(q.pageSize).lean<RunDoc[]>(), Runs.countDocuments(filter)]);
      return { items: docs.map(runView), page: q.page, pageSize: q.pageSize, total };
    },

    async getProgramSettings(program: string) {
      const code = parseOrThrow(programCodeSchema, program);
      await ready();
      return { program: code, ...(await settingsOf(code)) };
    },

    /**
     * Lead times and the program's repeatable job. The schedule lives in BullMQ as a job scheduler
     * keyed by the program, so saving the settings twice replaces it rather than adding a second one.
     */
    async setProgramSettings(actor: Principal, program: string, input: unknown) {
      const code = parseOrThrow(programCodeSchema, program);
      const settings = parseOrThrow(ProgramSettingsInput, input ?? {});
      await ready();
      await programProducts(code);
      await Programs.updateOne({ _id: code }, { $set: { ...settings, updatedAt: clock(), updatedBy: actorLabel(actor) } }, { upsert: true });
      const queue = deps.queues.queue('subscription-generate');
      const schedulerId = `program.${code}`;
      if (settings.schedule) {
        const repeat = 'cron' in settings.schedule ? { pattern: settings.schedule.cron } : { every: settings.schedule.everyMinutes * 60_000 };
        const data = QueuePayloads['subscription-generate'].parse({ programId: code });
        await queue.upsertJobScheduler(schedulerId, repeat, { name: 'subscription-generate', data });
      } else {
        await queue.removeJobScheduler(schedulerId);
      }
      await deps.audit.record({ actor, action: 'subscription_program.configure', resource: { type: 'subscription_program', id: code }, outcome: 'success', details: { noticeLeadDays: settings.noticeLeadDays, allocationLeadDays: settings.allocationLeadDays, scheduled: settings.schedule !== null } });
      return { program: code, ...settings };
    },

    /** Releases of a program whose notice or generation window is open now (the scheduled tick). */
    async dueReleases(program: string) {
      const settings = await settingsOf(program);
      const now = clock().getTime();
      const products = await deps.catalog.listByProgram(program);
      const upcoming = products.filter((p) => new Date(p.releaseAt).getTime() > now);
      return {
        notice: upcoming.filter((p) => new Date(p.releaseAt).getTime() - settings.noticeLeadDays * DAY_MS <= now).map((p) => p.sku),
        generate: upcoming.filter((p) => new Date(p.releaseAt).getTime() - settings.allocationLeadDays * DAY_MS <= now).map((p) => p.sku),
      };
    },

    /**
     * The scheduled tick's decision for a release in its generation window: start a run unless one
     * is queued or running, or a completed run already saw every active enrollment as it is now.
     */
    async startScheduledRun(program: string, releaseSku: string): Promise<RunDoc | null> {
      await ready();
      const active = await Runs.findOne({ program, releaseSku, status: { $in: ['queued', 'running', 'interrupted'] } }).lean<RunDoc>();
      if (active) return null;
      const last = await Runs.findOne({ program, releaseSku, status: 'completed' }).sort({ createdAt: -1 }).lean<RunDoc>();
      // New, resumed or changed enrollments since that run started are the only ones it could have missed.
      if (last?.startedAt && !(await Enrollments.exists({ program, status: 'active', updatedAt: { $gte: last.startedAt } }))) return null;
      const run = await createRun({ program, releaseSku, trigger: 'schedule', requestedBy: 'system:subscription-schedule', retryFailed: false });
      await enqueueRun(run);
      return run;
    },
  };
}

export type SubscriptionService = ReturnType<typeof createSubscriptionService>;
