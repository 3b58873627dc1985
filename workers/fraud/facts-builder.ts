import type { OrderDoc } from '../../api/orders/model.ts';
import type { SignalRequirements } from '../../api/fraud/engine.ts';
import type { FraudSignals, OrderFacts } from '../../api/fraud/facts.ts';
import { isPublicIp, lookupCountry } from './geoip.ts';
import { orderHighRiskHashes } from '../../api/fraud/high-risk.ts';
import type { AvsResult, CvvResult } from '../../api/fraud/rules-schema.ts';
import { trackOrder, type VelocityTracker } from './velocity.ts';

/**
 * From a stored order to what the engine reads: `OrderFacts` (the order, normalised) and
 * `FraudSignals` (what Redis and Mongo know about similar orders). Everything keyed is hashed
 * before it leaves this file: recipient names and household keys with the app secret, the email
 * and addresses for the high-risk list with high-risk.ts.
 */

export interface FactsSources {
  /** The gateway fingerprint of the card behind a vault token (stable across tokens of one card). */
  cardFingerprint(cardToken: string): Promise<string | undefined>;
  /** When a registered customer's account was opened; undefined when unknown (e.g. account closed). */
  accountCreatedAt?(customerId: string): Promise<Date | undefined>;
  /** Keyed name key (api/addresses/household.ts `nameKey` with the app secret). */
  nameKey(firstName: string, lastName: string): string;
  /** Key of the high-risk list hashes. */
  secret: string;
}

export interface SignalSources {
  tracker: VelocityTracker;
  highRiskMatches(hashes: { emailHash?: string | undefined; shippingAddressHashes: readonly string[] }): Promise<{ email: boolean; shippingAddress: boolean }>;
}

export async function buildOrderFacts(order: OrderDoc, sources: FactsSources): Promise<OrderFacts> {
  const shipping = order.shipments.map((s) => ({
    country: s.address.country,
    ...(s.address.state ? { state: s.address.state } : {}),
    postalCode: s.address.postalCode,
    householdKey: s.householdKey,
    recipientNameKey: sources.nameKey(s.recipient?.firstName ?? order.purchaser.firstName, s.recipient?.lastName ?? order.purchaser.lastName),
  }));
  // Guests get a customer record too, but it is not an account: account-age and many-cards rules are for accounts.
  const customerId = order.guest ? undefined : (order.customerId ?? undefined);
  const [cardFingerprint, accountCreatedAt] = await Promise.all([
    sources.cardFingerprint(order.payment.cardToken),
    customerId && sources.accountCreatedAt ? sources.accountCreatedAt(customerId) : Promise.resolve(undefined),
  ]);
  const ip = shopperIp(order);
  const avsResult = avsOf(order.payment.avs);
  const cvvResult = cvvOf(order.payment.codeMatch);
  const hashes = orderHighRiskHashes(sources.secret, { email: order.purchaser.email, shipping });
  return {
    orderId: order._id,
    channel: order.channel,
    placedAt: order.placedAt,
    totalCents: order.totals.totalCents,
    email: order.purchaser.email,
    ...(ip ? { ip } : {}),
    billing: {
      country: order.billingAddress.country,
      ...(order.billingAddress.state ? { state: order.billingAddress.state } : {}),
      postalCode: order.billingAddress.postalCode,
    },
    shipping,
    cardToken: order.payment.cardToken,
    ...(cardFingerprint ? { cardFingerprint } : {}),
    ...(customerId ? { customerId } : {}),
    ...(accountCreatedAt ? { accountCreatedAt } : {}),
    ...(avsResult ? { avsResult } : {}),
    ...(cvvResult ? { cvvResult } : {}),
    ...hashes,
  };
}

/**
 * Records the order in the velocity windows (idempotent per order id, so a repeated job counts
 * once) and gathers every signal the rule set reads.
 */
export async function gatherSignals(facts: OrderFacts, requirements: SignalRequirements, sources: SignalSources): Promise<FraudSignals> {
  const [tracked, highRisk] = await Promise.all([
    trackOrder(sources.tracker, facts, requirements),
    sources.highRiskMatches({ emailHash: facts.emailHash, shippingAddressHashes: facts.shippingAddressHashes }),
  ]);
  return {
    ...tracked,
    ...(facts.ip ? { ipCountry: lookupCountry(facts.ip) } : {}),
    highRisk,
  };
}

/**
 * Only a web shopper's own public address says anything about them. A phone order's request
 * address is the CSR's desk; a private or carrier-NAT address is our proxy or a shared exit
 * (a misconfigured trust-proxy would otherwise put every order on one IP and trip IP velocity).
 */
function shopperIp(order: OrderDoc): string | undefined {
  if (order.channel !== 'web' || !order.clientIp) return undefined;
  return isPublicIp(order.clientIp) ? order.clientIp : undefined;
}

/** The gateway adapter's AVS words (api/payments/gateway.ts) in the engine's vocabulary. */
function avsOf(value: string | null | undefined): AvsResult | undefined {
  switch (value) {
    case 'match':
    case 'street_only':
    case 'postal_only':
    case 'no_match':
    case 'unavailable':
      return value;
    case 'mismatch':
      return 'no_match';
    default:
      return undefined;
  }
}

function cvvOf(value: string | null | undefined): CvvResult | undefined {
  switch (value) {
    case 'match':
    case 'no_match':
    case 'not_checked':
    case 'unavailable':
      return value;
    case 'mismatch':
      return 'no_match';
    default:
      return undefined;
  }
}
