import { expect } from 'chai';
import { AppError, PaymentError, ServiceUnavailableError } from '../../platform/errors.ts';
import {
  createSimulatedGateway,
  paymentErrorForDecline,
  SIMULATED_TEST_CARDS,
  type AuthApproved,
  type AuthoriseRequest,
  type AuthResult,
} from '../../api/payments/gateway.ts';
import { luhnValid } from '../../api/vault/cards.ts';

const NOW = new Date('2026-06-15T10:00:00Z');
const clock = (): Date => NOW;
let keySeq = 0;

function request(pan: string, overrides: Partial<AuthoriseRequest> = {}): AuthoriseRequest {
  keySeq += 1;
  return {
    pan,
    expMonth: 12,
    expYear: 2028,
    cvv: '987',
    amountCents: 12_345,
    currency: 'USD',
    billing: { line1: '1 Mint Street', zip: '94103' },
    idempotencyKey: `idem-${keySeq}`,
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(AppError);
    return error as AppError;
  }
  expect.fail('expected the call to fail');
}

function approved(result: AuthResult): AuthApproved {
  expect(result.status).to.equal('approved');
  return result as AuthApproved;
}

describe('payments/gateway (simulated)', () => {
  describe('test cards', () => {
    it('lists only Luhn-valid numbers, each once', () => {
      const numbers = SIMULATED_TEST_CARDS.map((card) => card.number);
      expect(new Set(numbers).size).to.equal(numbers.length);
      for (const number of numbers) expect(luhnValid(number), number).to.equal(true);
      expect(numbers).to.include.members(['4111111111111111', '4242424242424242', '4000000000000002', '4000000000009995', '4000000000000010', '4000000000000101', '4000000000000119']);
    });

    for (const pan of ['4242424242424242', '4111111111111111', '5555555555554444']) {
      it(`approves ${pan} with matching AVS and CVV`, async () => {
        const result = approved(await createSimulatedGateway({ clock }).authorise(request(pan)));
        expect(result).to.include({ amountCents: 12_345, currency: 'USD', last4: pan.slice(-4), avs: 'match', cvv: 'match' });
        expect(result.authId).to.be.a('string').and.not.be.empty;
        expect(result.authorisedAt).to.equal(NOW);
      });
    }

    it('declines 4000000000000002 as card_declined', async () => {
      const result = await createSimulatedGateway({ clock }).authorise(request('4000000000000002'));
      expect(result).to.deep.equal({ status: 'declined', reason: 'card_declined', last4: '0002', declinedAt: NOW });
    });

    it('declines 4000000000009995 for insufficient funds', async () => {
      const result = await createSimulatedGateway({ clock }).authorise(request('4000000000009995'));
      expect(result).to.include({ status: 'declined', reason: 'insufficient_funds' });
    });

    it('approves 4000000000000010 with an AVS mismatch', async () => {
      const result = approved(await createSimulatedGateway({ clock }).authorise(request('4000000000000010')));
      expect(result).to.include({ avs: 'mismatch', cvv: 'match' });
    });

    it('approves 4000000000000101 with a CVV mismatch', async () => {
      const result = approved(await createSimulatedGateway({ clock }).authorise(request('4000000000000101')));
      expect(result).to.include({ avs: 'match', cvv: 'mismatch' });
    });

    it('times out on 4000000000000119, and a retry with the same key may try again', async () => {
      const gateway = createSimulatedGateway({ clock });
      const req = request('4000000000000119');
      const error = await rejection(gateway.authorise(req));
      expect(error).to.be.instanceOf(ServiceUnavailableError);
      expect(error.code).to.equal('payment.gateway_timeout');
      expect((await rejection(gateway.authorise(req))).code).to.equal('payment.gateway_timeout');
      expect((await gateway.snapshot()).authorisations).to.be.empty;
    });

    it('reports AVS unavailable without a billing address', async () => {
      const result = approved(await createSimulatedGateway({ clock }).authorise(request('4242424242424242', { billing: { line1: '', zip: '' } })));
      expect(result.avs).to.equal('unavailable');
    });

    it('declines bad numbers, expired cards and malformed CVVs', async () => {
      const gateway = createSimulatedGateway({ clock });
      expect(await gateway.authorise(request('4242424242424241'))).to.include({ reason: 'incorrect_number' });
      expect(await gateway.authorise(request('4242424242424242', { expMonth: 5, expYear: 2026 }))).to.include({ reason: 'expired_card' });
      expect(await gateway.authorise(request('4242424242424242', { cvv: '12' }))).to.include({ reason: 'incorrect_cvc' });
    });

    it('maps declines to customer-safe payment errors', async () => {
      const result = await createSimulatedGateway({ clock }).authorise(request('4000000000009995'));
      if (result.status !== 'declined') expect.fail('should decline');
      const error = paymentErrorForDecline(result);
      expect(error).to.be.instanceOf(PaymentError);
      expect(error.code).to.equal('payment.insufficient_funds');
      expect(error.kind).to.equal('payment');
      expect(error.message).not.to.match(/funds|balance/i);
    });

    it('validates the request itself', async () => {
      const gateway = createSimulatedGateway({ clock });
      const error = await rejection(gateway.authorise(request('4242424242424242', { amountCents: 0, currency: 'usd', idempotencyKey: '' })));
      expect(error.kind).to.equal('validation');
      expect(error.fields?.map((f) => f.path)).to.deep.equal(['amountCents', 'currency', 'idempotencyKey']);
    });
  });

  describe('idempotency', () => {
    it('returns the first result for a repeated key', async () => {
      const gateway = createSimulatedGateway({ clock });
      const req = request('4242424242424242');
      const first = approved(await gateway.authorise(req));
      const second = approved(await gateway.authorise({ ...req }));
      expect(second.authId).to.equal(first.authId);
      expect((await gateway.snapshot()).authorisations).to.have.length(1);
    });

    it('returns the first decline too', async () => {
      const gateway = createSimulatedGateway({ clock });
      const req = request('4000000000000002');
      expect(await gateway.authorise(req)).to.deep.equal(await gateway.authorise(req));
    });

    it('authorises once when the same key arrives concurrently', async () => {
      const gateway = createSimulatedGateway({ clock, latencyMs: 5 });
      const req = request('4242424242424242');
      const results = await Promise.all([gateway.authorise(req), gateway.authorise(req), gateway.authorise(req)]);
      expect(new Set(results.map((r) => approved(r).authId)).size).to.equal(1);
    });

    it('rejects a key reused for a different payment', async () => {
      const gateway = createSimulatedGateway({ clock });
      const req = request('4242424242424242');
      await gateway.authorise(req);
      const error = await rejection(gateway.authorise({ ...req, amountCents: 1 }));
      expect(error.code).to.equal('payment.idempotency_mismatch');
      expect(error.kind).to.equal('conflict');
    });
  });

  describe('capture, void, refund', () => {
    async function authorised(amountCents = 10_000) {
      const gateway = createSimulatedGateway({ clock });
      const auth = approved(await gateway.authorise(request('4242424242424242', { amountCents })));
      return { gateway, authId: auth.authId };
    }

    it('captures up to the authorised amount, once', async () => {
      const { gateway, authId } = await authorised();
      expect((await rejection(gateway.capture(authId, 10_001))).code).to.equal('payment.capture_exceeds_authorised');
      const capture = await gateway.capture(authId, 9_000);
      expect(capture).to.include({ authId, amountCents: 9_000, currency: 'USD' });
      expect(capture.capturedAt).to.equal(NOW);
      const again = await rejection(gateway.capture(authId, 1_000));
      expect(again.code).to.equal('payment.already_captured');
      expect(again.kind).to.equal('conflict');
    });

    it('lets only one of two concurrent captures win', async () => {
      const gateway = createSimulatedGateway({ clock, latencyMs: 5 });
      const { authId } = approved(await gateway.authorise(request('4242424242424242')));
      const outcomes = await Promise.allSettled([gateway.capture(authId, 100), gateway.capture(authId, 100)]);
      expect(outcomes.map((o) => o.status).sort()).to.deep.equal(['fulfilled', 'rejected']);
    });

    it('refuses unknown authorisations and invalid amounts', async () => {
      const { gateway, authId } = await authorised();
      const unknown = await rejection(gateway.capture('sim_auth_nope', 100));
      expect([unknown.kind, unknown.code]).to.deep.equal(['not_found', 'payment.auth_not_found']);
      expect((await rejection(gateway.void('sim_auth_nope'))).code).to.equal('payment.auth_not_found');
      expect((await rejection(gateway.capture(authId, 0))).kind).to.equal('validation');
      expect((await rejection(gateway.capture(authId, 1.5))).kind).to.equal('validation');
    });

    it('voids an authorisation, repeatably, after which it cannot be captured', async () => {
      const { gateway, authId } = await authorised();
      const first = await gateway.void(authId);
      expect(first).to.deep.equal({ authId, voidedAt: NOW });
      expect(await gateway.void(authId)).to.deep.equal(first);
      expect((await rejection(gateway.capture(authId, 100))).code).to.equal('payment.auth_voided');
    });

    it('will not void a captured payment', async () => {
      const { gateway, authId } = await authorised();
      await gateway.capture(authId, 100);
      expect((await rejection(gateway.void(authId))).code).to.equal('payment.already_captured');
    });

    it('refunds in parts up to the captured amount', async () => {
      const { gateway, authId } = await authorised();
      const { captureId } = await gateway.capture(authId, 5_000);
      expect(await gateway.refund(captureId, 2_000)).to.include({ captureId, amountCents: 2_000, refundedTotalCents: 2_000, currency: 'USD' });
      const over = await rejection(gateway.refund(captureId, 3_001));
      expect([over.kind, over.code]).to.deep.equal(['rule', 'payment.refund_exceeds_captured']);
      expect(over.details).to.deep.equal({ refundableCents: 3_000 });
      expect(await gateway.refund(captureId, 3_000)).to.include({ refundedTotalCents: 5_000 });
      expect((await rejection(gateway.refund(captureId, 1))).code).to.equal('payment.refund_exceeds_captured');
      expect((await rejection(gateway.refund('sim_cap_nope', 1))).code).to.equal('payment.capture_not_found');
    });
  });

  describe('card data', () => {
    it('keeps the last four digits only', async () => {
      const gateway = createSimulatedGateway({ clock });
      const pan = '4000000000000101';
      const cvv = '7319';
      const result = approved(await gateway.authorise(request(pan, { cvv, amountCents: 4_321 })));
      await gateway.capture(result.authId, 4_000);
      const remembered = JSON.stringify(await gateway.snapshot());
      expect(remembered).not.to.include(pan);
      expect(remembered).not.to.match(/"(pan|cvv|expMonth|expYear)"/);
      // Compare whole values: the CVV's digits may legitimately occur inside a random id.
      const leaves = (node: unknown): unknown[] => (node !== null && typeof node === 'object' ? Object.values(node).flatMap(leaves) : [node]);
      expect(leaves(JSON.parse(remembered)).map(String)).not.to.include(cvv);
      expect(JSON.stringify(result)).not.to.include(pan);
      expect((await gateway.snapshot()).authorisations[0]).to.include({ last4: '0101', state: 'captured' });
    });

    it('waits latencyMs before answering', async () => {
      const gateway = createSimulatedGateway({ latencyMs: 30 });
      const started = Date.now();
      await gateway.authorise(request('4242424242424242'));
      expect(Date.now() - started).to.be.at.least(25);
    });
  });
});
