import { z } from 'zod';
import { freeText } from '../http/free-text.ts';
import type { FraudRuleSet } from './rules-schema.ts';

/**
 * Shapes of the fraud review and rule-set admin API. Zod only: the console validates an analyst's
 * decision and an admin's rule edit with the same schemas the API applies. The rule set itself is
 * validated by `FraudRuleSetSchema` (api/fraud/rules-schema.ts).
 */

export const ReviewListQuery = z.strictObject({
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(25),
});
export type ReviewListQuery = z.infer<typeof ReviewListQuery>;

export const ReviewDecisionRequest = z.strictObject({
  decision: z.enum(['approve', 'decline']),
  /** Why: kept on the order for the next analyst and for disputes. Never put card data here. */
  note: freeText(1000, { min: 3, minMessage: 'Say briefly why.' }),
});
export type ReviewDecisionRequest = z.infer<typeof ReviewDecisionRequest>;

/**
 * An edited rule set. `baseVersion` is the active version the admin started from: saving is
 * refused when someone else saved in between, so one admin's edit never silently drops another's.
 * `reviewThreshold` and `rules` are checked by FraudRuleSetSchema (with version = baseVersion + 1).
 */
export const RuleSetUpdateRequest = z.strictObject({
  baseVersion: z.number().int().min(1),
  reviewThreshold: z.unknown(),
  rules: z.unknown(),
});

export interface FiredRuleView {
  ruleId: string;
  kind: string;
  weight: number;
  explanation: string;
}

export interface ReviewSummary {
  orderNumber: string;
  orderId: string;
  status: string;
  channel: string;
  placedAt: string;
  totalCents: number;
  purchaserName: string;
  shipmentCount: number;
  score: number | null;
  ruleSetVersion: number | null;
  scoredAt: string | null;
  fired: FiredRuleView[];
}

export interface ReviewDetail extends ReviewSummary {
  purchaser: { firstName: string; lastName: string; email: string; phone: string };
  billingAddress: { line1: string; line2?: string; city: string; state: string; postalCode: string; country: string };
  shipments: { address: ReviewDetail['billingAddress']; recipientName: string; gift: boolean }[];
  lines: { sku: string; name: string; quantity: number; unitPriceCents: number; shipTo: number }[];
  totals: { subtotalCents: number; taxCents: number; shippingCents: number; totalCents: number };
  payment: { brand: string; last4: string; avs: string | null; cvvCheck: string | null };
  review: { decision: string | null; reviewedBy: string | null; note: string | null; reviewedAt: string | null };
  statusHistory: { from: string | null; to: string; at: string; actor: string; reason: string }[];
}

export interface ReviewPage {
  items: ReviewSummary[];
  page: number;
  pageSize: number;
  total: number;
}

export interface RuleSetVersionView {
  version: number;
  reviewThreshold: number;
  ruleCount: number;
  createdAt: string;
  createdBy: string;
}

export interface RuleSetsView {
  active: FraudRuleSet & { createdAt: string; createdBy: string };
  /** Newest first, the active version included. */
  history: RuleSetVersionView[];
}
