import { expect } from 'chai';
import { once } from 'node:events';
import type { OrderDoc } from '../../api/orders/model.ts';
import { freePort, waitForPort } from '../../platform/embedded/net.ts';
import { findExecutable, startManagedProcess, type ManagedProcess } from '../../platform/embedded/process.ts';
import { startWorkers, type RunningWorkers } from '../../workers/start.ts';
import { createProduct } from '../support/fixtures.ts';
import { api } from '../support/http.ts';
import { createTestContext, type TestContext } from '../support/infra.ts';
import { placeWebOrder, shopperOrderBody, uniqueShopper, waitFor, waitForStatus, type Shopper } from '../support/order-flow.ts';
import { createStaffUser, loginStaff } from '../support/staff-sessions.ts';

/**
 * The platform on a Redis of its own, which the test kills (SIGKILL, like a crash) and restarts on
 * the same port without persistence, so it comes back empty: the worst case short of losing Mongo.
 * The steps depend on each other and run in order.
 */
describe('Redis outage: reads keep working, checkout refuses cleanly, nothing accepted is lost', function () {
  this.timeout(180_000);
  let port: number;
  let redisServer: ManagedProcess | undefined;
  let ctx: TestContext;
  let workers: RunningWorkers;
  let csrToken: string;
  let sku: string;
  const before_ = { shopper: uniqueShopper(), orderNumber: '' };
  const during = { shopper: uniqueShopper(), orderNumber: '' };

  async function startRedis(): Promise<void> {
    const binary = findExecutable('redis-server');
    if (!binary) throw new Error('redis-server is not on PATH');
    redisServer = startManagedProcess(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction']);
    await waitForPort('127.0.0.1', port, 10_000, 'private redis-server');
  }

  async function killRedis(): Promise<void> {
    const child = redisServer!.child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    await redisServer!.stop();
    redisServer = undefined;
    const { redis } = ctx.services.core;
    await waitFor('the API to notice Redis is gone', async () => (redis.status === 'ready' ? undefined : true), 10_000);
  }

  before(async () => {
    port = await freePort();
    await startRedis();
    ctx = await createTestContext({ redisUrl: `redis://127.0.0.1:${port}` });
    workers = await startWorkers(ctx.runtime, { maintenance: { intervalMs: 200 } });
    csrToken = await loginStaff(ctx, await createStaffUser(ctx, 'csr'));
    sku = (await createProduct(ctx.services, { totalStock: 20 })).sku;
  });

  after(async () => {
    if (!redisServer && port) await startRedis().catch(() => undefined);
    await workers?.close();
    await ctx?.close();
    await redisServer?.stop();
  });

  it('takes and completes orders while Redis is up', async () => {
    before_.orderNumber = (await placeWebOrder(ctx, before_.shopper, [{ sku, quantity: 1 }])).body.orderNumber;
    await waitForStatus(ctx, before_.orderNumber, 'paid');
    expect(await ctx.services.inventory.getStock(sku)).to.equal(19);
  });

  it('keeps an order whose effects could not be handed to Redis because it died right after the write', async () => {
    const { orders } = ctx.services;
    const insert = orders.insert;
    orders.insert = async (order: OrderDoc) => {
      const written = await insert(order);
      await killRedis();
      return written;
    };
    try {
      during.orderNumber = (await placeWebOrder(ctx, during.shopper, [{ sku, quantity: 2 }])).body.orderNumber;
    } finally {
      orders.insert = insert;
    }
    const stored = (await orders.findByNumber(during.orderNumber))!;
    expect(stored.status).to.equal('pending_fraud_check');
    expect(stored.outboxPending).to.equal(true);
    expect(stored.outbox.map((e) => e.relayedAt)).to.deep.equal([null, null, null]);
  });

  it('keeps serving the catalog, guest order lookup and the staff order view while Redis is down', async () => {
    const catalog = await api(ctx.baseUrl, 'GET', '/api/catalog/products?pageSize=100');
    expect(catalog.status).to.equal(200);
    expect(catalog.body.items.map((p: { sku: string }) => p.sku)).to.include(sku);

    const lookup = await api(ctx.baseUrl, 'POST', '/api/orders/lookup', { body: { orderNumber: before_.orderNumber, email: before_.shopper.email } });
    expect(lookup.status, JSON.stringify(lookup.body)).to.equal(200);
    expect(lookup.body.status).to.equal('paid');

    const staffView = await api(ctx.baseUrl, 'GET', `/api/staff/orders/${during.orderNumber}`, { token: csrToken });
    expect(staffView.status).to.equal(200);
    expect(staffView.body.status).to.equal('pending_fraud_check');

    const ready = await api(ctx.baseUrl, 'GET', '/readyz');
    expect(ready.status).to.equal(503);
    expect(ready.body.checks.redis).to.match(/^unavailable/);
    expect(ready.body.checks.mongo).to.equal('ok');
  });

  it('answers a new order with 503 checkout.unavailable while Redis is still down (it does not wait for Redis)', async () => {
    const response = await api(ctx.baseUrl, 'POST', '/api/orders', { body: shopperOrderBody(uniqueShopper(), [{ sku, quantity: 1 }]) });
    expect(response.status).to.equal(503);
    expect(response.body.error.code).to.equal('checkout.unavailable');
    expect(redisServer, 'Redis is still down').to.equal(undefined);
    // Nothing was half-done: no order for that shopper exists.
    expect(await ctx.services.orders.model.countDocuments({})).to.equal(2);
  });

  it('when Redis returns empty: rebuilds stock, relays the waiting order, and the workers finish it', async () => {
    await startRedis();
    const relayed = await waitForStatus(ctx, during.orderNumber, 'paid', 60_000);
    expect(relayed.outbox.every((e) => e.relayedAt instanceof Date)).to.equal(true);
    expect(relayed.statusHistory.map((h) => h.to)).to.deep.equal(['pending_fraud_check', 'payment_pending', 'paid']);
    // The counters were rebuilt from Mongo: 20 - 1 (before) - 2 (during).
    expect(await waitFor('stock to be rebuilt', async () => ((await ctx.services.inventory.getStock(sku)) === 17 ? 17 : undefined))).to.equal(17);
  });

  it('takes new orders again after the outage', async () => {
    const shopper: Shopper = uniqueShopper();
    const placed = await placeWebOrder(ctx, shopper, [{ sku, quantity: 3 }]);
    await waitForStatus(ctx, placed.body.orderNumber, 'paid', 60_000);
    expect(await ctx.services.inventory.getStock(sku)).to.equal(14);
  });
});
