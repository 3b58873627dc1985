import { randomBytes, randomInt } from 'node:crypto';
import type { OrderDoc } from '../../api/orders/model.ts';
import type { OrderStatus } from '../../api/orders/status.ts';
import { checkoutBody, withLuhnCheckDigit } from './fixtures.ts';
import { api, type ApiResponse } from './http.ts';
import type { TestContext } from './infra.ts';

/**
 * Orders for worker tests. Fraud rules count orders per card, email, household and recipient name,
 * so a shopper made here is unique on all of them: only the rule a test means to trip fires.
 */

/** A Luhn-valid Visa number no other order uses; the simulated gateway approves any such number. */
export function uniqueCardNumber(): string {
  return withLuhnCheckDigit(`4${Array.from({ length: 14 }, () => randomInt(10)).join('')}`);
}

export interface Shopper {
  email: string;
  firstName: string;
  lastName: string;
  address: { line1: string; city: string; state: string; postalCode: string; country: string };
  cardNumber: string;
}

export function uniqueShopper(overrides: Partial<Shopper> = {}): Shopper {
  const tag = randomBytes(4).toString('hex');
  return {
    email: `shopper-${tag}@example.com`,
    firstName: 'Grace',
    lastName: 'Hopper',
    address: { line1: `${randomInt(1, 99_999)} ${['Elm', 'Oak', 'Pine', 'Maple', 'Cedar'][randomInt(5)]} St`, city: 'Springfield', state: 'IL', postalCode: '62701', country: 'US' },
    cardNumber: uniqueCardNumber(),
    ...overrides,
  };
}

/** A web checkout body for `shopper` (billing and shipping at the shopper's address). */
export function shopperOrderBody(shopper: Shopper, lines: { sku: string; quantity: number }[]) {
  const body = checkoutBody(lines, {
    purchaser: { firstName: shopper.firstName, lastName: shopper.lastName, email: shopper.email, phone: '217-555-0100' },
    billingAddress: shopper.address,
    shipments: [{ address: shopper.address }],
  });
  const payment = body.payment as { card: { number: string; nameOnCard: string } };
  payment.card.number = shopper.cardNumber;
  payment.card.nameOnCard = `${shopper.firstName} ${shopper.lastName}`;
  return body;
}

export async function placeWebOrder(ctx: TestContext, shopper: Shopper, lines: { sku: string; quantity: number }[]): Promise<ApiResponse> {
  const response = await api(ctx.baseUrl, 'POST', '/api/orders', { body: shopperOrderBody(shopper, lines) });
  if (response.status !== 201) throw new Error(`order placement failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response;
}

/** Polls `probe` until it returns a value other than undefined; fails with `what` after the deadline. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Waits until the order has `status` and the effects of getting there (jobs, events) were handed
 * to Redis: a transition writes the status first and relays its outbox just after.
 */
export async function waitForStatus(ctx: TestContext, orderNumber: string, status: OrderStatus, timeoutMs?: number): Promise<OrderDoc> {
  let seen: string | undefined;
  try {
    return await waitFor(
      `order ${orderNumber} to become ${status} with its outbox relayed`,
      async () => {
        const order = await ctx.services.orders.findByNumber(orderNumber);
        seen = order ? `${order.status}${order.outboxPending ? ' (outbox pending)' : ''}` : undefined;
        return order?.status === status && !order.outboxPending ? order : undefined;
      },
      timeoutMs,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; it is ${seen ?? 'missing'}`);
  }
}

/** Waits until a BullMQ job reaches a finished state and returns it. */
export async function waitForJob(ctx: TestContext, queue: Parameters<TestContext['services']['core']['queues']['queue']>[0], jobId: string, state: 'completed' | 'failed', timeoutMs?: number) {
  return waitFor(`${queue} job ${jobId} to be ${state}`, async () => {
    const job = await ctx.services.core.queues.queue(queue).getJob(jobId);
    if (!job) return undefined;
    return (await job.getState()) === state ? job : undefined;
  }, timeoutMs);
}
