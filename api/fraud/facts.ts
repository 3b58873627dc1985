import type { AvsResult, CvvResult, VelocityDimension } from './rules-schema.ts';

/**
 * What the fraud engine sees of an order. Built by the fraud worker from the order record and the
 * gateway's pre-authorisation checks; the engine is pure and reads nothing else, so a stored
 * (facts, signals, rule set version) triple reproduces a decision exactly.
 */
export type OrderChannel = 'web' | 'phone' | 'subscription';

export interface BillingFacts {
  /** ISO 3166-1 alpha-2; compared case-insensitively. */
  country: string;
  /** State/province code; omit where the country has none. */
  state?: string;
  postalCode: string;
}

export interface ShippingFacts {
  country: string;
  state?: string;
  postalCode: string;
  /**
   * Stable key of the physical address (normalised street, unit, postal code, country), the same
   * one the household purchase limit uses. Hashed before it reaches Redis or the high-risk list.
   */
  householdKey: string;
  /** Normalised recipient name; hashed before it reaches Redis. */
  recipientNameKey: string;
}

export interface OrderFacts {
  orderId: string;
  channel: OrderChannel;
  /** When the order was placed. Time-dependent rules measure from here, not from "now", so a re-score agrees with the original. */
  placedAt: Date;
  totalCents: number;
  email: string;
  /** Absent for phone and subscription-renewal orders: IP rules then do not apply. */
  ip?: string;
  billing: BillingFacts;
  /** One entry per shipment; an order with no shipment (e.g. vault storage) skips shipping rules. */
  shipping: ShippingFacts[];
  /** Gateway token for this payment. */
  cardToken: string;
  /** Gateway fingerprint identifying the card across tokens; preferred over the token for velocity when present. */
  cardFingerprint?: string;
  /** Absent for guest checkout: account rules then do not apply. */
  customerId?: string;
  accountCreatedAt?: Date;
  avsResult?: AvsResult;
  cvvResult?: CvvResult;
  /** Keyed hash of the normalised email (high-risk.ts), used to query the high-risk list. */
  emailHash?: string;
  /** Keyed hashes of each shipment's household key (high-risk.ts). */
  shippingAddressHashes: string[];
}

export interface VelocitySignal {
  dimension: VelocityDimension;
  windowSeconds: number;
  /**
   * Orders seen in (placedAt - window, placedAt], this order included. For `household` it is the
   * highest count among the order's shipping addresses.
   */
  count: number;
}

export interface WindowedCount {
  windowDays: number;
  count: number;
}

/**
 * Derived facts gathered from Redis and Mongo before scoring. A field left undefined means "not
 * gathered": a rule that needs it is reported as unevaluated rather than silently passing.
 */
export interface FraudSignals {
  velocity?: VelocitySignal[];
  /** Distinct cards used on the customer's account in the window, this order's card included. */
  distinctCards?: WindowedCount[];
  /** Distinct recipient names at the order's shipping addresses in the window (highest among them), this order's included. */
  householdNames?: WindowedCount[];
  /** Country of `facts.ip` per the GeoIP dataset; null when unknown or private. */
  ipCountry?: string | null;
  /** Whether the order's email / any shipping address is on the confirmed-fraud list. */
  highRisk?: { email?: boolean; shippingAddress?: boolean };
}
