import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { createFraudCheck, startFraudWorker } from '../../workers/fraud/worker.ts';
import { createVelocityTracker } from '../../workers/fraud/velocity.ts';
import { startWorkers, type RunningWorkers } from '../../workers/start.ts';
import { createProduct } from '../support/fixtures.ts';
import { api } from '../support/http.ts';
import { createTestContext, type TestContext } from '../support/infra.ts';
import { placeWebOrder, shopperOrderBody, uniqueShopper, waitForJob, waitForStatus } from '../support/order-flow.ts';
import { createStaffUser, loginStaff } from '../support/staff-sessions.ts';

describe('fraud worker: every order is scored before any money moves', function () {
  this.timeout(90_000);
  let ctx: TestContext;
  let workers: RunningWorkers;
  before(async () => {
    ctx = await createTestContext();
    workers = await startWorkers(ctx.runtime);
  });
  after(async () => {
    await workers?.close();
    await ctx?.close();
  });

  it('clears a clean web order, which the payment worker then authorises and captures', async () => {
    const product = await createProduct(ctx.services, { totalStock: 10 });
    const placed = await placeWebOrder(ctx, uniqueShopper(), [{ sku: product.sku, quantity: 2 }]);
    const order = await waitForStatus(ctx, placed.body.orderNumber, 'paid');

    expect(order.fraud).to.deep.include({ score: 0, decision: 'clear', ruleSetVersion: 1 });
    expect(order.fraud.fired).to.deep.equal([]);
    expect(order.statusHistory.map((h) => h.to)).to.deep.equal(['pending_fraud_check', 'payment_pending', 'paid']);
    expect(order.statusHistory[1]!.actor).to.equal('system:fraud');
    expect(order.payment.authId).to.be.a('string');
    expect(order.payment.captureId).to.be.a('string');
    expect(await ctx.services.inventory.getStock(product.sku)).to.equal(8);

    const assessment = await ctx.services.fraud.assessmentOf(order._id);
    expect(assessment).to.deep.include({ score: 0, decision: 'clear', ruleSetVersion: 1, reviewThreshold: 50 });
    expect(assessment!.unevaluated).to.deep.equal([]);
    const signals = assessment!.signals as { velocity: { dimension: string; count: number }[]; highRisk: unknown; ipCountry?: unknown };
    expect(signals.highRisk).to.deep.equal({ email: false, shippingAddress: false });
    expect(signals.velocity.find((v) => v.dimension === 'email')?.count).to.equal(1);
    // The test client is on loopback: a non-public address says nothing about the shopper.
    expect(signals).not.to.have.property('ipCountry');
  });

  it('scores phone and subscription orders the same way', async () => {
    const product = await createProduct(ctx.services, { totalStock: 10 });
    const csr = await createStaffUser(ctx, 'csr');
    const token = await loginStaff(ctx, csr);
    const phone = await api(ctx.baseUrl, 'POST', '/api/staff/orders', { token, body: { customerId: null, order: shopperOrderBody(uniqueShopper(), [{ sku: product.sku, quantity: 1 }]) } });
    expect(phone.status, JSON.stringify(phone.body)).to.equal(201);
    const subscription = await ctx.services.checkout.placeOrder(shopperOrderBody(uniqueShopper(), [{ sku: product.sku, quantity: 1 }]), { channel: 'subscription', customerId: null });

    for (const [orderNumber, channel] of [[phone.body.orderNumber, 'phone'], [subscription.orderNumber, 'subscription']] as const) {
      const order = await waitForStatus(ctx, orderNumber, 'paid');
      expect(order.channel).to.equal(channel);
      expect(order.fraud.ruleSetVersion).to.equal(1);
      expect(order.fraud.scoredAt).to.be.instanceOf(Date);
      expect(order.statusHistory.map((h) => h.to)).to.deep.equal(['pending_fraud_check', 'payment_pending', 'paid']);
    }
  });

  it('holds an order that reaches the review threshold, with explanations, and never declines it', async () => {
    // A failed security-code check (40) on an order of at least $2,500 (10) is exactly the threshold (50).
    const product = await createProduct(ctx.services, { totalStock: 10, priceCents: 250_000 });
    const placed = await placeWebOrder(ctx, uniqueShopper({ cardNumber: '4000000000000101' }), [{ sku: product.sku, quantity: 1 }]);
    const order = await waitForStatus(ctx, placed.body.orderNumber, 'fraud_review');

    expect(order.fraud.score).to.equal(50);
    expect(order.fraud.decision).to.equal('review');
    expect(order.fraud.fired.map((f) => f.ruleId)).to.have.members(['order-value-high', 'cvv-no-match']);
    expect(order.fraud.fired.find((f) => f.ruleId === 'cvv-no-match')!.explanation).to.equal('Card security code check: no match');
    expect(order.fraud.fired.find((f) => f.ruleId === 'order-value-high')!.explanation).to.equal('Order total $2,504.95 is at or above $2,500.00');
    expect(order.payment.authId).to.equal(null);

    const hold = order.outbox.find((e) => e.name === 'email' && e.payload.template === 'fraud_hold');
    expect(hold, 'fraud_hold email in the outbox').to.not.equal(undefined);
    expect(await ctx.services.core.queues.queue('email').getJob(hold!.id)).to.not.equal(undefined);
    const events = await ctx.services.core.events.readSince('0', 10_000);
    expect(events.some((e) => e.type === 'order.review_required' && (e.data as { orderId: string }).orderId === order._id)).to.equal(true);
  });

  it('counts orders per card: the fourth order on one card within the hour fires the velocity rule', async () => {
    const product = await createProduct(ctx.services, { totalStock: 20 });
    const card = uniqueShopper().cardNumber;
    let last;
    for (let i = 0; i < 4; i += 1) {
      const placed = await placeWebOrder(ctx, uniqueShopper({ cardNumber: card }), [{ sku: product.sku, quantity: 1 }]);
      last = await waitForStatus(ctx, placed.body.orderNumber, 'paid');
    }
    const fired = last!.fraud.fired.find((f) => f.ruleId === 'velocity-card-1h');
    expect(fired?.explanation).to.equal('4 orders from this card in 1 h (limit 3)');
    // 30 points is below review: velocity alone does not hold an order.
    expect(last!.fraud.score).to.equal(30);
  });
});

describe('fraud check: a repeated check scores once', function () {
  this.timeout(60_000);
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestContext();
  });
  after(async () => ctx?.close());

  it('scores and records the order once when two checks run at the same time', async () => {
    const product = await createProduct(ctx.services);
    const shopper = uniqueShopper();
    const placed = await placeWebOrder(ctx, shopper, [{ sku: product.sku, quantity: 1 }]);
    const orderId = (await ctx.services.orders.findByNumber(placed.body.orderNumber))!._id;

    const check = createFraudCheck(ctx.services);
    await Promise.all([check(orderId), check(orderId)]);
    expect(await check(orderId)).to.deep.equal({ outcome: 'skipped', status: 'payment_pending' });

    const order = await ctx.services.orders.get(orderId);
    expect(order.statusHistory.filter((h) => h.to === 'payment_pending')).to.have.length(1);
    expect(order.outbox.filter((e) => e.name === 'payment-authorise')).to.have.length(1);
    const { core } = ctx.services;
    const tracker = createVelocityTracker({ redis: core.redis, prefix: core.redisPrefix, secret: core.secrets.appSecret });
    expect(await tracker.count('email', shopper.email, 3600, order.placedAt)).to.equal(1);
  });

  it('completes a second fraud-check job for an order already scored without touching it', async () => {
    const product = await createProduct(ctx.services);
    const shopper = uniqueShopper();
    const placed = await placeWebOrder(ctx, shopper, [{ sku: product.sku, quantity: 1 }]);
    const stored = (await ctx.services.orders.findByNumber(placed.body.orderNumber))!;
    const firstJobId = stored.outbox.find((e) => e.name === 'fraud-check')!.id;
    const worker = startFraudWorker(ctx.runtime, { concurrency: 2 });
    try {
      await waitForJob(ctx, 'fraud-check', firstJobId, 'completed');
      const scored = await ctx.services.orders.get(stored._id);
      const duplicateId = `dup-${randomUUID()}`;
      await ctx.services.core.queues.enqueue('fraud-check', { orderId: stored._id, eventId: duplicateId }, { jobId: duplicateId });
      const duplicate = await waitForJob(ctx, 'fraud-check', duplicateId, 'completed');
      expect(duplicate.returnvalue).to.deep.equal({ outcome: 'skipped', status: 'payment_pending' });
      const after = await ctx.services.orders.get(stored._id);
      expect(after.version).to.equal(scored.version);
      expect(after.fraud.scoredAt!.getTime()).to.equal(scored.fraud.scoredAt!.getTime());
      const { core } = ctx.services;
      const tracker = createVelocityTracker({ redis: core.redis, prefix: core.redisPrefix, secret: core.secrets.appSecret });
      expect(await tracker.count('email', shopper.email, 3600, after.placedAt)).to.equal(1);
    } finally {
      await worker.close();
    }
  });
});
