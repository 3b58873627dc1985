import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { Job } from 'bullmq';
import type { CheckoutService } from '../../api/checkout/service.ts';
import { allocationKey } from '../../api/subscriptions/model.ts';
import { subscriptionEmailEventId } from '../../api/subscriptions/service.ts';
import { validateCard } from '../../api/vault/cards.ts';
import { createSubscriptionGenerator, RunInterruptedError, type GenerateOptions } from '../../workers/subscriptions/generator.ts';
import { startSubscriptionWorkers } from '../../workers/subscriptions/worker.ts';
import { api } from '../support/http.ts';
import { createTestContext, type TestContext } from '../support/infra.ts';
import { address, createProduct } from '../support/fixtures.ts';
import { createStaffUser, loginStaff } from '../support/staff-sessions.ts';

const DAY = 24 * 3600 * 1000;
const ATTESTATION = { termsAccepted: true, ageConfirmed: true } as const;

describe('subscriptions: order generation', function () {
  this.timeout(300_000);
  let ctx: TestContext;
  let programSeq = 0;

  before(async () => {
    ctx = await createTestContext();
  });
  after(async () => ctx?.close());

  const program = () => `T-PROG-${randomBytes(3).toString('hex').toUpperCase()}-${(programSeq += 1)}`;
  const houseNumber = () => 100 + Math.floor(Math.random() * 9_000);

  /** A registered customer with one saved card, made through the services like the storefront does. */
  async function newCustomer(cardNumber = '4242424242424242') {
    const s = randomBytes(4).toString('hex');
    const login = await ctx.services.customers.register({
      firstName: 'Grace',
      lastName: `Hopper${s}`,
      email: `grace.${s}@example.com`,
      phone: '(202) 555-0143',
      loginName: `grace_${s}`,
      password: 'correct horse battery',
      securityQuestion: { questionId: 'first_pet', answer: 'Rex the Dog' },
      ageAttestation: true,
      acceptTerms: true,
    });
    const customerId = login.customer.id;
    const card = validateCard({ number: cardNumber, expMonth: 12, expYear: new Date().getUTCFullYear() + 3, cvv: '123' }, new Date(), '');
    const saved = await ctx.services.vault.tokenise(card, { nameOnCard: 'Grace Hopper', customerId, save: true });
    return { customerId, cardToken: saved.cardToken };
  }

  async function enroll(code: string, overrides: Record<string, unknown> = {}, customer?: { customerId: string; cardToken: string }) {
    const who = customer ?? (await newCustomer());
    const enrollment = await ctx.services.subscriptions.enroll(who.customerId, {
      program: code,
      quantity: 1,
      shipTo: address({ line1: `${houseNumber()} Elm St`, city: 'Springfield', state: 'IL', postalCode: '62701' }),
      cardToken: who.cardToken,
      attestation: ATTESTATION,
      ...overrides,
    });
    return { ...who, enrollmentId: enrollment.id };
  }

  /** A release of a new program that opens in ten days (orders for subscribers are allocated before). */
  async function upcomingRelease(overrides: Record<string, unknown> = {}) {
    const code = program();
    const product = await createProduct(ctx.services, { program: code, releaseAt: new Date(Date.now() + 10 * DAY).toISOString(), totalStock: 100, ...overrides });
    return { code, product };
  }

  function generator(checkout: Pick<CheckoutService, 'placeOrder'> = ctx.services.checkout) {
    const { core } = ctx.services;
    return createSubscriptionGenerator({ subscriptions: ctx.services.subscriptions, checkout, orders: ctx.services.orders, queues: core.queues, redis: core.redis, redisPrefix: core.redisPrefix, clock: core.clock, logger: core.logger });
  }

  async function newRun(code: string, sku: string, retryFailed = false) {
    return (await ctx.services.subscriptions.createRun({ program: code, releaseSku: sku, trigger: 'admin', requestedBy: 'test', retryFailed }))._id;
  }

  const ordersOf = (sku: string) => ctx.services.orders.model.find({ releaseSku: sku }).lean();
  const allocation = (enrollmentId: string, sku: string) => ctx.services.subscriptions.models.Allocations.findById(allocationKey(enrollmentId, sku)).lean();
  const emailJob = (template: string, enrollmentId: string, sku: string) => ctx.services.core.queues.queue('email').getJob(subscriptionEmailEventId(template, enrollmentId, sku));

  /** Every enrollment has at most one order of the release; returns how many have one. */
  async function expectNoDuplicates(sku: string) {
    const orders = await ordersOf(sku);
    const perEnrollment = new Map<string, number>();
    for (const order of orders) perEnrollment.set(order.enrollmentId!, (perEnrollment.get(order.enrollmentId!) ?? 0) + 1);
    expect([...perEnrollment.values()].filter((n) => n > 1), 'enrollments with more than one order').to.deep.equal([]);
    return perEnrollment;
  }

  it('places one subscription order per active enrollment before the public release; paused, cancelled, skipped and other programs excluded; a second run adds nothing', async () => {
    const { code, product } = await upcomingRelease();
    const active = await Promise.all([enroll(code), enroll(code, { quantity: 2 }), enroll(code)]);
    const paused = await enroll(code);
    await ctx.services.subscriptions.pause(paused.customerId, paused.enrollmentId);
    const cancelled = await enroll(code);
    await ctx.services.subscriptions.cancel(cancelled.customerId, cancelled.enrollmentId);
    const skipping = await enroll(code);
    const links = ctx.services.subscriptions.linksFor(skipping.enrollmentId, product.sku, new Date(product.releaseAt));
    expect((await ctx.services.subscriptions.applyLink(links.skip.split('/').at(-1)!)).outcome).to.equal('skipped');
    const other = await upcomingRelease();
    await enroll(other.code);

    const runId = await newRun(code, product.sku);
    const run = await generator().generate(runId, { concurrency: 4 });
    expect(run).to.include({ status: 'completed', total: 4, done: 3, failed: 0, skipped: 1, alreadySettled: 0, remaining: 0, attempts: 1 });

    const orders = await ordersOf(product.sku);
    expect(orders.map((o) => o.enrollmentId).sort()).to.deep.equal(active.map((e) => e.enrollmentId).sort());
    for (const order of orders) {
      expect(order.channel).to.equal('subscription');
      expect(order.status).to.equal('pending_fraud_check');
      expect(order.placedAt.getTime()).to.be.below(new Date(product.releaseAt).getTime());
      expect(order.outbox.map((e) => e.name)).to.include('fraud-check');
      const settled = await allocation(order.enrollmentId!, product.sku);
      expect(settled).to.include({ state: 'ordered', orderId: order._id, orderNumber: order.orderNumber, runId });
      const mail = await emailJob('subscription_created', order.enrollmentId!, product.sku);
      expect(mail?.data).to.deep.include({ template: 'subscription_created', orderId: order._id, enrollmentId: order.enrollmentId });
    }
    expect(orders.find((o) => o.enrollmentId === active[1]!.enrollmentId)!.lines[0]!.quantity).to.equal(2);
    expect(await ctx.services.inventory.getStock(product.sku)).to.equal(100 - 4);
    expect(await ordersOf(other.product.sku)).to.have.length(0);

    const again = await generator().generate(await newRun(code, product.sku), { concurrency: 4 });
    expect(again).to.include({ status: 'completed', total: 4, done: 0, failed: 0, skipped: 1, alreadySettled: 3, remaining: 0 });
    expect(await ordersOf(product.sku)).to.have.length(3);
    expect(await ctx.services.inventory.getStock(product.sku)).to.equal(100 - 4);
    // Re-running a completed run is a no-op that reports its result.
    expect((await generator().generate(runId)).done).to.equal(3);
  });

  it('resumes runs that crashed before placing an order and after placing one but before recording it: every order exactly once', async () => {
    const { code, product } = await upcomingRelease();
    const enrollments = [];
    for (let i = 0; i < 12; i += 1) enrollments.push(await enroll(code));

    /** Checkout that "kills the process" on its n-th call, before or after writing the order. */
    const crashing = (n: number, when: 'before' | 'after'): Pick<CheckoutService, 'placeOrder'> => {
      let calls = 0;
      return {
        async placeOrder(body, context) {
          calls += 1;
          if (calls !== n) return ctx.services.checkout.placeOrder(body, context);
          if (when === 'after') await ctx.services.checkout.placeOrder(body, context);
          throw new Error(`simulated crash ${when} writing the order`);
        },
      };
    };
    const runId = await newRun(code, product.sku);
    const stale = () => ctx.services.subscriptions.models.Allocations.find({ releaseSku: product.sku, state: 'claimed' }).lean();
    const hasOrder = async (enrollmentId: string) => (await ctx.services.orders.model.countDocuments({ enrollmentId, releaseSku: product.sku })) > 0;

    // One attempt per enrollment: a crashed process does not get to retry.
    const first = await generator(crashing(3, 'before')).generate(runId, { concurrency: 3, settleBatchSize: 2, placeAttempts: 1 }).catch((error: unknown) => error);
    expect(first).to.be.instanceOf(RunInterruptedError);
    const afterFirst = await stale();
    expect(afterFirst.length, 'claims left behind').to.be.at.least(1);
    expect(await Promise.all(afterFirst.map((a) => hasOrder(a.enrollmentId)))).to.include(false);
    const interrupted = await ctx.services.subscriptions.getRun(runId);
    expect(interrupted.status).to.equal('interrupted');
    expect(interrupted.remaining).to.be.above(0);

    const second = await generator(crashing(2, 'after')).generate(runId, { concurrency: 3, settleBatchSize: 2, placeAttempts: 1 }).catch((error: unknown) => error);
    expect(second).to.be.instanceOf(RunInterruptedError);
    expect(await Promise.all((await stale()).map((a) => hasOrder(a.enrollmentId))), 'an order written but never recorded').to.include(true);
    expect((await ordersOf(product.sku)).length).to.be.below(12);

    const resumed = await generator().generate(runId, { concurrency: 3 });
    expect(resumed).to.include({ status: 'completed', total: 12, done: 12, failed: 0, skipped: 0, alreadySettled: 0, remaining: 0, attempts: 3 });
    const perEnrollment = await expectNoDuplicates(product.sku);
    expect([...perEnrollment.keys()].sort()).to.deep.equal(enrollments.map((e) => e.enrollmentId).sort());
    expect(await stale()).to.have.length(0);
    expect(await ctx.services.inventory.getStock(product.sku)).to.equal(100 - 12);
    for (const e of enrollments) {
      const settled = (await allocation(e.enrollmentId, product.sku))!;
      expect(settled.state).to.equal('ordered');
      expect(settled.orderId, 'order id recorded').to.equal((await ctx.services.orders.model.findOne({ enrollmentId: e.enrollmentId, releaseSku: product.sku }).lean())!._id);
    }
  });

  it('retries an enrollment whose checkout failed for a reason of its own (a lost reply, an order-number clash) without ordering twice', async () => {
    const { code, product } = await upcomingRelease();
    for (let i = 0; i < 4; i += 1) await enroll(code);
    let calls = 0;
    const flaky: Pick<CheckoutService, 'placeOrder'> = {
      async placeOrder(body, context) {
        calls += 1;
        if (calls === 1) throw Object.assign(new Error('E11000 duplicate key error collection: orders'), { code: 11000 });
        if (calls === 3) {
          await ctx.services.checkout.placeOrder(body, context);
          throw new Error('connection reset after the order was written');
        }
        return ctx.services.checkout.placeOrder(body, context);
      },
    };
    const run = await generator(flaky).generate(await newRun(code, product.sku), { concurrency: 1 });
    expect(run).to.include({ status: 'completed', total: 4, done: 4, failed: 0 });
    expect((await expectNoDuplicates(product.sku)).size).to.equal(4);
    expect(calls, 'one retry after the clash; the lost reply is adopted, not retried').to.equal(5);
  });

  it('stops when aborted half way (a killed worker) and the next run creates only the missing orders', async () => {
    const { code, product } = await upcomingRelease();
    for (let i = 0; i < 10; i += 1) await enroll(code);
    const abort = new AbortController();
    let placed = 0;
    const counting: Pick<CheckoutService, 'placeOrder'> = {
      async placeOrder(body, context) {
        const order = await ctx.services.checkout.placeOrder(body, context);
        placed += 1;
        if (placed === 5) abort.abort();
        return order;
      },
    };
    const runId = await newRun(code, product.sku);
    const options: GenerateOptions = { concurrency: 2, signal: abort.signal };
    const stopped = await generator(counting).generate(runId, options).catch((error: unknown) => error);
    expect(stopped).to.be.instanceOf(RunInterruptedError);
    const half = await ctx.services.subscriptions.getRun(runId);
    expect(half.status).to.equal('interrupted');
    expect(half.done).to.be.within(5, 6);
    expect(half.remaining).to.equal(10 - half.done);
    // A graceful stop leaves no claim behind: only settled allocations exist.
    expect(await ctx.services.subscriptions.models.Allocations.countDocuments({ releaseSku: product.sku, state: 'claimed' })).to.equal(0);

    // Another run (as an admin would trigger) finishes the release.
    const rest = await generator().generate(await newRun(code, product.sku), { concurrency: 2 });
    expect(rest).to.include({ status: 'completed', total: 10, done: 10 - half.done, alreadySettled: half.done, remaining: 0 });
    expect((await expectNoDuplicates(product.sku)).size).to.equal(10);
  });

  it('records out-of-stock failures on the enrollment, mails them, and carries on with the batch', async () => {
    const { code, product } = await upcomingRelease({ totalStock: 2 });
    const enrollments = [];
    for (let i = 0; i < 5; i += 1) enrollments.push(await enroll(code));
    const run = await generator().generate(await newRun(code, product.sku), { concurrency: 1 });
    expect(run).to.include({ status: 'completed', total: 5, done: 2, failed: 3, remaining: 0 });
    expect(await ordersOf(product.sku)).to.have.length(2);
    const failed = (await Promise.all(enrollments.map((e) => ctx.services.subscriptions.get(e.customerId, e.enrollmentId)))).filter((e) => e.lastFailure);
    expect(failed).to.have.length(3);
    for (const e of failed) {
      expect(e.lastFailure).to.include({ code: 'inventory.sold_out', releaseSku: product.sku });
      expect(Date.parse(e.lastFailure!.at)).to.be.a('number').and.not.NaN;
      expect((await allocation(e.id, product.sku))!.state).to.equal('failed');
      expect((await emailJob('subscription_failed', e.id, product.sku))?.data).to.deep.include({ template: 'subscription_failed', enrollmentId: e.id });
    }

    // Stock added and a retry of the failures requested: the failed ones are ordered, the others untouched.
    await ctx.services.catalog.adjustStock(product.sku, { delta: 3, reason: 'late delivery from the mint' }, { type: 'system', component: 'test' });
    const retry = await generator().generate(await newRun(code, product.sku, true), { concurrency: 1 });
    expect(retry).to.include({ done: 3, failed: 0, alreadySettled: 2 });
    expect((await expectNoDuplicates(product.sku)).size).to.equal(5);
  });

  it('records household-limit and expired-card failures and still orders for the others', async () => {
    const { code, product } = await upcomingRelease({ householdLimit: 1 });
    const sameHouse = address({ line1: '742 Evergreen Terrace', city: 'Springfield', state: 'IL', postalCode: '62704' });
    const first = await enroll(code, { shipTo: sameHouse });
    const second = await enroll(code, { shipTo: { ...sameHouse, line1: '742 Evergreen Ter' } });
    const expired = await enroll(code);
    const fine = await enroll(code);
    // The card on file has expired since the customer enrolled.
    await ctx.services.subscriptions.models.Enrollments.updateOne({ _id: expired.enrollmentId }, { $set: { 'card.expYear': 2020 } });

    const run = await generator().generate(await newRun(code, product.sku), { concurrency: 1 });
    expect(run).to.include({ status: 'completed', total: 4, done: 2, failed: 2 });
    const failures = await Promise.all([first, second, expired, fine].map(async (e) => (await ctx.services.subscriptions.get(e.customerId, e.enrollmentId)).lastFailure?.code ?? null));
    expect(failures.filter((f) => f === 'inventory.household_limit')).to.have.length(1);
    expect(failures[2]).to.equal('payment.expired_card');
    expect(failures[3]).to.equal(null);
    expect((await ordersOf(product.sku)).map((o) => o.enrollmentId)).to.include(fine.enrollmentId);
  });

  it('records a card declined at authorisation on the enrollment', async () => {
    const { code, product } = await upcomingRelease();
    const declining = await enroll(code, {}, await newCustomer('4000000000000002'));
    await generator().generate(await newRun(code, product.sku));
    const [order] = await ordersOf(product.sku);
    // What the fraud and payment workers do with the order.
    await ctx.services.orderLifecycle.fraudCleared(order!._id, {}, { actor: 'system:test', reason: 'score below threshold' });
    const declined = await ctx.services.orderLifecycle.authorisePayment(order!._id, { actor: 'system:test', reason: 'authorise' });
    expect(declined.status).to.equal('declined');

    expect(await generator().orderDeclined(order!._id)).to.equal(true);
    const enrollment = await ctx.services.subscriptions.get(declining.customerId, declining.enrollmentId);
    expect(enrollment.lastFailure).to.include({ code: 'payment.card_declined', releaseSku: product.sku, orderNumber: order!.orderNumber });
    expect((await allocation(declining.enrollmentId, product.sku))!.declinedAt).to.be.instanceOf(Date);
    const mail = await ctx.services.core.queues.queue('email').getJob(`${subscriptionEmailEventId('subscription_failed', declining.enrollmentId, product.sku)}.declined`);
    expect(mail?.data).to.deep.include({ template: 'subscription_failed', orderId: order!._id });
  });

  it('honours releases per year and the end date', async () => {
    const code = program();
    const year = new Date().getUTCFullYear() + 1;
    const spring = await createProduct(ctx.services, { program: code, releaseAt: `${year}-03-01T15:00:00Z` });
    const autumn = await createProduct(ctx.services, { program: code, releaseAt: `${year}-09-01T15:00:00Z` });
    const once = await enroll(code, { limits: { maxReleasesPerYear: 1 } });
    const ending = await enroll(code, { limits: { endsAt: `${year}-06-30T00:00:00Z` } });
    const every = await enroll(code);

    expect(await generator().generate(await newRun(code, spring.sku))).to.include({ total: 3, done: 3 });
    expect(await generator().generate(await newRun(code, autumn.sku))).to.include({ total: 2, done: 1, skipped: 1 });
    expect((await ordersOf(autumn.sku)).map((o) => o.enrollmentId)).to.deep.equal([every.enrollmentId]);
    expect((await allocation(once.enrollmentId, autumn.sku))).to.include({ state: 'skipped', skipReason: 'yearly_limit' });
    expect(await allocation(ending.enrollmentId, autumn.sku)).to.equal(null);
  });

  it('runs through the queue from the admin trigger, shows progress to admins, and follows declines', async () => {
    const workers = startSubscriptionWorkers(ctx.runtime, { generate: { concurrency: 4 } });
    try {
      const admin = await createStaffUser(ctx, 'admin');
      const token = await loginStaff(ctx, admin);
      const csr = await loginStaff(ctx, await createStaffUser(ctx, 'csr'));
      const { code, product } = await upcomingRelease();
      const declining = await enroll(code, {}, await newCustomer('4000000000000002'));
      for (let i = 0; i < 3; i += 1) await enroll(code);

      const path = `/api/staff/subscriptions/programs/${code}/releases/${product.sku}/generate`;
      expect((await api(ctx.baseUrl, 'POST', path, { token: csr, body: {} })).status).to.equal(403);
      expect((await api(ctx.baseUrl, 'POST', `/api/staff/subscriptions/programs/${code}/releases/NOT-THERE/generate`, { token, body: {} })).status).to.equal(404);
      const started = await api(ctx.baseUrl, 'POST', path, { token, body: {} });
      expect(started.status, JSON.stringify(started.body)).to.equal(202);
      const runId = started.body.runId as string;

      let run = started.body;
      while (run.status !== 'completed' && run.status !== 'failed') {
        await new Promise((resolve) => setTimeout(resolve, 100));
        run = (await api(ctx.baseUrl, 'GET', `/api/staff/subscriptions/runs/${runId}`, { token })).body;
      }
      expect(run).to.include({ status: 'completed', total: 4, done: 4, remaining: 0, trigger: 'admin' });
      const list = await api(ctx.baseUrl, 'GET', `/api/staff/subscriptions/runs?program=${code}`, { token });
      expect(list.body.items.map((r: { runId: string }) => r.runId)).to.deep.equal([runId]);
      expect((await api(ctx.baseUrl, 'GET', `/api/staff/subscriptions/runs/${runId}`, { token: csr })).status).to.equal(403);

      // The payment worker's decline reaches the enrollment through the order's status event.
      const order = (await ordersOf(product.sku)).find((o) => o.enrollmentId === declining.enrollmentId)!;
      await ctx.services.orderLifecycle.fraudCleared(order._id, {}, { actor: 'system:test', reason: 'score below threshold' });
      await ctx.services.orderLifecycle.authorisePayment(order._id, { actor: 'system:test', reason: 'authorise' });
      let failure = null;
      while (!failure) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        failure = (await ctx.services.subscriptions.get(declining.customerId, declining.enrollmentId)).lastFailure;
      }
      expect(failure.code).to.equal('payment.card_declined');
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  });

  it('starts notices and a run from a program\'s scheduled tick when a release enters its windows', async () => {
    const workers = startSubscriptionWorkers(ctx.runtime, { generate: { concurrency: 2 }, followDeclines: false });
    try {
      const { code, product } = await upcomingRelease();
      const later = await createProduct(ctx.services, { program: code, releaseAt: new Date(Date.now() + 40 * DAY).toISOString() });
      await enroll(code);
      await enroll(code);
      await ctx.services.subscriptions.setProgramSettings({ type: 'system', component: 'test' }, code, { noticeLeadDays: 14, allocationLeadDays: 12, schedule: null });
      const { core } = ctx.services;
      await core.queues.enqueue('subscription-generate', { programId: code });

      let runs = await ctx.services.subscriptions.listRuns({ program: code });
      while (runs.items.length === 0 || runs.items.some((r) => r.status !== 'completed')) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        runs = await ctx.services.subscriptions.listRuns({ program: code });
      }
      expect(runs.items.map((r) => [r.releaseSku, r.trigger, r.done])).to.deep.equal([[product.sku, 'schedule', 2]]);
      expect(await ordersOf(later.sku)).to.have.length(0);
      // The notice job was queued for the release in its notice window (only), before the run.
      const noticeJobs = await core.queues.queue('subscription-notice').getJobs(['waiting', 'active', 'completed', 'failed', 'delayed']);
      expect(noticeJobs.filter((j) => j.data.programId === code).map((j) => j.data.releaseSku)).to.deep.equal([product.sku]);
      // A tick with nothing new to order starts no second run.
      expect(await ctx.services.subscriptions.startScheduledRun(code, product.sku)).to.equal(null);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  });

  it('refuses a release of another program and records the run as failed', async () => {
    const { code } = await upcomingRelease();
    const other = await upcomingRelease();
    const runId = await newRun(code, other.product.sku);
    const error = await generator().generate(runId).catch((e: unknown) => e);
    expect((error as { code?: string }).code).to.equal('subscription.not_in_program');
    expect((await ctx.services.subscriptions.getRun(runId)).status).to.equal('failed');
  });

  it('lets one generator work on a program at a time', async () => {
    const { code, product } = await upcomingRelease();
    for (let i = 0; i < 3; i += 1) await enroll(code);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: Pick<CheckoutService, 'placeOrder'> = {
      async placeOrder(body, context) {
        await gate;
        return ctx.services.checkout.placeOrder(body, context);
      },
    };
    const firstRun = generator(slow).generate(await newRun(code, product.sku), { concurrency: 1 });
    // The first run holds the lease once it has claimed its first enrollment.
    while ((await ctx.services.subscriptions.models.Allocations.countDocuments({ releaseSku: product.sku })) === 0) await new Promise((r) => setTimeout(r, 20));
    const second = await generator().generate(await newRun(code, product.sku)).catch((e: unknown) => e);
    expect((second as { code?: string }).code).to.equal('subscription.generator_busy');
    release();
    expect((await firstRun).done).to.equal(3);
    expect((await expectNoDuplicates(product.sku)).size).to.equal(3);
  });

  it('queues one notice per enrollment with confirm, skip and cancel links, once', async () => {
    const { code, product } = await upcomingRelease();
    const a = await enroll(code);
    const b = await enroll(code);
    const { createNoticeSender } = await import('../../workers/subscriptions/notices.ts');
    const { core } = ctx.services;
    const notices = createNoticeSender({ subscriptions: ctx.services.subscriptions, queues: core.queues, clock: core.clock, logger: core.logger });
    expect(await notices.send(code, product.sku)).to.include({ sent: 2, skipped: 0 });
    const job = (await core.queues.queue('email').getJob(subscriptionEmailEventId('subscription_upcoming', a.enrollmentId, product.sku))) as Job;
    expect(job.data).to.deep.include({ template: 'subscription_upcoming', enrollmentId: a.enrollmentId, customerId: a.customerId });
    expect(Object.keys(job.data.data.links).sort()).to.deep.equal(['cancel', 'confirm', 'skip']);
    expect(JSON.stringify(job.data)).not.to.contain('Elm St');
    expect(await notices.send(code, product.sku)).to.include({ sent: 0, skipped: 2 });
    expect(b.enrollmentId).to.be.a('string');
  });
});
