import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { cartModel } from '../../api/carts/model.ts';
import { customerSessionModel } from '../../api/customers/model.ts';
import { idempotencyModel } from '../../api/idempotency/model.ts';
import { staffSessionModel } from '../../api/staff/model.ts';
import { reconcileInventory, requeueStranded, runMaintenanceTask, startMaintenanceLoop, startMaintenanceWorker } from '../../workers/maintenance/worker.ts';
import { createProduct } from '../support/fixtures.ts';
import { createTestContext, type TestContext } from '../support/infra.ts';
import { placeWebOrder, uniqueShopper, waitFor, waitForJob } from '../support/order-flow.ts';
import { deleteKeys } from '../../platform/redis-keys.ts';

describe('maintenance: outbox relay, reservation expiry, purges, stock reconcile', function () {
  this.timeout(90_000);
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestContext();
  });
  after(async () => ctx?.close());

  async function deleteInventoryKeys() {
    const { redis, redisPrefix } = ctx.services.core;
    await deleteKeys(redis, `${redisPrefix}:inv*`);
    await redis.del(`${redisPrefix}:maintenance:inventory-reconciled`);
  }

  it('relays the outbox of an order whose effects never reached Redis', async () => {
    const product = await createProduct(ctx.services);
    const { orders } = ctx.services;
    const relayWritten = orders.relayWritten;
    // The order is written, then Redis fails before its effects are handed over (relayWritten logs
    // that and leaves the outbox to the relay loop).
    orders.relayWritten = async () => undefined;
    let orderNumber: string;
    try {
      orderNumber = (await placeWebOrder(ctx, uniqueShopper(), [{ sku: product.sku, quantity: 1 }])).body.orderNumber;
    } finally {
      orders.relayWritten = relayWritten;
    }
    const pending = (await orders.findByNumber(orderNumber))!;
    expect(pending.outboxPending).to.equal(true);
    expect(pending.outbox.every((e) => e.relayedAt === null)).to.equal(true);
    expect(await ctx.services.core.queues.queue('fraud-check').getJob(pending.outbox.find((e) => e.name === 'fraud-check')!.id)).to.equal(undefined);

    const loop = startMaintenanceLoop(ctx.services, { intervalMs: 100 });
    try {
      const relayed = await waitFor('the outbox to be relayed', async () => {
        const order = await orders.findByNumber(orderNumber);
        return order && !order.outboxPending ? order : undefined;
      });
      expect(relayed.outbox.every((e) => e.relayedAt instanceof Date)).to.equal(true);
      const fraudEntry = relayed.outbox.find((e) => e.name === 'fraud-check')!;
      const job = await ctx.services.core.queues.queue('fraud-check').getJob(fraudEntry.id);
      expect(job?.data).to.deep.equal({ orderId: relayed._id, eventId: fraudEntry.id });
      const events = await ctx.services.core.events.readSince('0', 10_000);
      expect(events.some((e) => e.type === 'order.placed' && (e.data as { orderNumber: string }).orderNumber === orderNumber)).to.equal(true);
    } finally {
      await loop.close();
    }
  });

  it('returns the units of reservations that expired', async () => {
    const product = await createProduct(ctx.services, { totalStock: 10 });
    const reservationId = `abandoned-${randomUUID()}`;
    await ctx.services.inventory.reserve({ reservationId, householdKey: 'house-1', lines: [{ sku: product.sku, quantity: 3, householdLimit: null }], ttlMs: 1 });
    expect(await ctx.services.inventory.getStock(product.sku)).to.equal(7);
    const loop = startMaintenanceLoop(ctx.services, { intervalMs: 100 });
    try {
      const released = await waitFor('the reservation to expire', async () => {
        const reservation = await ctx.services.inventory.getReservation(reservationId);
        return reservation?.status === 'released' ? reservation : undefined;
      });
      expect(released.releaseReason).to.equal('expired');
      expect(await ctx.services.inventory.getStock(product.sku)).to.equal(10);
    } finally {
      await loop.close();
    }
  });

  it('purges customer sessions that ended and staff sessions ended over 30 days ago, and keeps the rest', async () => {
    const { core } = ctx.services;
    const customerSessions = customerSessionModel(core.mongo);
    const staffSessions = staffSessionModel(core.mongo);
    const now = Date.now();
    const day = 86_400_000;
    const customerSession = (id: string, expiresAt: number) =>
      ({ _id: id, tokenHash: randomUUID(), customerId: 'c1', createdAt: new Date(now - day), lastSeenAt: new Date(now - 1000), expiresAt: new Date(expiresAt) });
    await customerSessions.create([customerSession(`ended-${randomUUID()}`, now - 1000), customerSession(`live-${randomUUID()}`, now + day)]);
    const staffSession = (tokenHash: string, expiresAt: number, revokedAt: number | null) =>
      ({ tokenHash, staffUserId: '6566f0f0f0f0f0f0f0f0f0f0', createdAt: new Date(expiresAt - day), lastSeenAt: new Date(expiresAt - day), expiresAt: new Date(expiresAt), revokedAt: revokedAt === null ? null : new Date(revokedAt) });
    await staffSessions.create([
      staffSession('staff-long-ended', now - 31 * day, null),
      staffSession('staff-revoked-long-ago', now + day, now - 40 * day),
      staffSession('staff-recently-ended', now - 2 * day, null),
      staffSession('staff-live', now + day, null),
    ]);

    expect(await runMaintenanceTask(ctx.services, 'purge-expired')).to.equal(3);
    expect((await customerSessions.find({}, { _id: 1 }).lean()).map((s) => s._id.split('-')[0])).to.deep.equal(['live']);
    expect((await staffSessions.find({}, { tokenHash: 1 }).lean()).map((s) => s.tokenHash).sort()).to.deep.equal(['staff-live', 'staff-recently-ended']);
  });

  it('purges expired idempotency keys and carts, and keeps live ones', async () => {
    const { core, carts, idempotency } = ctx.services;
    const past = new Date(Date.now() - 60_000);
    const expiredCart = await carts.create(null);
    const liveCart = await carts.create(null);
    await cartModel(core.mongo).updateOne({ _id: expiredCart.cartId }, { $set: { expiresAt: past } });
    await idempotency.run('test', `expired-${randomUUID()}`, { a: 1 }, async () => ({ status: 200, body: {} }));
    await idempotency.run('test', `live-${randomUUID()}`, { a: 2 }, async () => ({ status: 200, body: {} }));
    await idempotencyModel(core.mongo).updateOne({ _id: { $regex: /^test:expired-/ } }, { $set: { expiresAt: past } });

    expect(await runMaintenanceTask(ctx.services, 'purge-expired')).to.equal(2);
    expect(await cartModel(core.mongo).exists({ _id: expiredCart.cartId })).to.equal(null);
    expect(await cartModel(core.mongo).exists({ _id: liveCart.cartId })).to.not.equal(null);
    expect(await idempotencyModel(core.mongo).countDocuments({ _id: { $regex: /^test:live-/ } })).to.equal(1);
  });

  it('rebuilds stock and household counts from the orders holding stock', async () => {
    const product = await createProduct(ctx.services, { totalStock: 10, householdLimit: 5 });
    const [a, b, c] = [uniqueShopper(), uniqueShopper(), uniqueShopper()];
    const orderA = (await placeWebOrder(ctx, a, [{ sku: product.sku, quantity: 2 }])).body.orderNumber;
    const orderB = (await placeWebOrder(ctx, b, [{ sku: product.sku, quantity: 3 }])).body.orderNumber;
    const orderC = (await placeWebOrder(ctx, c, [{ sku: product.sku, quantity: 1 }])).body.orderNumber;
    const [docA, docB, docC] = await Promise.all([orderA, orderB, orderC].map(async (n) => (await ctx.services.orders.findByNumber(n))!));
    await ctx.services.orderLifecycle.cancel(docC!._id, { actor: 'test', reason: 'customer changed their mind' });
    expect(await ctx.services.inventory.getStock(product.sku)).to.equal(5);

    // Redis loses the counters (a restart without persistence).
    await deleteInventoryKeys();
    expect(await ctx.services.inventory.getStock(product.sku)).to.equal(null);

    const results = await reconcileInventory(ctx.services);
    expect(results.find((r) => r.sku === product.sku)).to.deep.include({ available: 5, committedQuantity: 5, oversoldBy: 0 });
    expect(await ctx.services.inventory.getStock(product.sku)).to.equal(5);
    expect(await ctx.services.inventory.householdHeld(product.sku, docA!.shipments[0]!.householdKey)).to.equal(2);
    expect(await ctx.services.inventory.householdHeld(product.sku, docB!.shipments[0]!.householdKey)).to.equal(3);
    expect(await ctx.services.inventory.householdHeld(product.sku, docC!.shipments[0]!.householdKey)).to.equal(0);
    // Household limits hold again: A's household may take 3 more, then no more.
    await placeWebOrder(ctx, uniqueShopper({ address: a.address }), [{ sku: product.sku, quantity: 3 }]);
    const over = await placeWebOrder(ctx, uniqueShopper({ address: a.address }), [{ sku: product.sku, quantity: 1 }]).then(() => 'placed', (error: Error) => error.message);
    expect(over).to.match(/^order placement failed: 422 .*inventory\.household_limit/);
    expect(await ctx.services.inventory.getStock(product.sku)).to.equal(2);
  });

  it('rebuilds the counters by itself when Redis comes back empty', async () => {
    const product = await createProduct(ctx.services, { totalStock: 7 });
    await placeWebOrder(ctx, uniqueShopper(), [{ sku: product.sku, quantity: 2 }]);
    await reconcileInventory(ctx.services);
    await deleteInventoryKeys();
    const loop = startMaintenanceLoop(ctx.services, { intervalMs: 60_000 });
    try {
      await loop.tick();
      expect(await ctx.services.inventory.getStock(product.sku)).to.equal(5);
    } finally {
      await loop.close();
    }
  });

  it('gives an order waiting on a job Redis lost its job back, once', async () => {
    const product = await createProduct(ctx.services);
    const placed = await placeWebOrder(ctx, uniqueShopper(), [{ sku: product.sku, quantity: 1 }]);
    const order = (await ctx.services.orders.findByNumber(placed.body.orderNumber))!;
    const jobId = order.outbox.find((e) => e.name === 'fraud-check')!.id;
    const queue = ctx.services.core.queues.queue('fraud-check');
    await (await queue.getJob(jobId))!.remove();

    expect(await requeueStranded(ctx.services, 0)).to.be.greaterThanOrEqual(1);
    const job = await queue.getJob(jobId);
    expect(job?.data).to.deep.equal({ orderId: order._id, eventId: jobId });
    expect(await requeueStranded(ctx.services, 0)).to.equal(0);
    // Young orders are left alone: their job may simply not be relayed yet.
    await (await queue.getJob(jobId))!.remove();
    expect(await requeueStranded(ctx.services, 60 * 60_000)).to.equal(0);
  });

  it('runs a task on demand from the maintenance queue', async () => {
    const worker = startMaintenanceWorker(ctx.runtime);
    try {
      const jobId = `on-demand-${randomUUID()}`;
      await ctx.services.core.queues.enqueue('maintenance', { task: 'expire-reservations' }, { jobId });
      const job = await waitForJob(ctx, 'maintenance', jobId, 'completed');
      expect(job.returnvalue).to.deep.equal({ handled: 0 });
    } finally {
      await worker.close();
    }
  });

  it('signs an audit checkpoint on its schedule, only when the head moved', async () => {
    await ctx.services.audit.record({ actor: { type: 'system', component: 'maintenance-test' }, action: 'customer.read', resource: { type: 'customer', id: 'x' }, outcome: 'success' });
    const loop = startMaintenanceLoop(ctx.services, { intervalMs: 60_000, auditCheckpointIntervalMs: 0 });
    try {
      await loop.tick();
      const head = (await ctx.services.audit.query({ page: 1, pageSize: 1 })).entries[0]!;
      const objects = (await ctx.services.core.objectStore.list('audit-checkpoints/')).map((o) => o.key);
      expect(objects).to.include(`audit-checkpoints/${String(head.seq).padStart(12, '0')}.json`);
      await loop.tick();
      expect(await ctx.services.core.objectStore.list('audit-checkpoints/')).to.have.length(objects.length);
      expect(await runMaintenanceTask(ctx.services, 'audit-checkpoint')).to.equal(0);
    } finally {
      await loop.close();
    }
    expect((await ctx.services.audit.verifyChain()).checkpoints?.latestSeq).to.be.a('number');
  });
});
