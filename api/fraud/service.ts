import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { Clock } from '../../platform/clock.ts';
import { AppError, BusinessRuleError, ConflictError, isAppError, NotFoundError, parseOrThrow } from '../../platform/errors.ts';
import { withLock } from '../../platform/locks.ts';
import type { Logger } from '../../platform/logger.ts';
import type { FraudAssessment } from './engine.ts';
import type { FraudSignals } from './facts.ts';
import { highRiskEntryKeys, type HighRiskEntryKey } from './high-risk.ts';
import { DEFAULT_FRAUD_RULE_SET, FraudRuleSetSchema, type FraudRuleSet } from './rules-schema.ts';
import type { AuditRecordInput } from '../audit/service.ts';
import { actorLabel, type Principal } from '../http/principal.ts';
import type { OrderLifecycle } from '../orders/lifecycle.ts';
import type { OrderDoc } from '../orders/model.ts';
import type { OrderService } from '../orders/service.ts';
import { fraudAssessmentModel, fraudRuleSetModel, highRiskEntryModel, type FraudRuleSetDoc } from './model.ts';
import {
  ReviewDecisionRequest,
  ReviewListQuery,
  RuleSetUpdateRequest,
  type ReviewDetail,
  type ReviewPage,
  type ReviewSummary,
  type RuleSetsView,
  type RuleSetVersionView,
} from './schema.ts';

/**
 * Fraud screening's durable side: the versioned rule set the worker scores with, the high-risk
 * list (keyed hashes of confirmed-fraud emails and addresses), the stored assessments, and the
 * analysts' review queue. The scoring itself is workers/fraud (engine.ts is pure).
 *
 * Every staff read of a held order and every decision is audited here, not in the route, so the
 * console (sockets) gets the same trail as the HTTP API.
 */

type StaffPrincipal = Extract<Principal, { type: 'staff' }>;

export interface FraudServiceDeps {
  mongo: Connection;
  redis: Redis;
  redisPrefix: string;
  clock: Clock;
  logger: Logger;
  audit: { record(entry: AuditRecordInput): Promise<unknown> };
  orders: OrderService;
  orderLifecycle: OrderLifecycle;
  /** Key of the high-risk list hashes (at least 32 bytes); changing it empties the list in effect. */
  secret: string;
}

const DUPLICATE_KEY = 11000;
const isDuplicateKey = (error: unknown) => (error as { code?: number })?.code === DUPLICATE_KEY;
const HISTORY_LIMIT = 100;

/**
 * How long the Redis pointer to the active version is trusted. A save moves it at once; the expiry
 * bounds how long a missed move (Redis failing just then) can leave workers on the old version.
 */
const ACTIVE_POINTER_TTL_SECONDS = 60;

export function createFraudService(deps: FraudServiceDeps) {
  const { clock, logger, audit, orders, orderLifecycle } = deps;
  const RuleSets = fraudRuleSetModel(deps.mongo);
  const HighRisk = highRiskEntryModel(deps.mongo);
  const Assessments = fraudAssessmentModel(deps.mongo);
  const activeVersionKey = `${deps.redisPrefix}:fraud:active-rule-set`;
  // Versions are immutable, so a parsed version never goes stale.
  const parsedVersions = new Map<number, FraudRuleSet>();

  function parseStored(doc: FraudRuleSetDoc): FraudRuleSet {
    const cached = parsedVersions.get(doc._id);
    if (cached) return cached;
    const result = FraudRuleSetSchema.safeParse({ version: doc._id, reviewThreshold: doc.reviewThreshold, rules: doc.rules });
    if (!result.success) {
      // A stored set the current schema rejects (the schema tightened since): scoring with half a
      // rule set would be worse than failing loudly and retrying once an admin saves a valid one.
      throw new AppError('internal', 'fraud.rules_invalid', `Stored fraud rule set v${doc._id} no longer validates.`, { cause: result.error });
    }
    parsedVersions.set(doc._id, result.data);
    return result.data;
  }

  async function latest(): Promise<FraudRuleSetDoc | null> {
    return RuleSets.findOne({}).sort({ _id: -1 }).lean<FraudRuleSetDoc>();
  }

  async function activeDoc(): Promise<FraudRuleSetDoc> {
    const found = await latest();
    if (found) return found;
    try {
      await RuleSets.create({ _id: DEFAULT_FRAUD_RULE_SET.version, reviewThreshold: DEFAULT_FRAUD_RULE_SET.reviewThreshold, rules: DEFAULT_FRAUD_RULE_SET.rules, createdAt: clock(), createdBy: 'system:default' });
      logger.info({ version: DEFAULT_FRAUD_RULE_SET.version }, 'fraud: seeded the default rule set');
    } catch (error) {
      if (!isDuplicateKey(error)) throw error; // another worker seeded it first
    }
    return (await latest())!;
  }

  const versionView = (doc: FraudRuleSetDoc): RuleSetVersionView => ({
    version: doc._id,
    reviewThreshold: doc.reviewThreshold,
    ruleCount: doc.rules.length,
    createdAt: doc.createdAt.toISOString(),
    createdBy: doc.createdBy,
  });

  function summaryOf(order: OrderDoc): ReviewSummary {
    return {
      orderNumber: order.orderNumber,
      orderId: order._id,
      status: order.status,
      channel: order.channel,
      placedAt: order.placedAt.toISOString(),
      totalCents: order.totals.totalCents,
      purchaserName: `${order.purchaser.firstName} ${order.purchaser.lastName}`,
      shipmentCount: order.shipments.length,
      score: order.fraud?.score ?? null,
      ruleSetVersion: order.fraud?.ruleSetVersion ?? null,
      scoredAt: order.fraud?.scoredAt ? order.fraud.scoredAt.toISOString() : null,
      fired: (order.fraud?.fired ?? []).map((f) => ({ ruleId: f.ruleId, kind: f.kind, weight: f.weight, explanation: f.explanation })),
    };
  }

  function detailOf(order: OrderDoc): ReviewDetail {
    const address = (a: OrderDoc['billingAddress']) => ({ line1: a.line1, ...(a.line2 ? { line2: a.line2 } : {}), city: a.city, state: a.state, postalCode: a.postalCode, country: a.country });
    return {
      ...summaryOf(order),
      purchaser: { firstName: order.purchaser.firstName, lastName: order.purchaser.lastName, email: order.purchaser.email, phone: order.purchaser.phone },
      billingAddress: address(order.billingAddress),
      shipments: order.shipments.map((s) => ({
        address: address(s.address),
        recipientName: `${s.recipient?.firstName ?? order.purchaser.firstName} ${s.recipient?.lastName ?? order.purchaser.lastName}`.trim(),
        gift: s.gift,
      })),
      lines: order.lines.map((l) => ({ sku: l.sku, name: l.name, quantity: l.quantity, unitPriceCents: l.unitPriceCents, shipTo: l.shipTo })),
      totals: order.totals,
      payment: { brand: order.payment.brand, last4: order.payment.last4, avs: order.payment.avs ?? null, cvvCheck: order.payment.codeMatch ?? null },
      review: {
        decision: order.fraud?.reviewDecision ?? null,
        reviewedBy: order.fraud?.reviewedBy ?? null,
        note: order.fraud?.reviewNote ?? null,
        reviewedAt: order.fraud?.reviewedAt ? order.fraud.reviewedAt.toISOString() : null,
      },
      statusHistory: order.statusHistory.map((h) => ({ from: h.from ?? null, to: h.to, at: h.at.toISOString(), actor: h.actor, reason: h.reason })),
    };
  }

  async function findOrder(orderNumber: string): Promise<OrderDoc> {
    const order = await orders.findByNumber(orderNumber);
    if (!order) throw new NotFoundError('order');
    return order;
  }

  async function auditFailure(actor: StaffPrincipal, action: string, orderId: string | undefined, error: unknown): Promise<never> {
    if (isAppError(error) && error.kind !== 'validation') {
      await audit.record({ actor, action, resource: orderId ? { type: 'order', id: orderId } : { type: 'order' }, outcome: 'failure', details: { code: error.code } });
    }
    throw error;
  }

  async function addHighRisk(entries: HighRiskEntryKey[], addedBy: string): Promise<number> {
    let added = 0;
    for (const entry of entries) {
      const result = await HighRisk.updateOne(
        { _id: `${entry.kind}:${entry.hash}` },
        { $setOnInsert: { kind: entry.kind, hash: entry.hash, addedAt: clock(), addedBy, reason: 'review_declined' } },
        { upsert: true },
      );
      added += result.upsertedCount ?? 0;
    }
    return added;
  }

  return {
    /** The rule set new orders are scored with; seeds the default as version 1 on first use. */
    async activeRuleSet(): Promise<FraudRuleSet> {
      // Every check needs the active set; the version pointer in Redis saves a Mongo query per check.
      const pointed = await deps.redis.get(activeVersionKey).catch(() => null);
      const cached = pointed === null ? undefined : parsedVersions.get(Number(pointed));
      if (cached) return cached;
      const doc = await activeDoc();
      await deps.redis.set(activeVersionKey, String(doc._id), 'EX', ACTIVE_POINTER_TTL_SECONDS, 'NX').catch(() => undefined);
      return parseStored(doc);
    },

    /** Whether an order's hashed email / any hashed shipping address is on the high-risk list. */
    async highRiskMatches(hashes: { emailHash?: string | undefined; shippingAddressHashes: readonly string[] }): Promise<{ email: boolean; shippingAddress: boolean }> {
      const ids = [...(hashes.emailHash ? [`email:${hashes.emailHash}`] : []), ...hashes.shippingAddressHashes.map((h) => `shipping_address:${h}`)];
      if (ids.length === 0) return { email: false, shippingAddress: false };
      const found = await HighRisk.find({ _id: { $in: ids } }, { kind: 1 }).lean();
      return { email: found.some((e) => e.kind === 'email'), shippingAddress: found.some((e) => e.kind === 'shipping_address') };
    },

    /** Keeps what the engine saw next to what it decided, so the decision can be replayed and rules tuned. */
    async recordAssessment(assessment: FraudAssessment, signals: FraudSignals, scoredAt: Date): Promise<void> {
      await Assessments.replaceOne(
        { _id: assessment.orderId },
        {
          _id: assessment.orderId,
          ruleSetVersion: assessment.ruleSetVersion,
          reviewThreshold: assessment.reviewThreshold,
          score: assessment.score,
          rawScore: assessment.rawScore,
          decision: assessment.decision,
          fired: assessment.fired,
          unevaluated: assessment.unevaluated,
          signals: signals as Record<string, unknown>,
          scoredAt,
        },
        { upsert: true },
      );
    },

    async assessmentOf(orderId: string) {
      return Assessments.findById(orderId).lean();
    },

    // --- rule-set admin ---

    async ruleSets(): Promise<RuleSetsView> {
      const active = await activeDoc();
      const history = await RuleSets.find({}, { rules: 1, reviewThreshold: 1, createdAt: 1, createdBy: 1 }).sort({ _id: -1 }).limit(HISTORY_LIMIT).lean<FraudRuleSetDoc[]>();
      return { active: { ...parseStored(active), createdAt: active.createdAt.toISOString(), createdBy: active.createdBy }, history: history.map(versionView) };
    },

    /** Stores an edited rule set as the next version; it applies to orders scored from now on. */
    async saveRuleSet(actor: StaffPrincipal, input: unknown): Promise<RuleSetVersionView> {
      const request = parseOrThrow(RuleSetUpdateRequest, input);
      const ruleSet = parseOrThrow(FraudRuleSetSchema, { version: request.baseVersion + 1, reviewThreshold: request.reviewThreshold, rules: request.rules }, 'The rule set is invalid.');
      const active = await activeDoc();
      const outdated = () => new ConflictError('fraud.rules_outdated', `The rules changed since version ${request.baseVersion}; reload and apply your edit again.`, { activeVersion: active._id });
      if (active._id !== request.baseVersion) throw outdated();
      const doc: FraudRuleSetDoc = { _id: ruleSet.version, reviewThreshold: ruleSet.reviewThreshold, rules: ruleSet.rules, createdAt: clock(), createdBy: actorLabel(actor) };
      try {
        await RuleSets.create(doc);
      } catch (error) {
        if (isDuplicateKey(error)) throw outdated();
        throw error;
      }
      await deps.redis.set(activeVersionKey, String(doc._id), 'EX', ACTIVE_POINTER_TTL_SECONDS).catch((error: Error) =>
        logger.warn({ err: error.message, version: doc._id }, 'fraud: active rule-set pointer not updated; workers pick the new version up when it expires'),
      );
      await audit.record({
        actor,
        action: 'fraud.rules_update',
        resource: { type: 'fraud_rules', id: String(ruleSet.version) },
        outcome: 'success',
        details: { version: ruleSet.version, baseVersion: request.baseVersion, reviewThreshold: ruleSet.reviewThreshold, rules: ruleSet.rules.length, enabled: ruleSet.rules.filter((r) => r.enabled).length },
      });
      logger.info({ version: ruleSet.version, by: actorLabel(actor) }, 'fraud: new rule set version');
      return versionView(doc);
    },

    // --- analysts' review queue ---

    /** Orders held for review, oldest first (first in, first decided). */
    async listReviews(actor: StaffPrincipal, rawQuery: unknown): Promise<ReviewPage> {
      const query = parseOrThrow(ReviewListQuery, rawQuery);
      const filter = { status: 'fraud_review' as const };
      const [docs, total] = await Promise.all([
        orders.model.find(filter).sort({ placedAt: 1, _id: 1 }).skip((query.page - 1) * query.pageSize).limit(query.pageSize).lean<OrderDoc[]>(),
        orders.model.countDocuments(filter),
      ]);
      await audit.record({ actor, action: 'fraud.review_list', resource: { type: 'order' }, outcome: 'success', details: { page: query.page, returned: docs.length, total } });
      return { items: docs.map(summaryOf), page: query.page, pageSize: query.pageSize, total };
    },

    async getReview(actor: StaffPrincipal, orderNumber: string): Promise<ReviewDetail> {
      let order: OrderDoc | undefined;
      try {
        order = await findOrder(orderNumber);
        // Only held and already-reviewed orders are the analyst's business; others look like none.
        if (order.status !== 'fraud_review' && !order.fraud?.reviewDecision) throw new NotFoundError('review', 'fraud.review_not_found', 'This order is not held for review.');
      } catch (error) {
        return auditFailure(actor, 'fraud.review_read', order?._id, error);
      }
      await audit.record({ actor, action: 'fraud.review_read', resource: { type: 'order', id: order._id }, outcome: 'success' });
      return detailOf(order);
    },

    /**
     * The analyst's call. Approve sends the order on to payment. Decline ends it (stock back, the
     * customer told through the outbox) and puts its email and shipping addresses on the high-risk
     * list. Serialised per order so two analysts cannot approve and decline the same order; a
     * repeat of the decision already taken answers with the order as it is (a retried request).
     */
    async decide(actor: StaffPrincipal, orderNumber: string, input: unknown): Promise<ReviewDetail> {
      const request = parseOrThrow(ReviewDecisionRequest, input);
      const recorded = request.decision === 'approve' ? 'approved' : 'declined';
      let orderId: string | undefined;
      try {
        const found = await findOrder(orderNumber);
        orderId = found._id;
        const result = await withLock(deps.redis, `${deps.redisPrefix}:lock:fraud-review:${found._id}`, async () => {
          const order = await orders.get(found._id);
          const repeated = order.fraud?.reviewDecision === recorded;
          if (order.status !== 'fraud_review' && !repeated) {
            throw new BusinessRuleError('fraud.review_not_pending', order.fraud?.reviewDecision ? `This order was already ${order.fraud.reviewDecision} by ${order.fraud.reviewedBy ?? 'another analyst'}.` : 'This order is not held for review.');
          }
          const by = { actor: actorLabel(actor), analyst: actor.username, note: request.note };
          if (request.decision === 'approve') {
            return { order: repeated ? order : await orderLifecycle.reviewApproved(order._id, { ...by, reason: 'approved by fraud review' }), highRiskAdded: 0, repeated };
          }
          const declined = repeated ? order : await orderLifecycle.reviewDeclined(order._id, { ...by, reason: 'declined by fraud review' });
          // Also on a repeat: a decline that stopped between the two writes completes here.
          const entries = highRiskEntryKeys(deps.secret, { email: order.purchaser.email, householdKeys: order.shipments.map((s) => s.householdKey) });
          return { order: declined, highRiskAdded: await addHighRisk(entries, actorLabel(actor)), repeated };
        });
        await audit.record({
          actor,
          action: 'fraud.review_decision',
          resource: { type: 'order', id: found._id },
          outcome: 'success',
          details: { decision: request.decision, repeated: result.repeated, highRiskAdded: result.highRiskAdded, score: found.fraud?.score ?? null },
        });
        logger.info({ orderId: found._id, decision: request.decision, analyst: actor.username, repeated: result.repeated }, 'fraud review decided');
        return detailOf(result.order);
      } catch (error) {
        return auditFailure(actor, 'fraud.review_decision', orderId, error);
      }
    },

    /** For tests and tooling: how many high-risk entries exist of a kind. */
    async highRiskCount(kind?: 'email' | 'shipping_address'): Promise<number> {
      return HighRisk.countDocuments(kind ? { kind } : {});
    },
  };
}

export type FraudService = ReturnType<typeof createFraudService>;
