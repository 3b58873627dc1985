import { BusinessRuleError } from '../../platform/errors.ts';

/**
 * The order lifecycle. Fraud screening always comes before money moves; the system never declines
 * on a fraud score by itself (a person does, in `fraud_review`), but the card issuer can.
 */
export const ORDER_STATUSES = [
  'pending_fraud_check',
  'fraud_review',
  'payment_pending',
  'paid',
  'fulfilled',
  'shipped',
  'delivered',
  'cancelled',
  'declined',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  pending_fraud_check: ['fraud_review', 'payment_pending', 'cancelled'],
  fraud_review: ['payment_pending', 'declined', 'cancelled'],
  payment_pending: ['paid', 'declined', 'cancelled'],
  paid: ['fulfilled', 'cancelled'],
  fulfilled: ['shipped'],
  shipped: ['delivered'],
  delivered: [],
  cancelled: [],
  declined: [],
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(from: OrderStatus, to: OrderStatus): void {
  if (!canTransition(from, to)) {
    throw new BusinessRuleError('order.illegal_transition', `An order that is ${from.replace(/_/g, ' ')} cannot become ${to.replace(/_/g, ' ')}.`, { from, to });
  }
}

/** Orders that still hold stock and count toward household limits. */
export const ORDERS_HOLDING_STOCK: readonly OrderStatus[] = ['pending_fraud_check', 'fraud_review', 'payment_pending', 'paid', 'fulfilled', 'shipped', 'delivered'];

/** Words for customers, callers and the console. */
export const STATUS_DESCRIPTIONS: Record<OrderStatus, string> = {
  pending_fraud_check: 'received and being verified',
  fraud_review: 'received and under review',
  payment_pending: 'awaiting payment authorisation',
  paid: 'paid and being prepared',
  fulfilled: 'packed and ready to ship',
  shipped: 'shipped',
  delivered: 'delivered',
  cancelled: 'cancelled',
  declined: 'not completed because the payment was declined',
};
