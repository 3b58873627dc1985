import { expect } from 'chai';
import { CALL_SCRIPTS, driveSimulatedCalls } from '../../bench/ivr/call-scripts.ts';
import { createIvrContext, insertOrder, PUBLIC_BASE, type IvrTestContext } from './ivr-support.ts';

/** The benchmark's driver: many simulated calls through real menu paths, all of them healthy. */
describe('IVR load driver', function () {
  this.timeout(120_000);
  let ctx: IvrTestContext;
  before(async () => {
    ctx = await createIvrContext();
  });
  after(async () => ctx?.close());

  it('drives every script concurrently with signed requests and real order lookups', async () => {
    const orders = await Promise.all([insertOrder(ctx, { zip: '20220' }), insertOrder(ctx, { zip: '94105', status: 'shipped', shipments: [{ carrier: 'USPS', shippedAt: new Date('2026-11-25T15:00:00Z') }] })]);
    const result = await driveSimulatedCalls({
      publicBaseUrl: PUBLIC_BASE,
      connectTo: ctx.baseUrl,
      authToken: ctx.runtime.phone.authToken,
      calls: CALL_SCRIPTS.length * 2,
      concurrency: 6,
      orders: orders.map((o) => ({ orderNumber: o.orderNumber, zip: o.billingAddress.postalCode })),
    });
    expect(result.failed, JSON.stringify(result.failed)).to.deep.equal([]);
    expect(result.completed).to.equal(CALL_SCRIPTS.length * 2);
    for (const script of CALL_SCRIPTS) expect(result.byScript[script], script).to.equal(2);
    expect(result.latenciesMs).to.have.length(result.requests);
    const sorted = [...result.latenciesMs].sort((a, b) => a - b);
    console.log(`      ${result.requests} webhook requests in ${result.durationMs} ms; p50 ${sorted[Math.floor(sorted.length / 2)]} ms, p99 ${sorted[Math.floor(sorted.length * 0.99)]} ms (informational)`);
    const records = await ctx.services.core.mongo.db!.collection('ivr_calls').countDocuments({ endedAt: { $ne: null } });
    expect(records).to.equal(CALL_SCRIPTS.length * 2);
  });
});
