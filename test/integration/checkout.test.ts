import { expect } from 'chai';
import { api } from '../support/http.ts';
import { createTestContext, type TestContext } from '../support/infra.ts';
import { address, checkoutBody, createProduct } from '../support/fixtures.ts';
import { shopperOrderBody, uniqueShopper } from '../support/order-flow.ts';

describe('checkout: web orders through the API', function () {
  this.timeout(60_000);
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestContext();
  });
  after(async () => ctx?.close());

  it('places a guest order: 201, pending fraud check, stock taken, outbox relayed, no card data kept', async () => {
    const product = await createProduct(ctx.services, { totalStock: 5 });
    const response = await api(ctx.baseUrl, 'POST', '/api/orders', { body: checkoutBody([{ sku: product.sku, quantity: 2 }]) });
    expect(response.status, JSON.stringify(response.body)).to.equal(201);
    expect(response.body.status).to.equal('pending_fraud_check');
    expect(response.body.orderNumber).to.match(/^\d{8}$/);
    expect(response.body.totals).to.deep.equal({ subtotalCents: 10_000, taxCents: 0, shippingCents: 495, totalCents: 10_495 });
    expect(response.body.payment, 'checked, not charged: money moves after the fraud check').to.deep.equal({ brand: 'visa', last4: '4242', charge: 'not_charged' });
    expect(response.body.timeline.map((step: { status: string; statusText: string }) => [step.status, step.statusText])).to.deep.equal([['pending_fraud_check', 'received and being verified']]);
    expect(await ctx.services.inventory.getStock(product.sku)).to.equal(3);

    const stored = await ctx.services.orders.findByNumber(response.body.orderNumber);
    expect(stored!.outbox.map((e) => e.name)).to.include.members(['fraud-check', 'email', 'order.placed']);
    expect(stored!.outbox.every((e) => e.relayedAt !== null)).to.equal(true);
    expect(stored!.outboxPending).to.equal(false);
    expect(JSON.stringify(stored)).not.to.contain('4242424242424242');
    const job = await ctx.services.core.queues.queue('fraud-check').getJob(stored!.outbox.find((e) => e.name === 'fraud-check')!.id);
    expect(job?.data).to.deep.include({ orderId: stored!._id });
  });

  it('replays the first result for a repeated Idempotency-Key and rejects the key with another body', async () => {
    const product = await createProduct(ctx.services, { totalStock: 5 });
    const body = checkoutBody([{ sku: product.sku, quantity: 1 }]);
    const headers = { 'idempotency-key': `key-${Date.now()}` };
    const first = await api(ctx.baseUrl, 'POST', '/api/orders', { body, headers });
    const second = await api(ctx.baseUrl, 'POST', '/api/orders', { body, headers });
    expect(first.status).to.equal(201);
    expect(second.status).to.equal(201);
    expect(second.body.orderNumber).to.equal(first.body.orderNumber);
    expect(second.headers.get('idempotent-replayed')).to.equal('true');
    expect(await ctx.services.inventory.getStock(product.sku)).to.equal(4);
    const other = await api(ctx.baseUrl, 'POST', '/api/orders', { body: checkoutBody([{ sku: product.sku, quantity: 2 }]), headers });
    expect(other.status).to.equal(409);
    expect(other.body.error.code).to.equal('idempotency.key_reused');
  });

  it('names every missing mandatory field and rejects unknown fields', async () => {
    const response = await api(ctx.baseUrl, 'POST', '/api/orders', { body: { lines: [{ sku: 'X1', quantity: 1 }], surprise: true } });
    expect(response.status).to.equal(400);
    const paths = response.body.error.fields.map((f: { path: string; code: string }) => `${f.path}:${f.code}`);
    expect(paths).to.include.members(['purchaser:required', 'billingAddress:required', 'shipments:required', 'payment:required', 'attestation:required', 'surprise:unrecognized_key']);
  });

  it('requires the terms and age attestation', async () => {
    const product = await createProduct(ctx.services);
    const response = await api(ctx.baseUrl, 'POST', '/api/orders', { body: checkoutBody([{ sku: product.sku, quantity: 1 }], { attestation: { termsAccepted: true, ageConfirmed: false } }) });
    expect(response.status).to.equal(400);
    expect(response.body.error.fields[0].path).to.equal('attestation.ageConfirmed');
  });

  it('rejects a bad card number with the field path, before reserving anything', async () => {
    const product = await createProduct(ctx.services, { totalStock: 3 });
    const body = checkoutBody([{ sku: product.sku, quantity: 1 }]);
    (body.payment as { card: { number: string } }).card.number = '4242424242424241';
    const response = await api(ctx.baseUrl, 'POST', '/api/orders', { body });
    expect(response.status).to.equal(400);
    expect(response.body.error.fields).to.deep.include({ path: 'payment.card.number', code: 'card.luhn', message: response.body.error.fields[0].message });
    expect(await ctx.services.inventory.getStock(product.sku)).to.equal(3);
  });

  it('answers every problem of the request at once: the schema\'s and the card\'s together', async () => {
    const product = await createProduct(ctx.services, { totalStock: 3 });
    const body = checkoutBody([{ sku: product.sku, quantity: 1 }]);
    (body.purchaser as { email: string }).email = 'ada@';
    (body.billingAddress as { state: string }).state = 'ZZ';
    Object.assign((body.payment as { card: Record<string, unknown> }).card, { number: '4242424242424241', expMonth: 13, cvv: '12' });
    const response = await api(ctx.baseUrl, 'POST', '/api/orders', { body });
    expect(response.status).to.equal(400);
    const paths = response.body.error.fields.map((f: { path: string; code: string }) => f.path);
    expect(paths).to.include.members(['purchaser.email', 'billingAddress.state', 'payment.card.number', 'payment.card.expMonth', 'payment.card.cvv']);
    expect(new Set(paths).size, 'one problem per field').to.equal(paths.length);
    expect(response.body.error.fields.find((f: { path: string }) => f.path === 'payment.card.number').code).to.equal('card.luhn');
    expect(await ctx.services.inventory.getStock(product.sku)).to.equal(3);
  });

  it('answers a declined card with 402 and puts the stock back', async () => {
    const product = await createProduct(ctx.services, { totalStock: 3 });
    const body = checkoutBody([{ sku: product.sku, quantity: 1 }]);
    (body.payment as { card: { number: string } }).card.number = '4000000000000002';
    const response = await api(ctx.baseUrl, 'POST', '/api/orders', { body });
    expect(response.status).to.equal(402);
    expect(response.body.error.code).to.equal('payment.card_declined');
    expect(await ctx.services.inventory.getStock(product.sku)).to.equal(3);
  });

  it('enforces the household limit across orders and address spellings', async () => {
    const product = await createProduct(ctx.services, { totalStock: 10, householdLimit: 1 });
    const first = await api(ctx.baseUrl, 'POST', '/api/orders', { body: checkoutBody([{ sku: product.sku, quantity: 1 }]) });
    expect(first.status).to.equal(201);
    const sameHouse = checkoutBody([{ sku: product.sku, quantity: 1 }], { shipments: [{ address: address({ line1: '1500 Pennsylvania Avenue Northwest' }) }] });
    const second = await api(ctx.baseUrl, 'POST', '/api/orders', { body: sameHouse });
    expect(second.status).to.equal(422);
    expect(second.body.error.code).to.equal('inventory.household_limit');
    const tooMany = await api(ctx.baseUrl, 'POST', '/api/orders', { body: checkoutBody([{ sku: product.sku, quantity: 2 }], { shipments: [{ address: address({ line1: '1 Main St', city: 'Springfield', state: 'IL', postalCode: '62701' }) }] }) });
    expect(tooMany.status).to.equal(422);
  });

  it('lets a guest look an order up with the email or billing ZIP, and hides it otherwise', async () => {
    const product = await createProduct(ctx.services);
    const placed = await api(ctx.baseUrl, 'POST', '/api/orders', { body: checkoutBody([{ sku: product.sku, quantity: 1 }]) });
    const byEmail = await api(ctx.baseUrl, 'POST', '/api/orders/lookup', { body: { orderNumber: placed.body.orderNumber, email: 'ADA@example.com' } });
    expect(byEmail.status).to.equal(200);
    expect(byEmail.body.statusText).to.equal('received and being verified');
    const byZip = await api(ctx.baseUrl, 'POST', '/api/orders/lookup', { body: { orderNumber: placed.body.orderNumber, postalCode: '20220' } });
    expect(byZip.status).to.equal(200);
    const wrong = await api(ctx.baseUrl, 'POST', '/api/orders/lookup', { body: { orderNumber: placed.body.orderNumber, postalCode: '99999' } });
    expect(wrong.status).to.equal(404);
  });

  it('uses a cart: add-time limit check, then checkout from the cart', async () => {
    const product = await createProduct(ctx.services, { householdLimit: 2 });
    const cart = await api(ctx.baseUrl, 'POST', '/api/carts');
    expect(cart.status).to.equal(201);
    const tooMany = await api(ctx.baseUrl, 'PUT', `/api/carts/${cart.body.cartId}/lines`, { body: { sku: product.sku, quantity: 3 } });
    expect(tooMany.status).to.equal(422);
    expect(tooMany.body.error.code).to.equal('cart.household_limit');
    const ok = await api(ctx.baseUrl, 'PUT', `/api/carts/${cart.body.cartId}/lines`, { body: { sku: product.sku, quantity: 2 } });
    expect(ok.body.subtotalCents).to.equal(10_000);
    const body = checkoutBody([], { cartId: cart.body.cartId });
    delete (body as { lines?: unknown }).lines;
    const placed = await api(ctx.baseUrl, 'POST', '/api/orders', { body });
    expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
    expect(placed.body.lines[0].quantity).to.equal(2);
    expect((await api(ctx.baseUrl, 'GET', `/api/carts/${cart.body.cartId}`)).status).to.equal(404);
  });

  it('needs an admission token for each waiting room guarding the order, and only for those', async () => {
    const [first, second, unguarded] = await Promise.all([createProduct(ctx.services), createProduct(ctx.services), createProduct(ctx.services)]);
    const { waitingRoom } = ctx.services;
    const opened = new Date(Date.now() - 60_000);
    await waitingRoom.openRoom({ roomId: first.sku, opensAt: opened, admitPerSecond: 1000 });
    await waitingRoom.openRoom({ roomId: second.sku, opensAt: opened, admitPerSecond: 1000 });
    const shopper = uniqueShopper();
    const tokenFor = async (room: string) => {
      await waitingRoom.join(room, shopper.email);
      return (await waitingRoom.status(room, shopper.email)).admissionToken as string;
    };
    const [firstToken, secondToken] = [await tokenFor(first.sku), await tokenFor(second.sku)];
    const lines = [
      { sku: first.sku, quantity: 1 },
      { sku: second.sku, quantity: 1 },
    ];
    const place = (admissionToken?: string | string[]) =>
      api(ctx.baseUrl, 'POST', '/api/orders', { body: { ...shopperOrderBody(shopper, lines), ...(admissionToken ? { admissionToken } : {}) } });

    expect((await place()).body.error.code).to.equal('waiting_room.admission_required');
    const oneRoomOnly = await place(firstToken);
    expect(oneRoomOnly.status).to.equal(403);
    expect(oneRoomOnly.body.error.code).to.equal('waiting_room.admission_invalid');
    expect((await place([firstToken, firstToken])).status).to.equal(403);
    const both = await place([secondToken, firstToken]);
    expect(both.status, JSON.stringify(both.body)).to.equal(201);
    const noRoom = await api(ctx.baseUrl, 'POST', '/api/orders', { body: shopperOrderBody(uniqueShopper(), [{ sku: unguarded.sku, quantity: 1 }]) });
    expect(noRoom.status).to.equal(201);
  });

  it('offers a standardised address as a suggestion', async () => {
    const response = await api(ctx.baseUrl, 'POST', '/api/addresses/standardize', { body: { address: { line1: '123 north main street apartment 4', city: 'springfield', state: 'Illinois', postalCode: '62701', country: 'US' } } });
    expect(response.status).to.equal(200);
    expect(response.body.standardized.line1).to.match(/^123 N MAIN ST/);
    expect(response.body.status).to.equal('corrected');
  });
});
