import { BusinessRuleError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import type { InventoryService } from '../inventory/service.ts';
import type { PaymentService } from '../payments/service.ts';
import type { VaultService } from '../vault/service.ts';
import type { OrderDoc } from './model.ts';
import { outboxEvent, outboxJob, type OrderService } from './service.ts';
import type { OrderStatus } from './status.ts';

interface Actor {
  actor: string;
  reason: string;
}

/**
 * What happens to an order after it is placed, each step with its side effects: fraud outcome,
 * payment authorisation, cancellation (stock back, money released), fulfilment and shipping.
 * Workers and staff routes both call these, so a status never changes without its effects.
 */
export function createOrderLifecycle({ orders, inventory, payments, vault, logger }: { orders: OrderService; inventory: InventoryService; payments: PaymentService; vault: VaultService; logger: Logger }) {
  async function releaseStock(order: OrderDoc) {
    for (const reservationId of order.reservationIds ?? []) {
      await inventory.release(reservationId, { force: true }).catch((error: Error) => logger.warn({ err: error.message, reservationId }, 'stock release failed; reconciliation will recount'));
    }
  }
  async function forgetSingleUseCard(order: OrderDoc) {
    await vault.forget(order.payment.cardToken).catch(() => undefined);
  }

  return {
    /** Fraud score below the threshold: go on to payment. */
    async fraudCleared(orderId: string, assessment: Record<string, unknown>, by: Actor) {
      return orders.transition(orderId, 'payment_pending', { ...by, set: assessment, outbox: [outboxJob('payment-authorise', { orderId })], idempotentFrom: ['payment_pending', 'paid', 'fulfilled', 'shipped', 'delivered', 'declined', 'cancelled'] });
    },

    /** Score at or above the threshold: a fraud analyst decides. The system never declines by itself. */
    async fraudHeld(orderId: string, assessment: Record<string, unknown> & { 'fraud.score': number }, by: Actor) {
      const order = await orders.get(orderId);
      return orders.transition(orderId, 'fraud_review', {
        ...by,
        set: assessment,
        outbox: [
          outboxEvent('order.review_required', { orderId, orderNumber: order.orderNumber, score: assessment['fraud.score'] }),
          outboxJob('email', { template: 'fraud_hold', orderId, data: {} }),
        ],
        idempotentFrom: ['fraud_review', 'payment_pending', 'paid', 'fulfilled', 'shipped', 'delivered', 'declined', 'cancelled'],
      });
    },

    async reviewApproved(orderId: string, by: Actor & { analyst: string; note: string }) {
      return orders.transition(orderId, 'payment_pending', {
        ...by,
        set: { 'fraud.reviewedBy': by.analyst, 'fraud.reviewDecision': 'approved', 'fraud.reviewNote': by.note, 'fraud.reviewedAt': new Date() },
        outbox: [outboxJob('payment-authorise', { orderId })],
      });
    },

    async reviewDeclined(orderId: string, by: Actor & { analyst: string; note: string }) {
      const order = await orders.get(orderId);
      const updated = await orders.transition(orderId, 'declined', {
        ...by,
        set: { 'fraud.reviewedBy': by.analyst, 'fraud.reviewDecision': 'declined', 'fraud.reviewNote': by.note, 'fraud.reviewedAt': new Date() },
        outbox: [outboxJob('email', { template: 'order_declined', orderId, data: {} })],
      });
      await releaseStock(order);
      await forgetSingleUseCard(order);
      return updated;
    },

    /** The payment worker's step: authorise the total on the card on file; approved means paid. */
    async authorisePayment(orderId: string, by: Actor) {
      const order = await orders.get(orderId);
      if (order.status !== 'payment_pending') return order; // a repeated job after the first one finished
      // Each money step is recorded as soon as it happens, so a job retried after a crash resumes
      // after the last completed step instead of asking the gateway to capture twice.
      if (order.payment.captureId) {
        return orders.transition(orderId, 'paid', { ...by, outbox: [], idempotentFrom: ['paid', 'fulfilled', 'shipped', 'delivered'] });
      }
      const result = await payments.authoriseOrder(order as never);
      if (result.status === 'approved') {
        if (order.payment.authId !== result.authId) await orders.update(orderId, { 'payment.authId': result.authId });
        const capture = await payments.capture(result.authId, order.totals.totalCents);
        await orders.update(orderId, { 'payment.captureId': capture.captureId });
        return orders.transition(orderId, 'paid', {
          ...by,
          set: { 'payment.authId': result.authId, 'payment.captureId': capture.captureId },
          outbox: [],
          idempotentFrom: ['paid', 'fulfilled', 'shipped', 'delivered'],
        });
      }
      const declined = await orders.transition(orderId, 'declined', {
        ...by,
        reason: `card declined: ${result.reason}`,
        set: { 'payment.declineReason': result.reason },
        outbox: [outboxJob('email', { template: 'payment_failed', orderId, data: { reason: result.reason } })],
        idempotentFrom: ['declined'],
      });
      await releaseStock(order);
      await forgetSingleUseCard(order);
      return declined;
    },

    async cancel(orderId: string, by: Actor) {
      const order = await orders.get(orderId);
      if (!['pending_fraud_check', 'fraud_review', 'payment_pending', 'paid'].includes(order.status)) {
        throw new BusinessRuleError('order.not_cancellable', `An order that is ${order.status.replace(/_/g, ' ')} can no longer be cancelled.`);
      }
      if (order.payment.captureId) await payments.refund(order.payment.captureId, order.totals.totalCents);
      else if (order.payment.authId) await payments.void(order.payment.authId);
      const updated = await orders.transition(orderId, 'cancelled', { ...by, outbox: [outboxJob('email', { template: 'order_cancelled', orderId, data: {} })] });
      await releaseStock(order);
      await forgetSingleUseCard(order);
      return updated;
    },

    async advanceFulfilment(orderId: string, to: OrderStatus, by: Actor & { carrier?: string | undefined; trackingNumber?: string | undefined }) {
      if (!['fulfilled', 'shipped', 'delivered'].includes(to)) throw new BusinessRuleError('order.illegal_transition', 'Use cancel for cancellations; fulfilment moves to fulfilled, shipped or delivered.');
      const order = await orders.get(orderId);
      const set: Record<string, unknown> = {};
      if (to === 'shipped') {
        if (!by.carrier || !by.trackingNumber) throw new BusinessRuleError('order.tracking_required', 'Give the carrier and tracking number when shipping.');
        order.shipments.forEach((_, index) => {
          set[`shipments.${index}.carrier`] = by.carrier;
          set[`shipments.${index}.trackingNumber`] = by.trackingNumber;
          set[`shipments.${index}.shippedAt`] = new Date();
        });
      }
      const updated = await orders.transition(orderId, to, { ...by, set, outbox: to === 'shipped' ? [outboxJob('email', { template: 'order_shipped', orderId, data: {} })] : [] });
      if (to === 'shipped') await forgetSingleUseCard(order);
      return updated;
    },
  };
}

export type OrderLifecycle = ReturnType<typeof createOrderLifecycle>;
