import type { Services } from '../../api/services.ts';
import { isAppError } from '../../platform/errors.ts';
import { startQueueWorker, type RunningWorker, type WorkerRuntime } from '../runner.ts';
import { requiredSignals, scoreOrder } from '../../api/fraud/engine.ts';
import { buildOrderFacts, gatherSignals } from './facts-builder.ts';
import { createVelocityTracker } from './velocity.ts';

/**
 * The `fraud-check` queue: every order (web, phone, subscription) is scored before any money
 * moves. Below the rule set's threshold it goes on to payment; at or above it waits for an
 * analyst. The worker never declines: only a person does (api/fraud/service.ts).
 *
 * Repeats are harmless: an order already past pending_fraud_check is left alone, the velocity
 * windows record an order once however often it is scored, and the status change with the score
 * is one write (orderLifecycle), so a crash before it only means the next attempt scores again.
 */

const ACTOR = 'system:fraud';

export function createFraudCheck(services: Services) {
  const { core, orders, fraud, orderLifecycle, vault, customers, addresses } = services;
  const logger = core.logger.child({ component: 'fraud' });
  const tracker = createVelocityTracker({ redis: core.redis, prefix: core.redisPrefix, secret: core.secrets.appSecret, clock: core.clock });
  const factsSources = {
    secret: core.secrets.appSecret,
    nameKey: (first: string, last: string) => addresses.nameKey(first, last),
    cardFingerprint: async (cardToken: string) => (await vault.card(cardToken))?.fingerprint,
    async accountCreatedAt(customerId: string) {
      try {
        return new Date((await customers.getProfile(customerId)).createdAt);
      } catch (error) {
        // A closed or vanished account has no age to judge; an outage must retry instead.
        if (isAppError(error) && error.kind === 'not_found') return undefined;
        throw error;
      }
    },
  };

  return async function checkOrder(orderId: string): Promise<{ outcome: 'skipped'; status: string } | { outcome: 'clear' | 'review'; score: number }> {
    const order = await orders.get(orderId);
    if (order.status !== 'pending_fraud_check') return { outcome: 'skipped', status: order.status };

    const ruleSet = await fraud.activeRuleSet();
    const facts = await buildOrderFacts(order, factsSources);
    const signals = await gatherSignals(facts, requiredSignals(ruleSet), { tracker, highRiskMatches: (hashes) => fraud.highRiskMatches(hashes) });
    const assessment = scoreOrder(facts, signals, ruleSet);
    if (assessment.unevaluated.length > 0) {
      // A signal the rules need was not gathered: a wiring bug that silently weakens screening.
      logger.error({ orderId, unevaluated: assessment.unevaluated }, 'fraud rules could not be evaluated');
    }

    const scoredAt = core.clock();
    const set = {
      'fraud.score': assessment.score,
      'fraud.decision': assessment.decision,
      'fraud.ruleSetVersion': assessment.ruleSetVersion,
      'fraud.fired': assessment.fired,
      'fraud.scoredAt': scoredAt,
    };
    const reason = `fraud score ${assessment.score} (review at ${assessment.reviewThreshold}, rules v${assessment.ruleSetVersion})`;
    const updated =
      assessment.decision === 'review'
        ? await orderLifecycle.fraudHeld(orderId, set, { actor: ACTOR, reason })
        : await orderLifecycle.fraudCleared(orderId, set, { actor: ACTOR, reason });
    // Only the attempt whose score the order kept records its inputs (a concurrent duplicate lost).
    if (updated.fraud?.scoredAt?.getTime() === scoredAt.getTime()) await fraud.recordAssessment(assessment, signals, scoredAt);
    logger.info({ orderId, score: assessment.score, decision: assessment.decision, fired: assessment.fired.map((f) => f.ruleId), ruleSetVersion: assessment.ruleSetVersion }, 'order scored');
    return { outcome: assessment.decision, score: assessment.score };
  };
}

export function startFraudWorker(runtime: WorkerRuntime, options: { concurrency?: number } = {}): RunningWorker {
  const { services, bullConnection } = runtime;
  const checkOrder = createFraudCheck(services);
  return startQueueWorker(
    { connection: bullConnection, prefix: services.core.queues.prefix, logger: services.core.logger },
    {
      queue: 'fraud-check',
      // Scoring is I/O bound (Mongo and Redis round trips), so many run at once.
      concurrency: options.concurrency ?? 50,
      handler: ({ orderId }) => checkOrder(orderId),
    },
  );
}
