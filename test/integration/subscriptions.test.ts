import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { signLink } from '../../api/subscriptions/links.ts';
import { validateCard } from '../../api/vault/cards.ts';
import { createSubscriptionGenerator } from '../../workers/subscriptions/generator.ts';
import { api } from '../support/http.ts';
import { createTestContext, type TestContext } from '../support/infra.ts';
import { address, createProduct } from '../support/fixtures.ts';
import { createStaffUser, loginStaff } from '../support/staff-sessions.ts';

const DAY = 24 * 3600 * 1000;
const ATTESTATION = { termsAccepted: true, ageConfirmed: true } as const;
const BASE = '/api/customers/me/enrollments';

describe('subscriptions: enrollments API and signed links', function () {
  this.timeout(180_000);
  let ctx: TestContext;
  let code: string;
  let sku: string;
  let releaseAt: Date;

  before(async () => {
    ctx = await createTestContext();
    code = `T-PROG-${randomBytes(3).toString('hex').toUpperCase()}`;
    releaseAt = new Date(Date.now() + 10 * DAY);
    sku = (await createProduct(ctx.services, { program: code, releaseAt: releaseAt.toISOString(), householdLimit: 5 })).sku;
  });
  after(async () => ctx?.close());

  /** A customer signed in over HTTP, with one saved card. */
  async function customer() {
    const s = randomBytes(4).toString('hex');
    const registered = await api(ctx.baseUrl, 'POST', '/api/customers/register', {
      body: {
        firstName: 'Ada',
        lastName: `Byron${s}`,
        email: `ada.${s}@example.com`,
        phone: '(202) 555-0188',
        loginName: `ada_${s}`,
        password: 'correct horse battery',
        securityQuestion: { questionId: 'favourite_coin', answer: 'Buffalo nickel' },
        ageAttestation: true,
        acceptTerms: true,
      },
    });
    expect(registered.status, JSON.stringify(registered.body)).to.equal(201);
    const customerId = registered.body.customer.id as string;
    const card = validateCard({ number: '4111111111111111', expMonth: 6, expYear: new Date().getUTCFullYear() + 2, cvv: '321' }, new Date(), '');
    const saved = await ctx.services.vault.tokenise(card, { nameOnCard: 'Ada Byron', customerId, save: true });
    return { customerId, token: registered.body.session.token as string, cardToken: saved.cardToken };
  }

  const body = (cardToken: string, overrides: Record<string, unknown> = {}) => ({
    program: code,
    quantity: 2,
    shipTo: address({ line1: `${100 + Math.floor(Math.random() * 9000)} Oak Ave`, city: 'Springfield', state: 'IL', postalCode: '62701' }),
    cardToken,
    attestation: ATTESTATION,
    ...overrides,
  });

  it('enrolls a signed-in customer and lists, reads, changes, pauses, resumes and cancels the enrollment', async () => {
    const me = await customer();
    expect((await api(ctx.baseUrl, 'POST', BASE, { body: body(me.cardToken) })).status).to.equal(401);

    const created = await api(ctx.baseUrl, 'POST', BASE, { token: me.token, body: body(me.cardToken, { limits: { maxReleasesPerYear: 2 } }) });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body).to.deep.include({ program: code, status: 'active', quantity: 2, lastFailure: null });
    expect(created.body.card).to.deep.include({ cardToken: me.cardToken, last4: '1111', brand: 'visa' });
    expect(created.body.billingAddress).to.deep.equal(created.body.shipTo);
    expect(created.body.limits).to.deep.equal({ maxReleasesPerYear: 2, endsAt: null });
    expect(created.headers.get('cache-control')).to.equal('no-store');
    const id = created.body.id as string;

    const list = await api(ctx.baseUrl, 'GET', BASE, { token: me.token });
    expect(list.body.items.map((e: { id: string }) => e.id)).to.deep.equal([id]);
    expect((await api(ctx.baseUrl, 'GET', `${BASE}/${id}`, { token: me.token })).body.id).to.equal(id);

    const second = await customer();
    const newCard = await ctx.services.vault.tokenise(validateCard({ number: '5555555555554444', expMonth: 1, expYear: new Date().getUTCFullYear() + 4, cvv: '999' }, new Date(), ''), { nameOnCard: 'Ada Byron', customerId: me.customerId, save: true });
    const changed = await api(ctx.baseUrl, 'PATCH', `${BASE}/${id}`, {
      token: me.token,
      body: { quantity: 1, shipTo: address({ line1: '9 Cedar Ln', city: 'Peoria', state: 'IL', postalCode: '61602' }), cardToken: newCard.cardToken, limits: { endsAt: new Date(Date.now() + 400 * DAY).toISOString() } },
    });
    expect(changed.status, JSON.stringify(changed.body)).to.equal(200);
    expect(changed.body).to.deep.include({ quantity: 1 });
    expect(changed.body.shipTo.city).to.equal('Peoria');
    expect(changed.body.card.last4).to.equal('4444');
    expect(changed.body.limits.maxReleasesPerYear).to.equal(2);
    expect(changed.body.limits.endsAt).to.be.a('string');
    // Another customer sees nothing of it.
    expect((await api(ctx.baseUrl, 'GET', `${BASE}/${id}`, { token: second.token })).status).to.equal(404);
    expect((await api(ctx.baseUrl, 'POST', `${BASE}/${id}/pause`, { token: second.token })).status).to.equal(404);

    const paused = await api(ctx.baseUrl, 'POST', `${BASE}/${id}/pause`, { token: me.token });
    expect(paused.body).to.deep.include({ status: 'paused' });
    expect(paused.body.pausedAt).to.be.a('string');
    expect((await api(ctx.baseUrl, 'POST', `${BASE}/${id}/pause`, { token: me.token })).body.status).to.equal('paused');
    expect((await api(ctx.baseUrl, 'POST', `${BASE}/${id}/resume`, { token: me.token })).body).to.deep.include({ status: 'active', pausedAt: null });

    const cancelled = await api(ctx.baseUrl, 'POST', `${BASE}/${id}/cancel`, { token: me.token, body: { reason: 'too many coins' } });
    expect(cancelled.body.status).to.equal('cancelled');
    expect(cancelled.body.cancelledAt).to.be.a('string');
    for (const [method, path, payload] of [['PATCH', `${BASE}/${id}`, { quantity: 3 }], ['POST', `${BASE}/${id}/resume`, undefined], ['POST', `${BASE}/${id}/pause`, undefined]] as const) {
      const refused = await api(ctx.baseUrl, method, path, { token: me.token, ...(payload ? { body: payload } : {}) });
      expect(refused.status, path).to.equal(422);
      expect(refused.body.error.code).to.equal('subscription.cancelled');
    }
    // Cancelling frees the address: the customer may enroll it again.
    expect((await api(ctx.baseUrl, 'POST', BASE, { token: me.token, body: body(newCard.cardToken, { shipTo: changed.body.shipTo }) })).status).to.equal(201);
  });

  it('names each invalid field and refuses unknown fields, foreign cards, unknown programs and duplicates', async () => {
    const me = await customer();
    const other = await customer();

    const invalid = await api(ctx.baseUrl, 'POST', BASE, {
      token: me.token,
      body: { ...body(me.cardToken), quantity: 0, shipTo: address({ state: 'Illinois', postalCode: '6270' }), surprise: 1, attestation: { termsAccepted: true } },
    });
    expect(invalid.status).to.equal(400);
    const fields = invalid.body.error.fields.map((f: { path: string; code: string }) => `${f.path}:${f.code}`);
    expect(fields).to.include.members(['quantity:too_small', 'shipTo.state:custom', 'shipTo.postalCode:custom', 'surprise:unrecognized_key', 'attestation.ageConfirmed:required']);

    const missing = await api(ctx.baseUrl, 'POST', BASE, { token: me.token, body: {} });
    expect(missing.body.error.fields.map((f: { path: string; code: string }) => `${f.path}:${f.code}`)).to.include.members(['program:required', 'quantity:required', 'shipTo:required', 'cardToken:required', 'attestation:required']);

    const foreignCard = await api(ctx.baseUrl, 'POST', BASE, { token: me.token, body: body(other.cardToken) });
    expect(foreignCard.status).to.equal(400);
    expect(foreignCard.body.error.fields).to.deep.include({ path: 'cardToken', code: 'card.not_found', message: 'No such saved card.' });

    expect((await api(ctx.baseUrl, 'POST', BASE, { token: me.token, body: body(me.cardToken, { program: 'NO-SUCH-PROGRAM' }) })).body.error.code).to.equal('subscription.program_not_found');
    const tooMany = await api(ctx.baseUrl, 'POST', BASE, { token: me.token, body: body(me.cardToken, { quantity: 6 }) });
    expect(tooMany.status).to.equal(422);
    expect(tooMany.body.error.code).to.equal('subscription.quantity_above_limit');

    const enrollment = body(me.cardToken);
    const first = await api(ctx.baseUrl, 'POST', BASE, { token: me.token, body: enrollment, headers: { 'idempotency-key': `enroll-${randomBytes(4).toString('hex')}` } });
    expect(first.status).to.equal(201);
    const replay = await api(ctx.baseUrl, 'POST', BASE, { token: me.token, body: enrollment, headers: { 'idempotency-key': 'another-key-1' } });
    expect(replay.status).to.equal(409);
    expect(replay.body.error.code).to.equal('subscription.already_enrolled');

    const id = first.body.id as string;
    expect((await api(ctx.baseUrl, 'PATCH', `${BASE}/${id}`, { token: me.token, body: {} })).status).to.equal(400);
    const badPatch = await api(ctx.baseUrl, 'PATCH', `${BASE}/${id}`, { token: me.token, body: { cardToken: other.cardToken, program: 'X-Y' } });
    expect(badPatch.status).to.equal(400);
    expect(badPatch.body.error.fields.map((f: { path: string }) => f.path)).to.include('program');
    expect((await api(ctx.baseUrl, 'PATCH', `${BASE}/${id}`, { token: me.token, body: { cardToken: other.cardToken } })).body.error.code).to.equal('card.not_found');
    expect((await api(ctx.baseUrl, 'GET', `${BASE}/not-a-uuid`, { token: me.token })).status).to.equal(400);
  });

  it('acts on signed links: GET describes, POST confirms, skips (honoured by the generator) or cancels; tampered and expired links are refused', async () => {
    const me = await customer();
    const skipper = await api(ctx.baseUrl, 'POST', BASE, { token: me.token, body: body(me.cardToken) });
    const canceller = await api(ctx.baseUrl, 'POST', BASE, { token: me.token, body: body(me.cardToken) });
    const keeper = await api(ctx.baseUrl, 'POST', BASE, { token: me.token, body: body(me.cardToken) });
    const links = (id: string) => ctx.services.subscriptions.linksFor(id, sku, releaseAt);
    const path = (url: string) => new URL(url).pathname;

    const skip = links(skipper.body.id).skip;
    const preview = await api(ctx.baseUrl, 'GET', path(skip));
    expect(preview.status, JSON.stringify(preview.body)).to.equal(200);
    expect(preview.body).to.deep.include({ action: 'skip', program: code, allocation: null, enrollmentStatus: 'active', quantity: 2 });
    expect(preview.body.release.sku).to.equal(sku);
    expect((await api(ctx.baseUrl, 'GET', path(skip))).body.allocation, 'GET changed nothing').to.equal(null);

    expect((await api(ctx.baseUrl, 'POST', path(skip))).body).to.deep.include({ action: 'skip', outcome: 'skipped' });
    expect((await api(ctx.baseUrl, 'POST', path(skip))).body.outcome).to.equal('already_done');
    expect((await api(ctx.baseUrl, 'GET', path(skip))).body.allocation).to.equal('skipped');

    // Confirming after skipping withdraws the skip; skipping again puts it back.
    expect((await api(ctx.baseUrl, 'POST', path(links(skipper.body.id).confirm))).body.outcome).to.equal('confirmed');
    expect((await api(ctx.baseUrl, 'GET', path(skip))).body.allocation).to.equal(null);
    expect((await api(ctx.baseUrl, 'POST', path(skip))).body.outcome).to.equal('skipped');

    const cancel = await api(ctx.baseUrl, 'POST', path(links(canceller.body.id).cancel));
    expect(cancel.body).to.deep.include({ action: 'cancel', outcome: 'cancelled' });
    expect((await api(ctx.baseUrl, 'GET', `${BASE}/${canceller.body.id}`, { token: me.token })).body.status).to.equal('cancelled');
    expect((await api(ctx.baseUrl, 'POST', path(links(canceller.body.id).skip))).body.error.code).to.equal('subscription.cancelled');

    // Tampered: the signature of one enrollment's link on another enrollment's claims.
    const [, , signature] = skip.split('/').at(-1)!.split('.');
    const [version, claims] = links(keeper.body.id).skip.split('/').at(-1)!.split('.');
    const tampered = await api(ctx.baseUrl, 'POST', `/api/subscriptions/links/${version}.${claims}.${signature}`);
    expect(tampered.status).to.equal(403);
    expect(tampered.body.error.code).to.equal('subscription.link_invalid');
    const expiredToken = signLink({ enrollmentId: keeper.body.id, releaseSku: sku, action: 'skip', expiresAt: new Date(Date.now() - 60_000) }, ctx.services.core.secrets.appSecret);
    const expired = await api(ctx.baseUrl, 'POST', `/api/subscriptions/links/${expiredToken}`);
    expect(expired.status).to.equal(422);
    expect(expired.body.error.code).to.equal('subscription.link_expired');
    expect((await api(ctx.baseUrl, 'GET', `/api/subscriptions/links/${expiredToken}`)).status).to.equal(422);

    // The generator: an order for the keeper, none for the skipped or the cancelled enrollment.
    const { core } = ctx.services;
    const generator = createSubscriptionGenerator({ subscriptions: ctx.services.subscriptions, checkout: ctx.services.checkout, orders: ctx.services.orders, queues: core.queues, redis: core.redis, redisPrefix: core.redisPrefix, clock: core.clock, logger: core.logger });
    const runId = (await ctx.services.subscriptions.createRun({ program: code, releaseSku: sku, trigger: 'admin', requestedBy: 'test', retryFailed: false }))._id;
    await generator.generate(runId);
    const ordered = (await ctx.services.orders.model.find({ releaseSku: sku, customerId: me.customerId }).lean()).map((o) => o.enrollmentId);
    expect(ordered).to.deep.equal([keeper.body.id]);
    // Too late to skip once the order is placed; the customer's order history has it.
    const late = await api(ctx.baseUrl, 'POST', path(links(keeper.body.id).skip));
    expect(late.status).to.equal(422);
    expect(late.body.error.code).to.equal('subscription.already_ordered');
    const history = await api(ctx.baseUrl, 'GET', '/api/customers/me/orders', { token: me.token });
    expect(history.body.items.map((o: { channel: string }) => o.channel)).to.deep.equal(['subscription']);
  });

  it('lets admins list a program\'s enrollments (audited) and configure its schedule; others are refused', async () => {
    const me = await customer();
    const enrolled = await api(ctx.baseUrl, 'POST', BASE, { token: me.token, body: body(me.cardToken) });
    const admin = await createStaffUser(ctx, 'admin');
    const token = await loginStaff(ctx, admin);
    const csr = await loginStaff(ctx, await createStaffUser(ctx, 'csr'));

    expect((await api(ctx.baseUrl, 'GET', `/api/staff/subscriptions/programs/${code}/enrollments`, { token: csr })).status).to.equal(403);
    const list = await api(ctx.baseUrl, 'GET', `/api/staff/subscriptions/programs/${code}/enrollments?status=active&pageSize=100`, { token });
    expect(list.status, JSON.stringify(list.body)).to.equal(200);
    const mine = list.body.items.find((e: { id: string }) => e.id === enrolled.body.id);
    expect(mine).to.deep.include({ customerId: me.customerId, status: 'active' });
    expect(mine.shipTo.line1).to.equal(enrolled.body.shipTo.line1);
    const read = await api(ctx.baseUrl, 'GET', `/api/staff/subscriptions/enrollments/${enrolled.body.id}`, { token });
    expect(read.body.allocations).to.be.an('array');

    const audit = await ctx.services.audit.query({ resourceType: 'subscription_enrollment', page: 1, pageSize: 50 });
    const actions = audit.entries.filter((e) => e.actor.id === admin.id).map((e) => e.action);
    expect(actions).to.include.members(['subscription_enrollment.list', 'subscription_enrollment.read']);
    expect(JSON.stringify(audit.entries)).not.to.contain(enrolled.body.shipTo.line1);

    const settingsPath = `/api/staff/subscriptions/programs/${code}/settings`;
    expect((await api(ctx.baseUrl, 'GET', settingsPath, { token })).body).to.deep.include({ program: code, noticeLeadDays: 7, schedule: null });
    const bad = await api(ctx.baseUrl, 'PUT', settingsPath, { token, body: { noticeLeadDays: 2, allocationLeadDays: 5 } });
    expect(bad.status).to.equal(400);
    const saved = await api(ctx.baseUrl, 'PUT', settingsPath, { token, body: { noticeLeadDays: 14, allocationLeadDays: 2, schedule: { everyMinutes: 60 } } });
    expect(saved.status, JSON.stringify(saved.body)).to.equal(200);
    const schedulers = await ctx.services.core.queues.queue('subscription-generate').getJobSchedulers();
    expect(schedulers.map((s) => s.key)).to.include(`program.${code}`);
    await api(ctx.baseUrl, 'PUT', settingsPath, { token, body: { noticeLeadDays: 14, allocationLeadDays: 2, schedule: null } });
    expect((await ctx.services.core.queues.queue('subscription-generate').getJobSchedulers()).map((s) => s.key)).not.to.include(`program.${code}`);
  });
});
