import { expect } from 'chai';
import { createSimulatedGateway, type AuthoriseRequest } from '../../api/payments/gateway.ts';
import { createRedisGatewayStore } from '../../api/payments/simulated-store.ts';
import { createTestContext, uniqueName, type TestContext } from '../support/infra.ts';

/**
 * The simulated processor as separate processes see it: the payment worker authorises and
 * captures, the API (a staff cancel) refunds or voids. Two gateways over one Redis store stand for
 * the two processes.
 */
describe('simulated payment gateway shared through Redis', function () {
  this.timeout(60_000);
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestContext({ listen: false });
  });
  after(async () => ctx?.close());

  const processes = () => {
    const store = () => createRedisGatewayStore({ redis: ctx.services.core.redis, prefix: `${ctx.redisPrefix}:${uniqueName('gw')}` });
    const shared = store();
    return { worker: createSimulatedGateway({ store: shared }), api: createSimulatedGateway({ store: shared }), elsewhere: createSimulatedGateway({ store: store() }) };
  };
  const request = (idempotencyKey: string, amountCents = 5_000): AuthoriseRequest => ({
    pan: '4242424242424242',
    expMonth: 12,
    expYear: 2031,
    amountCents,
    currency: 'USD',
    billing: { line1: '1 Mint Street', zip: '94103' },
    idempotencyKey,
  });
  const approvedAuthId = async (gateway: ReturnType<typeof createSimulatedGateway>, key: string) => {
    const result = await gateway.authorise(request(key));
    if (result.status !== 'approved') throw new Error('expected an approval');
    return result.authId;
  };
  const codeOf = (promise: Promise<unknown>) => promise.then(() => 'ok', (error: { code?: string }) => error.code);

  it('refunds in one process what another captured, and never more than was captured', async () => {
    const { worker, api, elsewhere } = processes();
    const authId = await approvedAuthId(worker, 'order-1');
    const capture = await worker.capture(authId, 5_000);
    expect(await codeOf(elsewhere.refund(capture.captureId, 1_000)), 'a gateway on another store').to.equal('payment.capture_not_found');
    expect((await api.refund(capture.captureId, 3_000)).refundedTotalCents).to.equal(3_000);
    expect(await codeOf(api.refund(capture.captureId, 2_001))).to.equal('payment.refund_exceeds_captured');
    expect((await worker.refund(capture.captureId, 2_000)).refundedTotalCents).to.equal(5_000);
    const remembered = await api.snapshot();
    expect(remembered.captures).to.deep.equal([{ captureId: capture.captureId, authId, amountCents: 5_000, currency: 'USD', refundedCents: 5_000 }]);
    expect(remembered.authorisations).to.have.length(1);
    expect(remembered.authorisations[0]).to.include({ authId, state: 'captured', captureId: capture.captureId, last4: '4242' });
    expect(JSON.stringify(remembered)).not.to.include('4242424242424242');
  });

  it('lets exactly one of a capture and a void racing from two processes win', async () => {
    for (let round = 0; round < 10; round++) {
      const { worker, api } = processes();
      const authId = await approvedAuthId(worker, `race-${round}`);
      const outcomes = await Promise.all([codeOf(worker.capture(authId, 5_000)), codeOf(api.void(authId))]);
      expect(outcomes.filter((outcome) => outcome === 'ok'), outcomes.join()).to.have.length(1);
      const state = (await api.snapshot()).authorisations[0]!.state;
      expect(state).to.equal(outcomes[0] === 'ok' ? 'captured' : 'voided');
      // A second void answers like the first; capturing a voided authorisation is refused.
      if (state === 'voided') {
        expect((await worker.void(authId)).authId).to.equal(authId);
        expect(await codeOf(worker.capture(authId, 100))).to.equal('payment.auth_voided');
      } else {
        expect(await codeOf(api.void(authId))).to.equal('payment.already_captured');
      }
    }
  });
});
