import { randomUUID } from 'node:crypto';
import type { Services } from '../../api/services.ts';
import type { OrderFixture } from './call-scripts.ts';
import { createProduct } from '../../test/support/fixtures.ts';
import { api } from '../../test/support/http.ts';
import { shopperOrderBody, uniqueShopper } from '../../test/support/order-flow.ts';

/**
 * What the IVR benchmark needs before any call: orders to look up, placed through the real
 * checkout (POST /api/orders) so the IVR reads what checkout stores, and hours that keep the line
 * open whenever the benchmark runs, so the "representative" script always waits in the queue
 * (the daytime path, with its screen pop and queue writes) instead of depending on the clock.
 */

/** Billing ZIP codes of the orders (with a matching city and state each): not every caller enters the same one. */
const BILLING = [
  { city: 'Springfield', state: 'IL', postalCode: '62701' },
  { city: 'Washington', state: 'DC', postalCode: '20220' },
  { city: 'San Francisco', state: 'CA', postalCode: '94105' },
  { city: 'Denver', state: 'CO', postalCode: '80202' },
] as const;

/**
 * Places `count` web orders through the HTTP API and returns their numbers and billing ZIPs. Each
 * comes from its own client address (the runtime must trust X-Forwarded-For), as shoppers do;
 * the per-address order limit would otherwise stop a benchmark machine placing them all.
 */
export async function placeOrdersThroughCheckout(services: Services, baseUrl: string, count: number): Promise<OrderFixture[]> {
  const product = await createProduct(services, { totalStock: 1_000_000, householdLimit: null, priceCents: 8_500, name: 'Benchmark proof set' });
  const orders: OrderFixture[] = [];
  for (let n = 0; n < count; n += 1) {
    const billing = BILLING[n % BILLING.length]!;
    const shopper = uniqueShopper();
    shopper.address = { ...shopper.address, ...billing };
    const response = await api(baseUrl, 'POST', '/api/orders', {
      body: shopperOrderBody(shopper, [{ sku: product.sku, quantity: 1 + (n % 3) }]),
      headers: { 'idempotency-key': `bench-ivr-${randomUUID()}`, 'x-forwarded-for': `198.51.100.${1 + (n % 250)}` },
    });
    if (response.status !== 201) throw new Error(`checkout refused benchmark order ${n}: ${response.status} ${JSON.stringify(response.body)}`);
    const orderNumber = String(response.body.orderNumber ?? response.body.order?.orderNumber ?? '');
    if (!/^\d{8}$/.test(orderNumber)) throw new Error(`checkout answered without an order number: ${JSON.stringify(response.body).slice(0, 300)}`);
    orders.push({ orderNumber, zip: billing.postalCode });
  }
  return orders;
}

/** Saves an IVR config version whose hours are every day, all day, with no holidays (as an admin would). */
export async function openAroundTheClock(services: Services): Promise<number> {
  const { version, config } = await services.ivr.getConfig();
  const actor = { type: 'staff' as const, staffUserId: 'bench', username: 'bench-ivr', role: 'admin' as const, sessionId: 'bench', ip: undefined };
  const saved = await services.ivr.saveConfig(actor, {
    baseVersion: version,
    note: 'bench:ivr: open around the clock, so the representative script queues at any hour',
    config: { ...config, hours: { ...config.hours, weekly: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], open: '00:00', close: '24:00' }], holidays: [] } },
  });
  return saved.version;
}
