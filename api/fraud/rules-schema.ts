import { z } from 'zod';
import { containsCardNumber, noCardNumber } from '../http/free-text.ts';

/**
 * Fraud rules are data: an admin edits a versioned rule set, the admin API validates it with
 * `FraudRuleSetSchema`, the worker scores every order against the active version. This file is
 * zod only (no Node imports) so the admin console can validate edits in the browser with the
 * exact same rules the API applies.
 *
 * Every rule kind owns a fixed set of explanation placeholders. Templates may use only those, so
 * an admin cannot (even by mistake) write a template that pulls an email, address or card number
 * into an explanation: the engine never has such a placeholder to fill.
 */

/** Windows longer than this are rejected; the Redis tracker keeps history this long by default. */
export const MAX_WINDOW_SECONDS = 90 * 24 * 3600;
const MAX_WINDOW_DAYS = MAX_WINDOW_SECONDS / 86_400;
/** One hundred million dollars: far above any real order, well inside safe integers. */
const MAX_CENTS = 10_000_000_000;

export const VELOCITY_DIMENSIONS = ['card', 'email', 'ip', 'household'] as const;
export type VelocityDimension = (typeof VELOCITY_DIMENSIONS)[number];

/**
 * Gateway AVS outcome, normalised by the payment adapter from network codes (Y/A/Z/N/U/...).
 * `street_only` / `postal_only` are partial matches.
 */
export const AVS_RESULTS = ['match', 'street_only', 'postal_only', 'no_match', 'unavailable'] as const;
export type AvsResult = (typeof AVS_RESULTS)[number];
/** Gateway CVV outcome. Only the outcome is ever stored, never the CVV itself. */
export const CVV_RESULTS = ['match', 'no_match', 'not_checked', 'unavailable'] as const;
export type CvvResult = (typeof CVV_RESULTS)[number];

export const HIGH_RISK_TARGETS = ['email', 'shipping_address'] as const;
export type HighRiskTarget = (typeof HIGH_RISK_TARGETS)[number];

/** Placeholders each kind's explanation template may use, written `{name}`. */
export const RULE_PLACEHOLDERS = {
  order_value: ['total', 'threshold'],
  velocity: ['count', 'limit', 'window', 'dimension'],
  country_mismatch: ['billingCountry', 'shippingCountry'],
  distance_mismatch: ['compare', 'billing', 'shipping'],
  ip_country_mismatch: ['ipCountry', 'billingCountry'],
  new_account_high_value: ['ageDays', 'accountAgeDays', 'total', 'threshold'],
  many_cards: ['count', 'limit', 'windowDays'],
  household_name_evasion: ['count', 'limit', 'windowDays'],
  avs_mismatch: ['result'],
  cvv_mismatch: ['result'],
  high_risk_match: ['which'],
} as const satisfies Record<string, readonly string[]>;

export type FraudRuleKind = keyof typeof RULE_PLACEHOLDERS;
export type PlaceholderOf<K extends FraudRuleKind> = (typeof RULE_PLACEHOLDERS)[K][number];

const PLACEHOLDER_PATTERN = /\{([^{}]*)\}/g;
/** 12+ digits in a row could be a card number pasted into a template; explanations are shown to agents. */
const LONG_DIGIT_RUN = /\d{12,}/;

function explanation(kind: FraudRuleKind) {
  const allowed: readonly string[] = RULE_PLACEHOLDERS[kind];
  return z
    .string()
    .trim()
    .min(1)
    .max(240)
    .check(noCardNumber())
    .superRefine((template, ctx) => {
      for (const match of template.matchAll(PLACEHOLDER_PATTERN)) {
        const name = match[1] ?? '';
        if (!allowed.includes(name)) {
          ctx.addIssue({
            code: 'custom',
            message: `Unknown placeholder {${name}} for ${kind}; use ${allowed.map((p) => `{${p}}`).join(', ')}.`,
          });
        }
      }
      // A card number is refused by noCardNumber() with its own code; this catches the other long runs.
      if (LONG_DIGIT_RUN.test(template) && !containsCardNumber(template)) {
        ctx.addIssue({ code: 'custom', message: 'Explanations must not contain long digit sequences.' });
      }
    });
}

const ruleId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'Use 1-64 lowercase letters, digits, "_", "." or "-".');
const weight = z.number().int().min(0).max(100);
const cents = z.number().int().min(1).max(MAX_CENTS);
const windowDays = z.number().int().min(1).max(MAX_WINDOW_DAYS);

function ruleOf<K extends FraudRuleKind, P extends z.ZodRawShape>(kind: K, params: P) {
  return z.strictObject({
    id: ruleId,
    kind: z.literal(kind),
    /** Points added to the score when the rule fires; 0 records the rule without affecting the decision (shadow mode). */
    weight,
    enabled: z.boolean(),
    explanation: explanation(kind),
    ...params,
  });
}

export const OrderValueRuleSchema = ruleOf('order_value', {
  /** Fires when the order total is at or above this. */
  thresholdCents: cents,
});

export const VelocityRuleSchema = ruleOf('velocity', {
  dimension: z.enum(VELOCITY_DIMENSIONS),
  windowSeconds: z.number().int().min(60).max(MAX_WINDOW_SECONDS),
  /** Orders allowed in the window, this order included; fires above it. */
  maxCount: z.number().int().min(1).max(10_000),
});

export const CountryMismatchRuleSchema = ruleOf('country_mismatch', {});

export const DistanceMismatchRuleSchema = ruleOf('distance_mismatch', {
  /** `zip3`: first three postal characters differ; `state`: state/province differs. Same-country shipments only. */
  compare: z.enum(['zip3', 'state']),
});

export const IpCountryMismatchRuleSchema = ruleOf('ip_country_mismatch', {});

export const NewAccountHighValueRuleSchema = ruleOf('new_account_high_value', {
  /** Accounts younger than this many days are new. */
  accountAgeDays: z.number().int().min(1).max(3650),
  thresholdCents: cents,
});

export const ManyCardsRuleSchema = ruleOf('many_cards', {
  /** Distinct cards allowed on one account in the window, this order's card included; fires above it. */
  maxDistinctCards: z.number().int().min(1).max(100),
  windowDays,
});

export const HouseholdNameEvasionRuleSchema = ruleOf('household_name_evasion', {
  /** Distinct recipient names allowed at one household in the window, this order's included; fires above it. */
  maxDistinctNames: z.number().int().min(1).max(100),
  windowDays,
});

export const AvsMismatchRuleSchema = ruleOf('avs_mismatch', {
  /** Gateway outcomes that fire the rule. */
  fireOn: z.array(z.enum(['street_only', 'postal_only', 'no_match', 'unavailable'])).min(1),
});

export const CvvMismatchRuleSchema = ruleOf('cvv_mismatch', {
  fireOn: z.array(z.enum(['no_match', 'not_checked', 'unavailable'])).min(1),
});

export const HighRiskMatchRuleSchema = ruleOf('high_risk_match', {
  which: z.enum(HIGH_RISK_TARGETS),
});

export const FraudRuleSchema = z.discriminatedUnion('kind', [
  OrderValueRuleSchema,
  VelocityRuleSchema,
  CountryMismatchRuleSchema,
  DistanceMismatchRuleSchema,
  IpCountryMismatchRuleSchema,
  NewAccountHighValueRuleSchema,
  ManyCardsRuleSchema,
  HouseholdNameEvasionRuleSchema,
  AvsMismatchRuleSchema,
  CvvMismatchRuleSchema,
  HighRiskMatchRuleSchema,
]);

export type FraudRule = z.infer<typeof FraudRuleSchema>;
export type FraudRuleOfKind<K extends FraudRuleKind> = Extract<FraudRule, { kind: K }>;

export const FraudRuleSetSchema = z
  .strictObject({
    /** Stored with every assessment so a decision can be traced to the rules that made it. */
    version: z.number().int().min(1),
    /**
     * Scores at or above this go to manual review. At least 1 so an order no rule flags always
     * clears; at most 100 because the score is capped at 100.
     */
    reviewThreshold: z.number().int().min(1).max(100),
    rules: z.array(FraudRuleSchema).max(200),
  })
  .superRefine((set, ctx) => {
    const seen = new Map<string, number>();
    set.rules.forEach((rule, index) => {
      const first = seen.get(rule.id);
      if (first === undefined) {
        seen.set(rule.id, index);
      } else {
        ctx.addIssue({
          code: 'custom',
          path: ['rules', index, 'id'],
          message: `Rule id "${rule.id}" is already used by rule ${first}.`,
        });
      }
    });
  });

export type FraudRuleSet = z.infer<typeof FraudRuleSetSchema>;

/** Longest window any enabled rule looks back over; what the Redis tracker must retain at least. */
export function longestWindowSeconds(ruleSet: FraudRuleSet): number {
  let longest = 0;
  for (const rule of ruleSet.rules) {
    if (!rule.enabled) continue;
    if (rule.kind === 'velocity') longest = Math.max(longest, rule.windowSeconds);
    if (rule.kind === 'many_cards' || rule.kind === 'household_name_evasion') longest = Math.max(longest, rule.windowDays * 86_400);
  }
  return longest;
}

const HOUR = 3600;
const DAY = 86_400;

/**
 * Starting point for a coin store. Bullion and key-date orders are routinely large, so value alone
 * weighs little; what separates fraud here is card testing (velocity, many cards), reshipping
 * (mismatched countries/IP) and household-limit evasion on limited mintages. No single weak signal
 * reaches review (50); a CVV failure plus almost anything else does, and a hit on the confirmed
 * fraud list always does.
 */
export const DEFAULT_FRAUD_RULE_SET: FraudRuleSet = {
  version: 1,
  reviewThreshold: 50,
  rules: [
    { id: 'order-value-high', kind: 'order_value', weight: 10, enabled: true, thresholdCents: 250_000, explanation: 'Order total {total} is at or above {threshold}' },
    { id: 'order-value-very-high', kind: 'order_value', weight: 20, enabled: true, thresholdCents: 1_000_000, explanation: 'Order total {total} is at or above {threshold}' },
    { id: 'velocity-card-1h', kind: 'velocity', weight: 30, enabled: true, dimension: 'card', windowSeconds: HOUR, maxCount: 3, explanation: '{count} orders from this {dimension} in {window} (limit {limit})' },
    { id: 'velocity-card-24h', kind: 'velocity', weight: 20, enabled: true, dimension: 'card', windowSeconds: DAY, maxCount: 6, explanation: '{count} orders from this {dimension} in {window} (limit {limit})' },
    { id: 'velocity-email-1h', kind: 'velocity', weight: 15, enabled: true, dimension: 'email', windowSeconds: HOUR, maxCount: 3, explanation: '{count} orders from this {dimension} in {window} (limit {limit})' },
    { id: 'velocity-ip-1h', kind: 'velocity', weight: 20, enabled: true, dimension: 'ip', windowSeconds: HOUR, maxCount: 5, explanation: '{count} orders from this {dimension} in {window} (limit {limit})' },
    { id: 'velocity-household-24h', kind: 'velocity', weight: 15, enabled: true, dimension: 'household', windowSeconds: DAY, maxCount: 4, explanation: '{count} orders to this {dimension} in {window} (limit {limit})' },
    { id: 'country-mismatch', kind: 'country_mismatch', weight: 20, enabled: true, explanation: 'Ships to {shippingCountry} but the card is billed in {billingCountry}' },
    { id: 'state-mismatch', kind: 'distance_mismatch', weight: 10, enabled: true, compare: 'state', explanation: 'Shipping {compare} {shipping} differs from billing {compare} {billing}' },
    { id: 'ip-country-mismatch', kind: 'ip_country_mismatch', weight: 20, enabled: true, explanation: 'Ordered from an IP in {ipCountry} but billed in {billingCountry}' },
    { id: 'new-account-high-value', kind: 'new_account_high_value', weight: 25, enabled: true, accountAgeDays: 7, thresholdCents: 100_000, explanation: 'Account is {ageDays} days old (under {accountAgeDays}) and the order is {total} (at least {threshold})' },
    { id: 'many-cards-30d', kind: 'many_cards', weight: 30, enabled: true, maxDistinctCards: 3, windowDays: 30, explanation: '{count} different cards on this account in {windowDays} days (limit {limit})' },
    { id: 'household-names-30d', kind: 'household_name_evasion', weight: 35, enabled: true, maxDistinctNames: 2, windowDays: 30, explanation: '{count} different recipient names at one shipping address in {windowDays} days (limit {limit})' },
    { id: 'avs-no-match', kind: 'avs_mismatch', weight: 25, enabled: true, fireOn: ['no_match'], explanation: 'Address verification: {result}' },
    { id: 'cvv-no-match', kind: 'cvv_mismatch', weight: 40, enabled: true, fireOn: ['no_match'], explanation: 'Card security code check: {result}' },
    { id: 'high-risk-email', kind: 'high_risk_match', weight: 50, enabled: true, which: 'email', explanation: 'The {which} matches a confirmed fraudulent order' },
    { id: 'high-risk-shipping', kind: 'high_risk_match', weight: 50, enabled: true, which: 'shipping_address', explanation: 'The {which} matches a confirmed fraudulent order' },
  ],
};
