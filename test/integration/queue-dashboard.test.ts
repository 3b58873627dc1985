import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { SimulatedGateway } from '../../api/payments/gateway.ts';
import { ServiceUnavailableError } from '../../platform/errors.ts';
import { QUEUE_NAMES } from '../../platform/queues.ts';
import { startWorkers, type RunningWorkers } from '../../workers/start.ts';
import { createProduct } from '../support/fixtures.ts';
import { api } from '../support/http.ts';
import { createTestContext, type TestContext } from '../support/infra.ts';
import { placeWebOrder, uniqueShopper, waitForJob, waitForStatus } from '../support/order-flow.ts';
import { createStaffUser, loginStaff } from '../support/staff-sessions.ts';

describe('queue dashboard: counts, dead-lettered jobs, retry and removal', function () {
  this.timeout(90_000);
  let ctx: TestContext;
  let workers: RunningWorkers;
  let admin: string;
  let csr: string;

  before(async () => {
    ctx = await createTestContext();
    workers = await startWorkers(ctx.runtime);
    admin = await loginStaff(ctx, await createStaffUser(ctx, 'admin'));
    csr = await loginStaff(ctx, await createStaffUser(ctx, 'csr'));
  });
  after(async () => {
    await workers?.close();
    await ctx?.close();
  });

  it('counts jobs per state for every queue, for admins only', async () => {
    const response = await api(ctx.baseUrl, 'GET', '/api/staff/queues', { token: admin });
    expect(response.status).to.equal(200);
    expect(response.body.items.map((q: { name: string }) => q.name)).to.deep.equal(QUEUE_NAMES);
    expect(response.body.items[0].counts).to.include.all.keys('waiting', 'active', 'delayed', 'completed', 'failed');
    const denied = await api(ctx.baseUrl, 'GET', '/api/staff/queues', { token: csr });
    expect(denied.status).to.equal(403);
    expect((await api(ctx.baseUrl, 'GET', '/api/staff/queues/fraud-check/failed', { token: csr })).status).to.equal(403);
  });

  it('lists jobs that can never succeed as failed after one attempt, with the reason and the payload ids only', async () => {
    const queue = ctx.services.core.queues.queue('fraud-check');
    const malformedId = `bad-${randomUUID()}`;
    // Bypasses enqueue's schema check, as a buggy or older producer would.
    await queue.add('fraud-check', { orderId: 'o-404', eventId: malformedId, email: 'victim@example.com' }, { jobId: malformedId });
    const missingId = `missing-${randomUUID()}`;
    await ctx.services.core.queues.enqueue('fraud-check', { orderId: `no-such-order-${randomUUID()}`, eventId: missingId }, { jobId: missingId });
    await waitForJob(ctx, 'fraud-check', malformedId, 'failed');
    await waitForJob(ctx, 'fraud-check', missingId, 'failed');

    const counts = await api(ctx.baseUrl, 'GET', '/api/staff/queues', { token: admin });
    expect(counts.body.items.find((q: { name: string }) => q.name === 'fraud-check').counts.failed).to.be.greaterThanOrEqual(2);

    const failed = await api(ctx.baseUrl, 'GET', '/api/staff/queues/fraud-check/failed?pageSize=100', { token: admin });
    expect(failed.status).to.equal(200);
    const malformed = failed.body.items.find((j: { id: string }) => j.id === malformedId);
    expect(malformed).to.deep.include({ attemptsMade: 1, maxAttempts: 5, name: 'fraud-check' });
    expect(malformed.failedReason).to.match(/^invalid fraud-check payload/);
    expect(malformed.ids).to.deep.equal({ orderId: 'o-404', eventId: malformedId });
    expect(JSON.stringify(failed.body)).not.to.contain('victim@example.com');
    const missing = failed.body.items.find((j: { id: string }) => j.id === missingId);
    expect(missing).to.deep.include({ attemptsMade: 1, failedReason: 'order.not_found: No such order.' });
    expect(missing.failedAt).to.be.a('string');
  });

  it('dead-letters a job after its last attempt and runs it again on retry once the cause is fixed', async () => {
    const gateway = ctx.services.payments.gateway as SimulatedGateway;
    const authorise = gateway.authorise;
    const product = await createProduct(ctx.services, { priceCents: 45_600 });
    const total = 45_600 + 495;
    gateway.authorise = async (req) => {
      if (req.amountCents === total) throw new ServiceUnavailableError('payment.gateway_timeout', 'The payment processor did not answer in time; try again shortly.');
      return authorise(req);
    };
    let jobId: string;
    let orderNumber: string;
    try {
      orderNumber = (await placeWebOrder(ctx, uniqueShopper(), [{ sku: product.sku, quantity: 1 }])).body.orderNumber;
      const order = await waitForStatus(ctx, orderNumber, 'payment_pending');
      // A job with a short retry budget, so it runs out quickly.
      jobId = `pay-${randomUUID()}`;
      await ctx.services.core.queues.enqueue('payment-authorise', { orderId: order._id, eventId: jobId }, { jobId, attempts: 2, backoff: { type: 'fixed', delay: 20 } });
      await waitForJob(ctx, 'payment-authorise', jobId, 'failed');
    } finally {
      gateway.authorise = authorise;
    }

    const failed = await api(ctx.baseUrl, 'GET', '/api/staff/queues/payment-authorise/failed?pageSize=100', { token: admin });
    const dead = failed.body.items.find((j: { id: string }) => j.id === jobId);
    expect(dead).to.deep.include({ attemptsMade: 2, maxAttempts: 2, failedReason: 'payment.gateway_timeout: The payment processor did not answer in time; try again shortly.' });

    const retried = await api(ctx.baseUrl, 'POST', `/api/staff/queues/payment-authorise/jobs/${jobId}/retry`, { token: admin });
    expect(retried.status, JSON.stringify(retried.body)).to.equal(200);
    await waitForJob(ctx, 'payment-authorise', jobId, 'completed');
    await waitForStatus(ctx, orderNumber, 'paid');
    const audited = await ctx.services.audit.query({ action: 'queue.job_retry', resourceId: `payment-authorise/${jobId}`, page: 1, pageSize: 5 });
    expect(audited.total).to.equal(1);

    const again = await api(ctx.baseUrl, 'POST', `/api/staff/queues/payment-authorise/jobs/${jobId}/retry`, { token: admin });
    expect(again.status).to.equal(409);
    expect(again.body.error.code).to.equal('queues.job_not_failed');
  });

  it('removes a failed job, and answers 404 for unknown queues and jobs', async () => {
    const jobId = `gone-${randomUUID()}`;
    await ctx.services.core.queues.enqueue('fraud-check', { orderId: `no-such-order-${randomUUID()}`, eventId: jobId }, { jobId });
    await waitForJob(ctx, 'fraud-check', jobId, 'failed');
    const removed = await api(ctx.baseUrl, 'DELETE', `/api/staff/queues/fraud-check/jobs/${jobId}`, { token: admin });
    expect(removed.status).to.equal(204);
    expect(await ctx.services.core.queues.queue('fraud-check').getJob(jobId)).to.equal(undefined);
    expect((await ctx.services.audit.query({ action: 'queue.job_remove', resourceId: `fraud-check/${jobId}`, page: 1, pageSize: 5 })).total).to.equal(1);

    expect((await api(ctx.baseUrl, 'DELETE', `/api/staff/queues/fraud-check/jobs/${jobId}`, { token: admin })).status).to.equal(404);
    const unknownQueue = await api(ctx.baseUrl, 'GET', '/api/staff/queues/no-such-queue/failed', { token: admin });
    expect(unknownQueue.status).to.equal(404);
    expect(unknownQueue.body.error.code).to.equal('queues.not_found');
    expect((await api(ctx.baseUrl, 'POST', `/api/staff/queues/fraud-check/jobs/${randomUUID()}/retry`, { token: admin })).status).to.equal(404);
  });
});
