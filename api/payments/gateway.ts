import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BusinessRuleError,
  ConflictError,
  NotFoundError,
  PaymentError,
  ServiceUnavailableError,
  ValidationError,
  type FieldIssue,
} from '../../platform/errors.ts';
import { createMemoryGatewayStore, type SimulatedGatewayStore } from './simulated-store.ts';
import { detectBrand, expiryValid, last4, luhnValid, normalizePan, type DetectedBrand } from '../vault/cards.ts';

/**
 * The seam between mintdesk and a card processor. Services depend on this interface only; the
 * simulated implementation below backs development, tests and demos, a real adapter backs production.
 * Declines are results (the customer can try another card); a processor that does not answer is a
 * ServiceUnavailableError('payment.gateway_timeout') because the outcome is unknown and must be retried
 * with the same idempotencyKey (or voided), never re-submitted under a new one.
 */

export interface BillingAddress {
  line1: string;
  zip: string;
}

export interface AuthoriseRequest {
  pan: string;
  expMonth: number;
  expYear: number;
  /**
   * Absent for card-on-file charges (the authorisation after fraud screening, subscription orders):
   * the security code was checked once by `verify` at checkout and is never kept.
   */
  cvv?: string;
  amountCents: number;
  /** ISO 4217, upper case (`USD`). */
  currency: string;
  /** Sent for address verification (AVS). */
  billing: BillingAddress;
  /** One per checkout attempt: a retry with the same key returns the first result instead of charging twice. */
  idempotencyKey: string;
}

export type AvsResult = 'match' | 'mismatch' | 'unavailable';
export type CvvResult = 'match' | 'mismatch' | 'not_checked';
export type DeclineReason = 'card_declined' | 'insufficient_funds' | 'expired_card' | 'incorrect_number' | 'incorrect_cvc';

export interface AuthApproved {
  status: 'approved';
  authId: string;
  amountCents: number;
  currency: string;
  last4: string;
  avs: AvsResult;
  cvv: CvvResult;
  authorisedAt: Date;
}

export interface AuthDeclined {
  status: 'declined';
  reason: DeclineReason;
  last4: string;
  declinedAt: Date;
}

export type AuthResult = AuthApproved | AuthDeclined;

export interface CaptureResult {
  captureId: string;
  authId: string;
  amountCents: number;
  currency: string;
  capturedAt: Date;
}

export interface VoidResult {
  authId: string;
  voidedAt: Date;
}

export interface RefundResult {
  refundId: string;
  captureId: string;
  amountCents: number;
  currency: string;
  /** Sum of all refunds on this capture so far, this one included. */
  refundedTotalCents: number;
  refundedAt: Date;
}

/** A zero-amount account verification: card, security code and address checked, no money held. */
export type VerifyRequest = Omit<AuthoriseRequest, 'amountCents' | 'cvv'> & { cvv: string };
export type VerifyResult =
  | { status: 'verified'; last4: string; avs: AvsResult; cvv: CvvResult }
  | { status: 'declined'; reason: DeclineReason; last4: string };

export interface PaymentGateway {
  /**
   * Checks the card at checkout while the shopper is present with the security code. Fraud
   * screening runs before any money is authorised, and the CVV may not be stored until then.
   */
  verify(req: VerifyRequest): Promise<VerifyResult>;
  authorise(req: AuthoriseRequest): Promise<AuthResult>;
  /** Captures up to the authorised amount, once (a partial capture releases the rest). */
  capture(authId: string, amountCents: number): Promise<CaptureResult>;
  /** Releases an uncaptured authorisation; repeating a void is harmless. */
  void(authId: string): Promise<VoidResult>;
  /** Refunds part or all of a capture; several partial refunds may not exceed the captured amount. */
  refund(captureId: string, amountCents: number): Promise<RefundResult>;
}

const DECLINE_MESSAGES: Readonly<Record<DeclineReason, string>> = {
  card_declined: 'Your card was declined. Please use another card.',
  insufficient_funds: 'Your card was declined. Please use another card.', // do not tell a third party about the balance
  expired_card: 'Your card has expired.',
  incorrect_number: 'The card number is incorrect.',
  incorrect_cvc: 'The security code is incorrect.',
};

/** The PaymentError a service throws for a decline (`payment.card_declined`, …), with a customer-safe message. */
export function paymentErrorForDecline(result: AuthDeclined): PaymentError {
  return new PaymentError(`payment.${result.reason}`, DECLINE_MESSAGES[result.reason]);
}

// ---------------------------------------------------------------------------------------------
// Simulated gateway

export type SimulatedScenario =
  | 'approve'
  | 'decline_card_declined'
  | 'decline_insufficient_funds'
  | 'approve_avs_mismatch'
  | 'approve_cvv_mismatch'
  | 'timeout';

export interface SimulatedTestCard {
  number: string;
  brand: DetectedBrand;
  scenario: SimulatedScenario;
  description: string;
}

const TEST_CARDS: SimulatedTestCard[] = [
  { number: '4242424242424242', brand: 'visa', scenario: 'approve', description: 'Approved.' },
  { number: '4111111111111111', brand: 'visa', scenario: 'approve', description: 'Approved.' },
  { number: '4000000000000002', brand: 'visa', scenario: 'decline_card_declined', description: 'Declined (card_declined).' },
  { number: '4000000000009995', brand: 'visa', scenario: 'decline_insufficient_funds', description: 'Declined (insufficient_funds).' },
  { number: '4000000000000010', brand: 'visa', scenario: 'approve_avs_mismatch', description: 'Approved, but the billing address does not match (AVS mismatch).' },
  { number: '4000000000000101', brand: 'visa', scenario: 'approve_cvv_mismatch', description: 'Approved, but the security code does not match (CVV mismatch).' },
  { number: '4000000000000119', brand: 'visa', scenario: 'timeout', description: 'The gateway does not answer (payment.gateway_timeout).' },
];
/** Shown by docs, tests and the storefront's test mode. Any other valid card number is approved. */
export const SIMULATED_TEST_CARDS: readonly Readonly<SimulatedTestCard>[] = Object.freeze(TEST_CARDS.map((card) => Object.freeze(card)));

const SCENARIO_BY_NUMBER: ReadonlyMap<string, SimulatedScenario> = new Map(SIMULATED_TEST_CARDS.map((card) => [card.number, card.scenario]));

export interface SimulatedGatewayOptions {
  clock?: () => Date;
  /**
   * Where authorisations and captures are kept. Every process of one deployment must share it
   * (the Redis store) or a refund in the API cannot find a worker's capture; in memory by default.
   */
  store?: SimulatedGatewayStore;
  /** Delay before every answer, to exercise spinners, timeouts and races. */
  latencyMs?: number;
}

/** What the simulator remembers: never the PAN or CVV, only the last four digits. */
export interface SimulatedAuthorisation {
  authId: string;
  amountCents: number;
  currency: string;
  last4: string;
  state: 'authorised' | 'captured' | 'voided';
  captureId?: string;
  voidedAt?: Date;
}

export interface SimulatedCapture {
  captureId: string;
  authId: string;
  amountCents: number;
  currency: string;
  refundedCents: number;
}

export interface SimulatedGateway extends PaymentGateway {
  /** Copies of the remembered state, for tests and the dev console. */
  snapshot(): Promise<{ authorisations: SimulatedAuthorisation[]; captures: SimulatedCapture[] }>;
}

/** The parts of a request the idempotency check compares; enough to spot a reused key, nothing secret. */
interface RequestSummary {
  amountCents: number;
  currency: string;
  last4: string;
}

type Outcome = { kind: 'approve'; avs: AvsResult; cvv: CvvResult } | { kind: 'decline'; reason: DeclineReason } | { kind: 'timeout' };

function checkAmount(amountCents: number, path: string): void {
  if (!Number.isSafeInteger(amountCents) || amountCents <= 0) {
    throw new ValidationError('The amount must be a positive whole number of cents.', [
      { path, code: 'payment.amount_invalid', message: 'Enter a positive amount in cents.' },
    ]);
  }
}

function checkAuthoriseRequest(req: AuthoriseRequest): void {
  const issues: FieldIssue[] = [];
  if (!Number.isSafeInteger(req.amountCents) || req.amountCents <= 0) {
    issues.push({ path: 'amountCents', code: 'payment.amount_invalid', message: 'Enter a positive amount in cents.' });
  }
  if (typeof req.currency !== 'string' || !/^[A-Z]{3}$/.test(req.currency)) {
    issues.push({ path: 'currency', code: 'payment.currency_invalid', message: 'Use an ISO 4217 currency code such as USD.' });
  }
  if (typeof req.idempotencyKey !== 'string' || req.idempotencyKey.length === 0 || req.idempotencyKey.length > 255) {
    issues.push({ path: 'idempotencyKey', code: 'payment.idempotency_key_invalid', message: 'An idempotency key of 1-255 characters is required.' });
  }
  if (typeof req.pan !== 'string') issues.push({ path: 'pan', code: 'required', message: 'The card number is required.' });
  if (issues.length > 0) throw new ValidationError('The payment request is invalid.', issues);
}

function avsFor(billing: BillingAddress | undefined): AvsResult {
  return billing?.zip?.trim() && billing.line1?.trim() ? 'match' : 'unavailable';
}

/** Decides the outcome while the card data is in scope; only the outcome travels further. */
function decideOutcome(req: AuthoriseRequest, now: Date): Outcome {
  const pan = normalizePan(req.pan);
  if (!/^\d{12,19}$/.test(pan) || !luhnValid(pan) || detectBrand(pan) === 'unknown') return { kind: 'decline', reason: 'incorrect_number' };
  if (!expiryValid(req.expMonth, req.expYear, now)) return { kind: 'decline', reason: 'expired_card' };
  if (req.cvv !== undefined && (typeof req.cvv !== 'string' || !/^\d{3,4}$/.test(req.cvv))) return { kind: 'decline', reason: 'incorrect_cvc' };
  const avs = avsFor(req.billing);
  const cvvChecked: CvvResult = req.cvv === undefined ? 'not_checked' : 'match';
  switch (SCENARIO_BY_NUMBER.get(pan) ?? 'approve') {
    case 'approve':
      return { kind: 'approve', avs, cvv: cvvChecked };
    case 'decline_card_declined':
      return { kind: 'decline', reason: 'card_declined' };
    case 'decline_insufficient_funds':
      return { kind: 'decline', reason: 'insufficient_funds' };
    case 'approve_avs_mismatch':
      return { kind: 'approve', avs: 'mismatch', cvv: cvvChecked };
    case 'approve_cvv_mismatch':
      return { kind: 'approve', avs, cvv: req.cvv === undefined ? 'not_checked' : 'mismatch' };
    case 'timeout':
      return { kind: 'timeout' };
  }
}

function sameRequest(a: RequestSummary, b: RequestSummary): boolean {
  return a.amountCents === b.amountCents && a.currency === b.currency && a.last4 === b.last4;
}

/**
 * A processor whose behaviour is fixed by the card number (SIMULATED_TEST_CARDS). State changes are
 * atomic in the store after the simulated latency, so concurrent calls race the way they would
 * against a real processor (one of two concurrent captures wins). Authorisation idempotency keys
 * are remembered by this process only: retries of one authorisation come from the worker that
 * owns the job.
 */
export function createSimulatedGateway(options: SimulatedGatewayOptions = {}): SimulatedGateway {
  const clock = options.clock ?? (() => new Date());
  const latencyMs = options.latencyMs ?? 0;
  const store = options.store ?? createMemoryGatewayStore();
  const idempotency = new Map<string, { summary: RequestSummary; result: Promise<AuthResult> }>();

  const wait = async (): Promise<void> => {
    if (latencyMs > 0) await sleep(latencyMs);
  };

  async function settle(outcome: Outcome, summary: RequestSummary): Promise<AuthResult> {
    await wait();
    if (outcome.kind === 'timeout') {
      throw new ServiceUnavailableError('payment.gateway_timeout', 'The payment processor did not answer in time; try again shortly.');
    }
    if (outcome.kind === 'decline') return { status: 'declined', reason: outcome.reason, last4: summary.last4, declinedAt: clock() };
    const authId = `sim_auth_${randomUUID()}`;
    await store.saveAuthorisation({ authId, ...summary, state: 'authorised' });
    return { status: 'approved', authId, ...summary, avs: outcome.avs, cvv: outcome.cvv, authorisedAt: clock() };
  }

  async function findAuthorisation(authId: string): Promise<SimulatedAuthorisation> {
    const auth = await store.authorisation(authId);
    if (!auth) throw new NotFoundError('authorisation', 'payment.auth_not_found', 'No such authorisation.');
    return auth;
  }

  function refuseSettled(auth: SimulatedAuthorisation, attempted: 'capture' | 'void'): never {
    if (auth.state === 'captured') {
      throw new ConflictError('payment.already_captured', attempted === 'capture' ? 'This authorisation has already been captured.' : 'A captured payment must be refunded, not voided.');
    }
    throw new ConflictError('payment.auth_voided', 'This authorisation was voided and cannot be captured.');
  }

  return {
    async verify(req) {
      const pan = normalizePan(req.pan);
      const outcome = decideOutcome({ ...req, amountCents: 0 }, clock());
      const summaryLast4 = last4(pan);
      await wait();
      if (outcome.kind === 'timeout') {
        throw new ServiceUnavailableError('payment.gateway_timeout', 'The payment processor did not answer in time; try again shortly.');
      }
      if (outcome.kind === 'decline') return { status: 'declined', reason: outcome.reason, last4: summaryLast4 };
      return { status: 'verified', last4: summaryLast4, avs: outcome.avs, cvv: outcome.cvv };
    },

    async authorise(req) {
      checkAuthoriseRequest(req);
      const summary: RequestSummary = { amountCents: req.amountCents, currency: req.currency, last4: last4(req.pan) };
      const previous = idempotency.get(req.idempotencyKey);
      if (previous) {
        if (!sameRequest(previous.summary, summary)) {
          throw new ConflictError('payment.idempotency_mismatch', 'This idempotency key was already used for a different payment.');
        }
        return previous.result;
      }
      const key = req.idempotencyKey; // closures below must not capture `req`: it holds the PAN and CVV
      const entry = { summary, result: settle(decideOutcome(req, clock()), summary) };
      idempotency.set(key, entry);
      // An unanswered attempt left no trace at the processor, so a retry with the same key may try again.
      entry.result.catch(() => {
        if (idempotency.get(key) === entry) idempotency.delete(key);
      });
      return entry.result;
    },

    async capture(authId, amountCents) {
      checkAmount(amountCents, 'amountCents');
      await wait();
      const auth = await findAuthorisation(authId);
      if (auth.state !== 'authorised') refuseSettled(auth, 'capture');
      if (amountCents > auth.amountCents) {
        throw new BusinessRuleError('payment.capture_exceeds_authorised', 'Cannot capture more than was authorised.', {
          authorisedCents: auth.amountCents,
        });
      }
      const captureId = `sim_cap_${randomUUID()}`;
      // The capture is written first: a capture record nobody settled onto is unreachable and harmless.
      await store.saveCapture({ captureId, authId, amountCents, currency: auth.currency, refundedCents: 0 });
      if (!(await store.settleAuthorisation(authId, { state: 'captured', captureId }))) refuseSettled(await findAuthorisation(authId), 'capture');
      return { captureId, authId, amountCents, currency: auth.currency, capturedAt: clock() };
    },

    async void(authId) {
      await wait();
      const voidedAt = clock();
      if (await store.settleAuthorisation(authId, { state: 'voided', voidedAt })) return { authId, voidedAt };
      const auth = await findAuthorisation(authId);
      // Voiding twice answers like the first void did.
      if (auth.state === 'voided' && auth.voidedAt) return { authId, voidedAt: auth.voidedAt };
      refuseSettled(auth, 'void');
    },

    async refund(captureId, amountCents) {
      checkAmount(amountCents, 'amountCents');
      await wait();
      const capture = await store.capture(captureId);
      if (!capture) throw new NotFoundError('capture', 'payment.capture_not_found', 'No such capture.');
      const refundedTotalCents = await store.addRefund(captureId, amountCents);
      if (refundedTotalCents === undefined) {
        const current = (await store.capture(captureId)) ?? capture;
        throw new BusinessRuleError('payment.refund_exceeds_captured', 'Cannot refund more than was captured.', { refundableCents: current.amountCents - current.refundedCents });
      }
      return {
        refundId: `sim_ref_${randomUUID()}`,
        captureId,
        amountCents,
        currency: capture.currency,
        refundedTotalCents,
        refundedAt: clock(),
      };
    },

    snapshot: () => store.snapshot(),
  };
}
