import { expect } from 'chai';
import { hashEmail, hashHouseholdKey } from '../../api/fraud/high-risk.ts';
import { DEFAULT_FRAUD_RULE_SET } from '../../api/fraud/rules-schema.ts';
import { startWorkers, type RunningWorkers } from '../../workers/start.ts';
import { createProduct } from '../support/fixtures.ts';
import { api } from '../support/http.ts';
import { createTestContext, type TestContext } from '../support/infra.ts';
import { placeWebOrder, uniqueShopper, waitForStatus, type Shopper } from '../support/order-flow.ts';
import { createStaffUser, loginStaff } from '../support/staff-sessions.ts';

/** AVS no match (25) + total over $2,500 (10) and over $10,000 (20): 55, above the review threshold of 50. */
const AVS_MISMATCH_CARD = '4000000000000010';

describe('fraud review: analysts decide held orders, admins own the rules', function () {
  this.timeout(120_000);
  let ctx: TestContext;
  let workers: RunningWorkers;
  let analyst: string;
  let analystName: string;
  let admin: string;
  let csr: string;
  let bullion: string;

  before(async () => {
    ctx = await createTestContext();
    workers = await startWorkers(ctx.runtime);
    const analystUser = await createStaffUser(ctx, 'fraud_analyst');
    analystName = analystUser.username;
    analyst = await loginStaff(ctx, analystUser);
    admin = await loginStaff(ctx, await createStaffUser(ctx, 'admin'));
    csr = await loginStaff(ctx, await createStaffUser(ctx, 'csr'));
    bullion = (await createProduct(ctx.services, { totalStock: 50, priceCents: 1_000_000, name: 'Gold bar' })).sku;
  });
  after(async () => {
    await workers?.close();
    await ctx?.close();
  });

  async function heldOrder(shopper: Shopper = uniqueShopper({ cardNumber: AVS_MISMATCH_CARD })) {
    const placed = await placeWebOrder(ctx, shopper, [{ sku: bullion, quantity: 1 }]);
    return { shopper, orderNumber: placed.body.orderNumber as string, order: await waitForStatus(ctx, placed.body.orderNumber, 'fraud_review') };
  }

  it('holds a high-value order with an address mismatch and shows it to analysts with its score and reasons', async () => {
    const { orderNumber, order } = await heldOrder();
    expect(order.fraud.score).to.equal(55);
    expect(order.fraud.fired.map((f) => f.ruleId)).to.have.members(['order-value-high', 'order-value-very-high', 'avs-no-match']);

    const list = await api(ctx.baseUrl, 'GET', '/api/staff/fraud/reviews?pageSize=100', { token: analyst });
    expect(list.status).to.equal(200);
    const item = list.body.items.find((i: { orderNumber: string }) => i.orderNumber === orderNumber);
    expect(item).to.deep.include({ status: 'fraud_review', score: 55, ruleSetVersion: 1, totalCents: 1_000_495 });
    expect(item.fired.find((f: { ruleId: string }) => f.ruleId === 'avs-no-match').explanation).to.equal('Address verification: no match');

    const detail = await api(ctx.baseUrl, 'GET', `/api/staff/fraud/reviews/${orderNumber}`, { token: analyst });
    expect(detail.status).to.equal(200);
    expect(detail.body.payment).to.deep.equal({ brand: 'visa', last4: '0010', avs: 'mismatch', cvvCheck: 'match' });
    expect(detail.body.purchaser.email).to.equal(order.purchaser.email);
    expect(JSON.stringify(detail.body)).not.to.match(/4000000000000010|cardToken/);

    const reads = await ctx.services.audit.query({ action: 'fraud.review_read', resourceId: order._id, page: 1, pageSize: 10 });
    expect(reads.total).to.equal(1);
    expect(reads.entries[0]!.actor.username).to.equal(analystName);
    expect((await ctx.services.audit.query({ action: 'fraud.review_list', actor: analystName, page: 1, pageSize: 10 })).total).to.be.greaterThan(0);
  });

  it('keeps the review queue to fraud analysts: a CSR and an admin get 403', async () => {
    const { orderNumber } = await heldOrder();
    for (const token of [csr, admin]) {
      expect((await api(ctx.baseUrl, 'GET', '/api/staff/fraud/reviews', { token })).status).to.equal(403);
      expect((await api(ctx.baseUrl, 'GET', `/api/staff/fraud/reviews/${orderNumber}`, { token })).status).to.equal(403);
      const decision = await api(ctx.baseUrl, 'POST', `/api/staff/fraud/reviews/${orderNumber}/decision`, { token, body: { decision: 'approve', note: 'looks fine' } });
      expect(decision.status).to.equal(403);
      expect(decision.body.error.code).to.equal('staff.forbidden');
    }
    expect((await ctx.services.orders.findByNumber(orderNumber))!.status).to.equal('fraud_review');
  });

  it('approves: payment proceeds and the order is paid; the decision is recorded and audited', async () => {
    const { orderNumber, order } = await heldOrder();
    const noNote = await api(ctx.baseUrl, 'POST', `/api/staff/fraud/reviews/${orderNumber}/decision`, { token: analyst, body: { decision: 'approve' } });
    expect(noNote.status).to.equal(400);
    expect(noNote.body.error.fields.map((f: { path: string }) => f.path)).to.include('note');

    const approved = await api(ctx.baseUrl, 'POST', `/api/staff/fraud/reviews/${orderNumber}/decision`, { token: analyst, body: { decision: 'approve', note: 'Called the customer; known collector.' } });
    expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
    expect(approved.body.review).to.deep.include({ decision: 'approved', reviewedBy: analystName, note: 'Called the customer; known collector.' });
    const paid = await waitForStatus(ctx, orderNumber, 'paid');
    expect(paid.payment.captureId).to.be.a('string');
    expect(paid.statusHistory.map((h) => h.to)).to.deep.equal(['pending_fraud_check', 'fraud_review', 'payment_pending', 'paid']);

    // The same decision again (a retried request) is harmless; the opposite one is refused.
    const again = await api(ctx.baseUrl, 'POST', `/api/staff/fraud/reviews/${orderNumber}/decision`, { token: analyst, body: { decision: 'approve', note: 'Called the customer; known collector.' } });
    expect(again.status).to.equal(200);
    const flip = await api(ctx.baseUrl, 'POST', `/api/staff/fraud/reviews/${orderNumber}/decision`, { token: analyst, body: { decision: 'decline', note: 'changed my mind' } });
    expect(flip.status).to.equal(422);
    expect(flip.body.error.code).to.equal('fraud.review_not_pending');
    expect((await ctx.services.orders.findByNumber(orderNumber))!.status).to.equal('paid');

    const decisions = await ctx.services.audit.query({ action: 'fraud.review_decision', resourceId: order._id, page: 1, pageSize: 10 });
    expect(decisions.entries.map((e) => e.outcome).sort()).to.deep.equal(['failure', 'success', 'success']);
  });

  it('declines: the order ends, stock comes back, the customer is emailed, and the email and address go on the high-risk list', async () => {
    const stockBefore = await ctx.services.inventory.getStock(bullion);
    const { orderNumber, order, shopper } = await heldOrder();
    expect(await ctx.services.inventory.getStock(bullion)).to.equal(stockBefore! - 1);
    const emailsBefore = await ctx.services.fraud.highRiskCount('email');

    const declined = await api(ctx.baseUrl, 'POST', `/api/staff/fraud/reviews/${orderNumber}/decision`, { token: analyst, body: { decision: 'decline', note: 'Card reported stolen by the issuer.' } });
    expect(declined.status, JSON.stringify(declined.body)).to.equal(200);
    expect(declined.body.status).to.equal('declined');

    const stored = await ctx.services.orders.get(order._id);
    expect(stored.status).to.equal('declined');
    expect(stored.payment.authId).to.equal(null);
    expect(await ctx.services.inventory.getStock(bullion)).to.equal(stockBefore);
    const mail = stored.outbox.find((e) => e.name === 'email' && e.payload.template === 'order_declined');
    expect(mail, 'order_declined email in the outbox').to.not.equal(undefined);
    expect(mail!.relayedAt).to.be.instanceOf(Date);
    expect(await ctx.services.core.queues.queue('email').getJob(mail!.id)).to.not.equal(undefined);

    // Keyed hashes only: the list holds neither the email nor the address, nor any customer id.
    expect(await ctx.services.fraud.highRiskCount('email')).to.equal(emailsBefore + 1);
    const secret = ctx.services.core.secrets.appSecret;
    const entries = await ctx.services.core.mongo.collection('fraud_high_risk').find({}).toArray();
    const ids = entries.map((e) => String(e._id));
    expect(ids).to.include(`email:${hashEmail(secret, shopper.email)}`);
    expect(ids).to.include(`shipping_address:${hashHouseholdKey(secret, stored.shipments[0]!.householdKey)}`);
    const raw = JSON.stringify(entries);
    expect(raw).not.to.contain(shopper.email);
    expect(raw).not.to.contain(shopper.address.line1);
    expect(raw).not.to.contain(stored.customerId!);

    // The next order from that email (another card, another address) is held for the match...
    const sameEmail = await placeWebOrder(ctx, uniqueShopper({ email: shopper.email.toUpperCase() }), [{ sku: bullion, quantity: 1 }]);
    const heldByEmail = await waitForStatus(ctx, sameEmail.body.orderNumber, 'fraud_review');
    expect(heldByEmail.fraud.fired.find((f) => f.ruleId === 'high-risk-email')?.explanation).to.equal('The email address matches a confirmed fraudulent order');
    // ...and so is the next order to that address under another name and email.
    const sameAddress = await placeWebOrder(ctx, uniqueShopper({ address: shopper.address, firstName: 'Other' }), [{ sku: bullion, quantity: 1 }]);
    const heldByAddress = await waitForStatus(ctx, sameAddress.body.orderNumber, 'fraud_review');
    expect(heldByAddress.fraud.fired.map((f) => f.ruleId)).to.include('high-risk-shipping');
    expect(heldByAddress.fraud.fired.map((f) => f.ruleId)).not.to.include('high-risk-email');
  });

  it('answers 404 for an order that is not held and audits the failed read', async () => {
    const product = await createProduct(ctx.services);
    const placed = await placeWebOrder(ctx, uniqueShopper(), [{ sku: product.sku, quantity: 1 }]);
    const order = await waitForStatus(ctx, placed.body.orderNumber, 'paid');
    const response = await api(ctx.baseUrl, 'GET', `/api/staff/fraud/reviews/${placed.body.orderNumber}`, { token: analyst });
    expect(response.status).to.equal(404);
    const failures = await ctx.services.audit.query({ action: 'fraud.review_read', resourceId: order._id, outcome: 'failure', page: 1, pageSize: 5 });
    expect(failures.total).to.equal(1);
  });

  describe('rule-set admin', () => {
    it('shows the active rule set (seeded as version 1) and its history to admins only', async () => {
      const response = await api(ctx.baseUrl, 'GET', '/api/staff/fraud/rules', { token: admin });
      expect(response.status).to.equal(200);
      expect(response.body.active.version).to.equal(1);
      expect(response.body.active.rules).to.deep.equal(DEFAULT_FRAUD_RULE_SET.rules);
      expect(response.body.active.createdBy).to.equal('system:default');
      expect(response.body.history.map((v: { version: number }) => v.version)).to.deep.equal([1]);
      expect((await api(ctx.baseUrl, 'GET', '/api/staff/fraud/rules', { token: analyst })).status).to.equal(403);
      expect((await api(ctx.baseUrl, 'PUT', '/api/staff/fraud/rules', { token: analyst, body: { baseVersion: 1, reviewThreshold: 50, rules: [] } })).status).to.equal(403);
    });

    it('rejects an invalid rule set, naming each bad field, and stores nothing', async () => {
      const rules = structuredClone(DEFAULT_FRAUD_RULE_SET.rules) as Record<string, unknown>[];
      rules[0]!.weight = 500;
      rules[1]!.explanation = 'Order by {email}';
      rules[2]!.id = rules[3]!.id;
      const response = await api(ctx.baseUrl, 'PUT', '/api/staff/fraud/rules', { token: admin, body: { baseVersion: 1, reviewThreshold: 0, rules } });
      expect(response.status).to.equal(400);
      const paths = response.body.error.fields.map((f: { path: string }) => f.path);
      expect(paths).to.include.members(['reviewThreshold', 'rules.0.weight', 'rules.1.explanation', 'rules.3.id']);
      const missing = await api(ctx.baseUrl, 'PUT', '/api/staff/fraud/rules', { token: admin, body: { reviewThreshold: 50, rules: [] } });
      expect(missing.status).to.equal(400);
      expect(missing.body.error.fields.map((f: { path: string; code: string }) => `${f.path}:${f.code}`)).to.include('baseVersion:required');
      expect((await ctx.services.fraud.activeRuleSet()).version).to.equal(1);
    });

    it('stores an edit as a new version that scores the next orders, refuses a stale base, and audits the change', async () => {
      // Hold every order of $50 or more: a rule the default set does not have.
      const rules = [
        ...DEFAULT_FRAUD_RULE_SET.rules,
        { id: 'any-order', kind: 'order_value', weight: 60, enabled: true, thresholdCents: 5_000, explanation: 'Order total {total} is at or above {threshold}' },
      ];
      const saved = await api(ctx.baseUrl, 'PUT', '/api/staff/fraud/rules', { token: admin, body: { baseVersion: 1, reviewThreshold: 50, rules } });
      expect(saved.status, JSON.stringify(saved.body)).to.equal(200);
      expect(saved.body).to.deep.include({ version: 2, ruleCount: rules.length, reviewThreshold: 50 });
      const stale = await api(ctx.baseUrl, 'PUT', '/api/staff/fraud/rules', { token: admin, body: { baseVersion: 1, reviewThreshold: 50, rules } });
      expect(stale.status).to.equal(409);
      expect(stale.body.error.code).to.equal('fraud.rules_outdated');

      const product = await createProduct(ctx.services);
      const placed = await placeWebOrder(ctx, uniqueShopper(), [{ sku: product.sku, quantity: 1 }]);
      const held = await waitForStatus(ctx, placed.body.orderNumber, 'fraud_review');
      expect(held.fraud.ruleSetVersion).to.equal(2);
      expect(held.fraud.fired.map((f) => f.ruleId)).to.deep.equal(['any-order']);

      const listed = await api(ctx.baseUrl, 'GET', '/api/staff/fraud/rules', { token: admin });
      expect(listed.body.active.version).to.equal(2);
      expect(listed.body.history.map((v: { version: number }) => v.version)).to.deep.equal([2, 1]);
      const audited = await ctx.services.audit.query({ action: 'fraud.rules_update', page: 1, pageSize: 5 });
      expect(audited.total).to.equal(1);
      expect(audited.entries[0]!.details).to.deep.include({ version: 2, baseVersion: 1 });

      // Back to the default rules as version 3.
      const restored = await api(ctx.baseUrl, 'PUT', '/api/staff/fraud/rules', { token: admin, body: { baseVersion: 2, reviewThreshold: 50, rules: DEFAULT_FRAUD_RULE_SET.rules } });
      expect(restored.body.version).to.equal(3);
    });
  });
});
