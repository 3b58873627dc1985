import { z } from 'zod';
import { FreeText, IsoDateTime, Uuid } from './tasks.ts';

/**
 * What a fraud analyst sees of a review task: the score, the rules that fired with their
 * explanations, the order and customer facts behind them, and the velocity counts. Browser-safe.
 */

const Address = z.object({ line1: z.string(), line2: z.string().optional(), city: z.string(), state: z.string(), postalCode: z.string(), country: z.string() });

export const FraudReviewDetail = z.object({
  taskId: Uuid,
  orderNumber: z.string(),
  orderId: z.string(),
  status: z.string(),
  channel: z.string(),
  placedAt: IsoDateTime,
  totalCents: z.number().int(),
  score: z.number().nullable(),
  reviewThreshold: z.number().nullable(),
  ruleSetVersion: z.number().int().nullable(),
  fired: z.array(z.object({ ruleId: z.string(), kind: z.string(), weight: z.number(), explanation: z.string() })),
  purchaser: z.object({ firstName: z.string(), lastName: z.string(), email: z.string(), phone: z.string() }),
  /** Account facts when the order belongs to an account (null for a guest). */
  customer: z.object({ customerId: z.string(), accountCreatedAt: IsoDateTime.nullable() }).nullable(),
  billingAddress: Address,
  shipments: z.array(z.object({ address: Address, recipientName: z.string(), gift: z.boolean() })),
  lines: z.array(z.object({ sku: z.string(), name: z.string(), quantity: z.number().int(), unitPriceCents: z.number().int() })),
  payment: z.object({ brand: z.string(), last4: z.string(), avs: z.string().nullable(), cvvCheck: z.string().nullable() }),
  /** Orders seen per dimension in each window, this order included (from the fraud check). */
  velocity: z.array(z.object({ dimension: z.string(), windowSeconds: z.number().int(), count: z.number().int() })),
  /** Distinct cards on the account per window. */
  distinctCards: z.array(z.object({ windowDays: z.number().int(), count: z.number().int() })),
  review: z.object({ decision: z.string().nullable(), reviewedBy: z.string().nullable(), note: z.string().nullable(), reviewedAt: IsoDateTime.nullable() }),
});
export type FraudReviewDetail = z.infer<typeof FraudReviewDetail>;

export const FraudDecisionRequest = z.strictObject({
  taskId: Uuid,
  decision: z.enum(['approve', 'decline']),
  note: FreeText(1000).pipe(z.string().min(3, 'Say briefly why.')),
});
