import type { FraudSignals, OrderFacts } from './facts.ts';
import type {
  AvsResult,
  CvvResult,
  FraudRule,
  FraudRuleKind,
  FraudRuleOfKind,
  FraudRuleSet,
  HighRiskTarget,
  PlaceholderOf,
  VelocityDimension,
} from './rules-schema.ts';

/**
 * The fraud scoring engine: pure and deterministic. Given the same facts, signals and rule set it
 * returns the same assessment, so the worker can store the inputs next to the decision and an
 * auditor can replay it. It never declines: the worst outcome is `review`, a human's call.
 *
 * Score: the sum of the weights of the rules that fired (`rawScore`), capped at 100 (`score`).
 * Because `reviewThreshold` is at most 100 the cap never changes a decision; it only keeps the
 * number readable for agents. `rawScore` is kept for tuning.
 */

export type FraudDecision = 'clear' | 'review';

export interface FiredRule {
  ruleId: string;
  kind: FraudRuleKind;
  weight: number;
  /** Filled template, safe to show agents: counts, limits, countries, states, ZIP3, money; never an email, address or card number. */
  explanation: string;
}

export type SignalName = 'velocity' | 'distinctCards' | 'householdNames' | 'ipCountry' | 'highRisk';

export interface UnevaluatedRule {
  ruleId: string;
  kind: FraudRuleKind;
  /** The signal the worker did not gather. A wiring bug, not an order property: alert on it. */
  missing: SignalName;
}

export interface FraudAssessment {
  orderId: string;
  ruleSetVersion: number;
  reviewThreshold: number;
  /** 0..100. */
  score: number;
  /** Uncapped sum of fired weights. */
  rawScore: number;
  decision: FraudDecision;
  /** In rule-set order. Includes weight-0 (shadow) rules. */
  fired: FiredRule[];
  /**
   * Enabled rules that applied to the order but could not be evaluated because a signal was
   * missing. They do not fire; the decision reflects only what was evaluated.
   */
  unevaluated: UnevaluatedRule[];
}

/** Which signals the enabled rules read, so the worker gathers exactly those. */
export interface SignalRequirements {
  velocity: { dimension: VelocityDimension; windowSeconds: number }[];
  distinctCardWindowsDays: number[];
  householdNameWindowsDays: number[];
  ipCountry: boolean;
  highRisk: { email: boolean; shippingAddress: boolean };
}

export function requiredSignals(ruleSet: FraudRuleSet): SignalRequirements {
  const velocity = new Map<string, { dimension: VelocityDimension; windowSeconds: number }>();
  const cards = new Set<number>();
  const names = new Set<number>();
  const required: SignalRequirements = {
    velocity: [],
    distinctCardWindowsDays: [],
    householdNameWindowsDays: [],
    ipCountry: false,
    highRisk: { email: false, shippingAddress: false },
  };
  for (const rule of ruleSet.rules) {
    if (!rule.enabled) continue;
    switch (rule.kind) {
      case 'velocity':
        velocity.set(`${rule.dimension}:${rule.windowSeconds}`, { dimension: rule.dimension, windowSeconds: rule.windowSeconds });
        break;
      case 'many_cards':
        cards.add(rule.windowDays);
        break;
      case 'household_name_evasion':
        names.add(rule.windowDays);
        break;
      case 'ip_country_mismatch':
        required.ipCountry = true;
        break;
      case 'high_risk_match':
        if (rule.which === 'email') required.highRisk.email = true;
        else required.highRisk.shippingAddress = true;
        break;
      default:
        break;
    }
  }
  required.velocity = [...velocity.values()];
  required.distinctCardWindowsDays = [...cards].sort((a, b) => a - b);
  required.householdNameWindowsDays = [...names].sort((a, b) => a - b);
  return required;
}

export function scoreOrder(facts: OrderFacts, signals: FraudSignals, ruleSet: FraudRuleSet): FraudAssessment {
  const fired: FiredRule[] = [];
  const unevaluated: UnevaluatedRule[] = [];
  for (const rule of ruleSet.rules) {
    if (!rule.enabled) continue;
    const outcome = evaluate(rule, facts, signals);
    if (outcome.status === 'fired') {
      fired.push({ ruleId: rule.id, kind: rule.kind, weight: rule.weight, explanation: render(rule.explanation, outcome.vars) });
    } else if (outcome.status === 'missing') {
      unevaluated.push({ ruleId: rule.id, kind: rule.kind, missing: outcome.signal });
    }
  }
  const rawScore = fired.reduce((sum, rule) => sum + rule.weight, 0);
  const score = Math.min(100, rawScore);
  return {
    orderId: facts.orderId,
    ruleSetVersion: ruleSet.version,
    reviewThreshold: ruleSet.reviewThreshold,
    score,
    rawScore,
    decision: score >= ruleSet.reviewThreshold ? 'review' : 'clear',
    fired,
    unevaluated,
  };
}

type Outcome =
  | { status: 'fired'; vars: Readonly<Record<string, string>> }
  | { status: 'passed' }
  | { status: 'missing'; signal: SignalName };

const PASSED: Outcome = { status: 'passed' };
const missing = (signal: SignalName): Outcome => ({ status: 'missing', signal });
// Typed per kind so the compiler proves every placeholder a template may use gets a value.
const fire = <K extends FraudRuleKind>(_kind: K, vars: Record<PlaceholderOf<K>, string>): Outcome => ({ status: 'fired', vars });

function evaluate(rule: FraudRule, facts: OrderFacts, signals: FraudSignals): Outcome {
  switch (rule.kind) {
    case 'order_value':
      return facts.totalCents >= rule.thresholdCents
        ? fire(rule.kind, { total: money(facts.totalCents), threshold: money(rule.thresholdCents) })
        : PASSED;
    case 'velocity':
      return velocity(rule, facts, signals);
    case 'country_mismatch':
      return countryMismatch(rule, facts);
    case 'distance_mismatch':
      return distanceMismatch(rule, facts);
    case 'ip_country_mismatch':
      return ipCountryMismatch(rule, facts, signals);
    case 'new_account_high_value':
      return newAccountHighValue(rule, facts);
    case 'many_cards': {
      // Guests have no account to accumulate cards on.
      if (!present(facts.customerId)) return PASSED;
      const entry = signals.distinctCards?.find((c) => c.windowDays === rule.windowDays);
      if (!entry) return missing('distinctCards');
      return entry.count > rule.maxDistinctCards
        ? fire(rule.kind, { count: String(entry.count), limit: String(rule.maxDistinctCards), windowDays: String(rule.windowDays) })
        : PASSED;
    }
    case 'household_name_evasion': {
      if (!facts.shipping.some((s) => present(s.householdKey) && present(s.recipientNameKey))) return PASSED;
      const entry = signals.householdNames?.find((c) => c.windowDays === rule.windowDays);
      if (!entry) return missing('householdNames');
      return entry.count > rule.maxDistinctNames
        ? fire(rule.kind, { count: String(entry.count), limit: String(rule.maxDistinctNames), windowDays: String(rule.windowDays) })
        : PASSED;
    }
    case 'avs_mismatch':
      // No AVS outcome (e.g. a wallet payment the gateway does not address-check) is not a mismatch.
      return facts.avsResult !== undefined && (rule.fireOn as readonly string[]).includes(facts.avsResult)
        ? fire(rule.kind, { result: AVS_PHRASES[facts.avsResult] })
        : PASSED;
    case 'cvv_mismatch':
      return facts.cvvResult !== undefined && (rule.fireOn as readonly string[]).includes(facts.cvvResult)
        ? fire(rule.kind, { result: CVV_PHRASES[facts.cvvResult] })
        : PASSED;
    case 'high_risk_match': {
      if (rule.which === 'shipping_address' && facts.shipping.length === 0) return PASSED;
      const hit = rule.which === 'email' ? signals.highRisk?.email : signals.highRisk?.shippingAddress;
      if (hit === undefined) return missing('highRisk');
      return hit ? fire(rule.kind, { which: HIGH_RISK_PHRASES[rule.which] }) : PASSED;
    }
  }
}

function velocity(rule: FraudRuleOfKind<'velocity'>, facts: OrderFacts, signals: FraudSignals): Outcome {
  if (!hasVelocityKey(rule.dimension, facts)) return PASSED;
  const entry = signals.velocity?.find((v) => v.dimension === rule.dimension && v.windowSeconds === rule.windowSeconds);
  if (!entry) return missing('velocity');
  return entry.count > rule.maxCount
    ? fire(rule.kind, {
        count: String(entry.count),
        limit: String(rule.maxCount),
        window: formatWindow(rule.windowSeconds),
        dimension: DIMENSION_NOUNS[rule.dimension],
      })
    : PASSED;
}

/** Mirrors what the tracker records: no key for a dimension means no count, and nothing to judge. */
function hasVelocityKey(dimension: VelocityDimension, facts: OrderFacts): boolean {
  switch (dimension) {
    case 'card':
      return present(facts.cardFingerprint) || present(facts.cardToken);
    case 'email':
      return present(facts.email);
    case 'ip':
      return present(facts.ip);
    case 'household':
      return facts.shipping.some((s) => present(s.householdKey));
  }
}

function countryMismatch(rule: FraudRuleOfKind<'country_mismatch'>, facts: OrderFacts): Outcome {
  const billingCountry = country(facts.billing.country);
  const other = facts.shipping.find((s) => country(s.country) !== billingCountry);
  return other ? fire(rule.kind, { billingCountry, shippingCountry: country(other.country) }) : PASSED;
}

function distanceMismatch(rule: FraudRuleOfKind<'distance_mismatch'>, facts: OrderFacts): Outcome {
  const billingCountry = country(facts.billing.country);
  const pick = rule.compare === 'zip3' ? (p: { postalCode: string }) => zip3(p.postalCode) : (p: { state?: string }) => region(p.state);
  const billing = pick(facts.billing);
  if (billing === null) return PASSED;
  // Cross-border shipments are country_mismatch's business; comparing a US state with a
  // Canadian province would only double-count the same fact.
  for (const shipment of facts.shipping) {
    if (country(shipment.country) !== billingCountry) continue;
    const shipping = pick(shipment);
    if (shipping !== null && shipping !== billing) {
      return fire(rule.kind, { compare: rule.compare === 'zip3' ? 'ZIP3' : 'state', billing, shipping });
    }
  }
  return PASSED;
}

function ipCountryMismatch(rule: FraudRuleOfKind<'ip_country_mismatch'>, facts: OrderFacts, signals: FraudSignals): Outcome {
  if (!present(facts.ip)) return PASSED;
  if (signals.ipCountry === undefined) return missing('ipCountry');
  // Unknown or private addresses (office NAT, carrier-grade NAT) say nothing about location.
  if (signals.ipCountry === null) return PASSED;
  const ipCountry = country(signals.ipCountry);
  const billingCountry = country(facts.billing.country);
  return ipCountry !== billingCountry ? fire(rule.kind, { ipCountry, billingCountry }) : PASSED;
}

const DAY_MS = 86_400_000;

function newAccountHighValue(rule: FraudRuleOfKind<'new_account_high_value'>, facts: OrderFacts): Outcome {
  // Guest checkouts have no account age; order_value rules cover their size.
  if (!present(facts.customerId) || facts.accountCreatedAt === undefined) return PASSED;
  const ageMs = facts.placedAt.getTime() - facts.accountCreatedAt.getTime();
  if (!Number.isFinite(ageMs)) return PASSED;
  if (ageMs >= rule.accountAgeDays * DAY_MS || facts.totalCents < rule.thresholdCents) return PASSED;
  return fire(rule.kind, {
    ageDays: String(Math.floor(Math.max(0, ageMs) / DAY_MS)),
    accountAgeDays: String(rule.accountAgeDays),
    total: money(facts.totalCents),
    threshold: money(rule.thresholdCents),
  });
}

const PLACEHOLDER = /\{([^{}]*)\}/g;

function render(template: string, vars: Readonly<Record<string, string>>): string {
  // The schema already rejects unknown placeholders; leaving one verbatim beats throwing mid-score.
  return template.replace(PLACEHOLDER, (whole, name: string) => (Object.hasOwn(vars, name) ? (vars[name] as string) : whole));
}

const USD = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

function money(cents: number): string {
  return USD.format(cents / 100);
}

/** 3600 -> "1 h", 5400 -> "90 min", 86400 -> "24 h", 604800 -> "7 d". */
export function formatWindow(seconds: number): string {
  if (seconds % 86_400 === 0 && seconds >= 2 * 86_400) return `${seconds / 86_400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** Blank counts as absent: the tracker never records a blank key, so no signal would exist for it. */
function present(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}

function country(code: string): string {
  return code.trim().toUpperCase();
}

function region(state: string | undefined): string | null {
  const value = state?.trim().toUpperCase() ?? '';
  return value === '' ? null : value;
}

/** First three postal characters, ignoring spaces and dashes: the US sectional centre, a Canadian FSA. */
function zip3(postalCode: string): string | null {
  const compact = postalCode.toUpperCase().replace(/[^0-9A-Z]/g, '');
  return compact.length >= 3 ? compact.slice(0, 3) : null;
}

const DIMENSION_NOUNS: Record<VelocityDimension, string> = { card: 'card', email: 'email address', ip: 'IP', household: 'household' };

const AVS_PHRASES: Record<AvsResult, string> = {
  match: 'match',
  street_only: 'street matches, postal code does not',
  postal_only: 'postal code matches, street does not',
  no_match: 'no match',
  unavailable: 'unavailable',
};

const CVV_PHRASES: Record<CvvResult, string> = {
  match: 'match',
  no_match: 'no match',
  not_checked: 'not checked',
  unavailable: 'unavailable',
};

const HIGH_RISK_PHRASES: Record<HighRiskTarget, string> = { email: 'email address', shipping_address: 'shipping address' };
