import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import nodemailer from 'nodemailer';
import { createEmailService } from '../../api/email/service.ts';
import type { ReceivedMail } from '../../platform/embedded/index.ts';
import { createEmailWorker } from '../../workers/email/worker.ts';
import { createProduct } from '../support/fixtures.ts';
import { api } from '../support/http.ts';
import { createTestContext, type TestContext } from '../support/infra.ts';
import { placeWebOrder, uniqueShopper, waitFor, waitForJob } from '../support/order-flow.ts';
import { createStaffUser, loginStaff } from '../support/staff-sessions.ts';

type EmailWorker = ReturnType<typeof createEmailWorker>;

/** The relayed email job of an order, by template. */
async function emailEntryOf(ctx: TestContext, orderNumber: string, template: string) {
  const order = await ctx.services.orders.findByNumber(orderNumber);
  const entry = order!.outbox.find((e) => e.name === 'email' && (e.payload as { template?: string }).template === template);
  expect(entry, `${template} outbox entry`).to.not.equal(undefined);
  return { order: order!, entry: entry! };
}

/** The result of a finished email job. Read after the wait: the job object waitForJob returns may predate completion. */
async function outcomeOf(ctx: TestContext, jobId: string): Promise<Record<string, unknown>> {
  await waitForJob(ctx, 'email', jobId, 'completed');
  return (await ctx.services.core.queues.queue('email').getJob(jobId))!.returnvalue as Record<string, unknown>;
}

const withMessageId = (ctx: TestContext, messageId: string): ReceivedMail[] => ctx.services.core.mailbox!.list().filter((mail) => mail.headers['message-id'] === messageId);

async function auditActions(ctx: TestContext, action: string, resourceId?: string) {
  return (await ctx.services.audit.query({ action, ...(resourceId ? { resourceId } : {}), page: 1, pageSize: 50 })).entries;
}

describe('email worker: transactional email from the queue to the mailbox', function () {
  this.timeout(90_000);
  let ctx: TestContext;
  let worker: EmailWorker;
  let adminToken: string;

  before(async () => {
    ctx = await createTestContext();
    worker = createEmailWorker({ services: ctx.services, connection: ctx.runtime.bullConnection, busyRecheckMs: 50 });
    adminToken = await loginStaff(ctx, await createStaffUser(ctx, 'admin'));
  });
  after(async () => {
    await worker?.close();
    await ctx?.close();
  });

  it('mails the order confirmation of an order placed through the API, built from the order', async () => {
    const product = await createProduct(ctx.services, { totalStock: 10, priceCents: 12_345 });
    const shopper = uniqueShopper();
    const placed = await placeWebOrder(ctx, shopper, [{ sku: product.sku, quantity: 2 }]);
    const { order, entry } = await emailEntryOf(ctx, placed.body.orderNumber, 'order_confirmation');
    expect(entry.relayedAt, 'the outbox relayed the job').to.not.equal(null);

    const mail = await ctx.services.core.mailbox!.waitFor((m) => m.envelopeTo.includes(shopper.email), 20_000);
    expect(mail.subject).to.equal(`We received your order ${placed.body.orderNumber}`);
    expect(mail.headers['message-id']).to.equal(ctx.services.email.messageIdFor(entry.id));
    expect(mail.html).to.contain(`Visa ending in ${shopper.cardNumber.slice(-4)}`);
    expect(mail.html).to.contain('$246.90');
    expect(mail.html).to.contain(product.name);
    expect(mail.text).to.contain(placed.body.orderNumber);
    expect(mail.raw).not.to.contain(shopper.cardNumber);
    expect(mail.raw).not.to.contain(shopper.address.line1);
    expect(mail.raw).not.to.contain(order.payment.cardToken);

    expect(await outcomeOf(ctx, entry.id)).to.deep.include({ outcome: 'sent' });
    const log = await ctx.services.email.entry(entry.id);
    expect(log).to.deep.include({ state: 'sent', to: shopper.email, template: 'order_confirmation', category: 'transactional', attempts: 1, orderId: order._id });
  });

  it('sends an event once: a repeated job after it was sent, and two jobs racing for it', async () => {
    const product = await createProduct(ctx.services, { totalStock: 10 });
    const shopper = uniqueShopper();
    const placed = await placeWebOrder(ctx, shopper, [{ sku: product.sku, quantity: 1 }]);
    const { order, entry } = await emailEntryOf(ctx, placed.body.orderNumber, 'order_confirmation');
    await waitForJob(ctx, 'email', entry.id, 'completed');

    // The relay enqueued the same event again (say after a crash): a new job id, the same eventId.
    const queue = ctx.services.core.queues.queue('email');
    await queue.add('email', entry.payload, { jobId: `${entry.id}-again` });
    expect(await outcomeOf(ctx, `${entry.id}-again`)).to.deep.equal({ outcome: 'duplicate', state: 'sent' });
    expect(withMessageId(ctx, ctx.services.email.messageIdFor(entry.id))).to.have.length(1);

    // Two jobs of a new event at the same time: one sends, the other waits for the claim and then does nothing.
    const eventId = randomUUID();
    const payload = { eventId, template: 'order_cancelled', orderId: order._id, data: {} };
    await queue.addBulk([
      { name: 'email', data: payload, opts: { jobId: `${eventId}-a` } },
      { name: 'email', data: payload, opts: { jobId: `${eventId}-b` } },
    ]);
    const outcomes = await Promise.all([`${eventId}-a`, `${eventId}-b`].map(async (id) => (await outcomeOf(ctx, id)).outcome as string));
    expect(outcomes.sort()).to.deep.equal(['duplicate', 'sent']);
    expect(withMessageId(ctx, ctx.services.email.messageIdFor(eventId))).to.have.length(1);
    expect(await ctx.services.email.entry(eventId)).to.deep.include({ state: 'sent', attempts: 1 });
  });

  it('lets a job wait without spending attempts while another worker holds the claim, then does nothing', async () => {
    const product = await createProduct(ctx.services, { totalStock: 10 });
    const placed = await placeWebOrder(ctx, uniqueShopper(), [{ sku: product.sku, quantity: 1 }]);
    const order = (await ctx.services.orders.findByNumber(placed.body.orderNumber))!;
    const eventId = randomUUID();
    // Stand in for a worker in the middle of sending this event.
    const held = await ctx.services.email.claim({ eventId, template: 'order_shipped', orderId: order._id }, { leaseMs: 60_000 });
    expect(held.status).to.equal('claimed');
    await ctx.services.core.queues.enqueue('email', { eventId, template: 'order_shipped', orderId: order._id, data: {} }, { jobId: eventId });
    const queue = ctx.services.core.queues.queue('email');
    await waitFor('the job to find the claim and wait', async () => ((await queue.getJob(eventId))?.attemptsStarted ?? 0) >= 2 || undefined);
    expect(await (await queue.getJob(eventId))!.getState()).to.be.oneOf(['delayed', 'waiting', 'active']);
    expect((await queue.getJob(eventId))!.attemptsMade, 'waiting is not a failed attempt').to.equal(0);

    // The holder finishes: the waiting job now sees the event sent and sends nothing itself.
    if (held.status === 'claimed') await ctx.services.email.markSent(eventId, held.claimId, { to: 'holder@example.com', subject: 'held', smtpResponse: '250 ok' });
    expect(await outcomeOf(ctx, eventId)).to.deep.equal({ outcome: 'duplicate', state: 'sent' });
    expect(withMessageId(ctx, ctx.services.email.messageIdFor(eventId))).to.have.length(0);
  });

  it('takes over a claim whose lease ran out (its worker died mid-send), and the old owner cannot record over it', async () => {
    const eventId = randomUUID();
    const first = await ctx.services.email.claim({ eventId, template: 'order_shipped' }, { leaseMs: 0 });
    const second = await ctx.services.email.claim({ eventId, template: 'order_shipped' }, { leaseMs: 0 });
    expect(first.status).to.equal('claimed');
    expect(second.status).to.equal('claimed');
    if (first.status !== 'claimed' || second.status !== 'claimed') return;
    expect(second.entry.messageId, 'a resend carries the same Message-ID').to.equal(first.entry.messageId);
    expect(await ctx.services.email.markFailed(eventId, first.claimId, { attempt: 1, final: false, code: 'x', message: 'late' })).to.equal(false);
    expect(await ctx.services.email.markSent(eventId, second.claimId, { to: 'a@example.com', subject: 's', smtpResponse: undefined })).to.equal(true);
    expect(await ctx.services.email.entry(eventId)).to.deep.include({ state: 'sent', attempts: 2, failures: [] });
  });

  it('mails a chat transcript on request with card numbers masked, and forgets the lines once sent', async () => {
    const to = `chat-${randomUUID().slice(0, 8)}@example.com`;
    const { eventId } = await ctx.services.email.sendChatTranscript({
      to,
      lines: [
        { from: 'customer', text: 'Can you check my card 4111 1111 1111 1111?' },
        { from: 'agent', name: 'Sam', text: 'Please never send card numbers in chat.\n<b>Thanks</b>' },
      ],
    });
    const mail = await ctx.services.core.mailbox!.waitFor((m) => m.envelopeTo.includes(to), 20_000);
    expect(mail.raw).not.to.match(/4111\D?1111\D?1111\D?1111/);
    expect(mail.text).to.contain('•••• 1111');
    expect(mail.html).to.contain('&lt;b&gt;Thanks&lt;/b&gt;');
    await waitForJob(ctx, 'email', eventId, 'completed');
    const log = await ctx.services.email.entry(eventId);
    expect(log).to.deep.include({ state: 'sent', to, template: 'chat_transcript', content: null });
    // The job itself carried ids only.
    const job = await ctx.services.core.queues.queue('email').getJob(eventId);
    expect(JSON.stringify(job!.data)).not.to.contain(to);
    expect(JSON.stringify(job!.data)).not.to.contain('1111');
  });

  it('shows template previews, the embedded mailbox and the email log to admins, auditing reads of recipients', async () => {
    const preview = await api(ctx.baseUrl, 'GET', '/api/staff/email/templates/order_shipped/preview', { token: adminToken });
    expect(preview.status).to.equal(200);
    expect(preview.headers.get('content-type')).to.match(/^text\/html/);
    expect(preview.headers.get('content-security-policy')).to.contain('sandbox');
    expect(preview.body).to.contain('Mint Store').and.to.contain('tracking number');
    const text = await api(ctx.baseUrl, 'GET', '/api/staff/email/templates/subscription_upcoming/preview?format=text', { token: adminToken });
    expect(text.headers.get('content-type')).to.match(/^text\/plain/);
    expect(text.body).to.contain('Skip this release: https://');
    const unknown = await api(ctx.baseUrl, 'GET', '/api/staff/email/templates/nope/preview', { token: adminToken });
    expect(unknown.status).to.equal(404);
    expect(unknown.body.error.code).to.equal('email.template_not_found');
    const csrToken = await loginStaff(ctx, await createStaffUser(ctx, 'csr'));
    expect((await api(ctx.baseUrl, 'GET', '/api/staff/email/templates/order_shipped/preview', { token: csrToken })).status).to.equal(403);
    expect((await api(ctx.baseUrl, 'GET', '/api/staff/email/log', { token: csrToken })).status).to.equal(403);

    const to = `viewer-${randomUUID().slice(0, 8)}@example.com`;
    const { eventId } = await ctx.services.email.sendChatTranscript({ to, lines: [{ from: 'agent', text: 'Hello' }] });
    const received = await ctx.services.core.mailbox!.waitFor((m) => m.envelopeTo.includes(to), 20_000);
    const list = await api(ctx.baseUrl, 'GET', '/api/staff/mail', { token: adminToken });
    expect(list.status).to.equal(200);
    expect(list.body.items.map((m: { id: string }) => m.id)).to.include(received.id);
    const one = await api(ctx.baseUrl, 'GET', `/api/staff/mail/${received.id}`, { token: adminToken });
    expect(one.body).to.deep.include({ id: received.id, subject: received.subject });
    expect(await auditActions(ctx, 'mail.read', received.id)).to.have.length(1);
    expect((await auditActions(ctx, 'mail.list')).length).to.be.greaterThan(0);

    await waitForJob(ctx, 'email', eventId, 'completed');
    const entry = await api(ctx.baseUrl, 'GET', `/api/staff/email/log/${eventId}`, { token: adminToken });
    expect(entry.status).to.equal(200);
    expect(entry.body).to.deep.include({ eventId, state: 'sent', to, template: 'chat_transcript' });
    const [audited] = await auditActions(ctx, 'email_log.read', eventId);
    expect(audited, 'the read of a recipient address is audited').to.not.equal(undefined);
    expect(JSON.stringify(audited)).not.to.contain(to);
    const sent = await api(ctx.baseUrl, 'GET', '/api/staff/email/log?state=sent&template=chat_transcript', { token: adminToken });
    const listed = sent.body.items.find((item: { eventId: string }) => item.eventId === eventId);
    expect(listed.to, 'lists mask the recipient').to.equal(`${to[0]}***@example.com`);
    expect((await auditActions(ctx, 'email_log.list')).length).to.be.greaterThan(0);
    expect((await api(ctx.baseUrl, 'GET', `/api/staff/email/log/${randomUUID()}`, { token: adminToken })).status).to.equal(404);
  });

  it('answers the mail viewer with a clear 404 when mail goes to an external SMTP server', async () => {
    const { core } = ctx.services;
    const external = createEmailService({ ...core, queues: core.queues, audit: ctx.services.audit, customers: ctx.services.customers, mailbox: undefined, appSecret: core.secrets.appSecret, brand: ctx.services.email.brand, mailFrom: core.config.smtp.from });
    const actor = { type: 'staff', staffUserId: 's1', username: 'admin1', role: 'admin', sessionId: 'x', ip: undefined } as const;
    let error: unknown;
    await external.listMail(actor).catch((e: unknown) => (error = e));
    expect(error).to.have.property('code', 'mail.viewer_unavailable');
    expect(error).to.have.property('kind', 'not_found');
  });
});

describe('email worker: an unreachable SMTP server', function () {
  this.timeout(90_000);
  let ctx: TestContext;
  let worker: EmailWorker | undefined;

  before(async () => {
    ctx = await createTestContext();
  });
  after(async () => {
    await worker?.close();
    await ctx?.close();
  });

  it('retries, then dead-letters the job with the reason, visible on the email log to admins', async () => {
    // A port nothing listens on: bind one, then free it.
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: closedPort, secure: false, connectionTimeout: 5_000 });
    worker = createEmailWorker({ services: ctx.services, connection: ctx.runtime.bullConnection, transport });

    const product = await createProduct(ctx.services, { totalStock: 10 });
    const shopper = uniqueShopper();
    const placed = await placeWebOrder(ctx, shopper, [{ sku: product.sku, quantity: 1 }]);
    const order = (await ctx.services.orders.findByNumber(placed.body.orderNumber))!;
    const eventId = randomUUID();
    await ctx.services.core.queues.enqueue('email', { eventId, template: 'order_confirmation', orderId: order._id, data: {} }, { jobId: eventId, attempts: 2, backoff: { type: 'fixed', delay: 10 } });

    await waitForJob(ctx, 'email', eventId, 'failed');
    const job = (await ctx.services.core.queues.queue('email').getJob(eventId))!;
    expect(job.attemptsMade).to.equal(2);
    expect(job.failedReason).to.match(/ECONNREFUSED/);

    const log = await waitFor('the email log to record the dead letter', async () => {
      const entry = await ctx.services.email.entry(eventId);
      return entry?.state === 'failed' ? entry : undefined;
    });
    expect(log.attempts).to.equal(2);
    expect(log.failures.map((f) => f.attempt)).to.deep.equal([1, 2]);
    expect(log.failures.at(-1)!.message).to.match(/ECONNREFUSED/);
    expect(log.to).to.equal(shopper.email);

    const adminToken = await loginStaff(ctx, await createStaffUser(ctx, 'admin'));
    const failed = await api(ctx.baseUrl, 'GET', '/api/staff/email/log?state=failed', { token: adminToken });
    expect(failed.status).to.equal(200);
    const item = failed.body.items.find((i: { eventId: string }) => i.eventId === eventId);
    expect(item).to.deep.include({ state: 'failed', template: 'order_confirmation', attempts: 2 });
    expect(item.lastError.message).to.match(/ECONNREFUSED/);
    expect(item.to).not.to.equal(shopper.email);
    expect(withMessageId(ctx, ctx.services.email.messageIdFor(eventId))).to.have.length(0);
  });
});
