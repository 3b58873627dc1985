import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { AuthoriseRequest, AuthResult, SimulatedGateway } from '../../api/payments/gateway.ts';
import { ServiceUnavailableError } from '../../platform/errors.ts';
import { startWorkers, type RunningWorkers } from '../../workers/start.ts';
import { createProduct } from '../support/fixtures.ts';
import { createTestContext, type TestContext } from '../support/infra.ts';
import { placeWebOrder, uniqueShopper, waitForJob, waitForStatus } from '../support/order-flow.ts';

describe('payment worker: authorise and capture after fraud screening', function () {
  this.timeout(90_000);
  let ctx: TestContext;
  let workers: RunningWorkers;
  let gateway: SimulatedGateway;
  let realAuthorise: SimulatedGateway['authorise'];

  before(async () => {
    ctx = await createTestContext();
    gateway = ctx.services.payments.gateway as SimulatedGateway;
    realAuthorise = gateway.authorise;
    workers = await startWorkers(ctx.runtime);
  });
  afterEach(() => {
    gateway.authorise = realAuthorise;
  });
  after(async () => {
    await workers?.close();
    await ctx?.close();
  });

  /** Lets `decide` answer for one order's authorisation (by amount), the real gateway for the rest. */
  function interceptAuthorisation(amountCents: number, decide: (req: AuthoriseRequest, call: number) => Promise<AuthResult> | undefined) {
    let calls = 0;
    gateway.authorise = async (req) => {
      if (req.amountCents !== amountCents) return realAuthorise(req);
      calls += 1;
      return decide(req, calls) ?? realAuthorise(req);
    };
    return () => calls;
  }

  it('captures the order total once and marks the order paid; a repeated job changes nothing', async () => {
    const product = await createProduct(ctx.services, { priceCents: 12_300 });
    const placed = await placeWebOrder(ctx, uniqueShopper(), [{ sku: product.sku, quantity: 1 }]);
    const order = await waitForStatus(ctx, placed.body.orderNumber, 'paid');
    const capture = (await gateway.snapshot()).captures.find((c) => c.captureId === order.payment.captureId);
    expect(capture).to.deep.include({ authId: order.payment.authId, amountCents: order.totals.totalCents });

    const capturesBefore = (await gateway.snapshot()).captures.length;
    const jobId = `again-${randomUUID()}`;
    await ctx.services.core.queues.enqueue('payment-authorise', { orderId: order._id, eventId: jobId }, { jobId });
    const job = await waitForJob(ctx, 'payment-authorise', jobId, 'completed');
    expect(job.returnvalue).to.deep.equal({ status: 'paid' });
    expect((await gateway.snapshot()).captures.length).to.equal(capturesBefore);
    const after = await ctx.services.orders.get(order._id);
    expect(after.payment.captureId).to.equal(order.payment.captureId);
    expect(after.statusHistory.filter((h) => h.to === 'paid')).to.have.length(1);
  });

  it('retries a gateway timeout with backoff and then gets paid, with one hold', async () => {
    const product = await createProduct(ctx.services, { priceCents: 23_400 });
    const calls = interceptAuthorisation(23_400 + 495, (_req, call) => {
      if (call === 1) throw new ServiceUnavailableError('payment.gateway_timeout', 'The payment processor did not answer in time; try again shortly.');
      return undefined;
    });
    const placed = await placeWebOrder(ctx, uniqueShopper(), [{ sku: product.sku, quantity: 1 }]);
    const order = await waitForStatus(ctx, placed.body.orderNumber, 'paid');
    expect(calls()).to.equal(2);
    const jobId = order.outbox.find((e) => e.name === 'payment-authorise')!.id;
    const job = await ctx.services.core.queues.queue('payment-authorise').getJob(jobId);
    expect(job!.attemptsMade).to.be.greaterThanOrEqual(1);
    expect((await gateway.snapshot()).authorisations.filter((a) => a.amountCents === order.totals.totalCents)).to.have.length(1);
  });

  it('declines the order when the issuer declines: stock back, payment_failed email, single-use card forgotten', async () => {
    const product = await createProduct(ctx.services, { priceCents: 34_500, totalStock: 5 });
    interceptAuthorisation(2 * 34_500 + 495, async (req) => ({ status: 'declined', reason: 'insufficient_funds', last4: req.pan.slice(-4), declinedAt: new Date() }));
    const placed = await placeWebOrder(ctx, uniqueShopper(), [{ sku: product.sku, quantity: 2 }]);
    expect(await ctx.services.inventory.getStock(product.sku)).to.equal(3);
    const order = await waitForStatus(ctx, placed.body.orderNumber, 'declined');

    expect(order.payment.declineReason).to.equal('insufficient_funds');
    expect(order.payment.captureId).to.equal(null);
    expect(order.statusHistory.at(-1)).to.deep.include({ from: 'payment_pending', to: 'declined', actor: 'system:payments' });
    expect(await ctx.services.inventory.getStock(product.sku)).to.equal(5);
    const mail = order.outbox.find((e) => e.name === 'email' && e.payload.template === 'payment_failed');
    expect(mail?.payload.data).to.deep.equal({ reason: 'insufficient_funds' });
    expect(await ctx.services.core.queues.queue('email').getJob(mail!.id)).to.not.equal(undefined);
    const card = await ctx.services.vault.card(order.payment.cardToken);
    expect(card?.saved).to.equal(false);
    // The worker forgets the single-use card right after it records the decline; poll briefly for it.
    const openCard = () => ctx.services.vault.withCardForAuthorisation(order.payment.cardToken, async () => 'opened').catch((error: Error & { code?: string }) => error.code);
    let opened = await openCard();
    for (let attempt = 0; attempt < 50 && opened === 'opened'; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      opened = await openCard();
    }
    expect(opened).to.equal('card.not_found');
  });
});
