import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { OrderDoc } from '../../api/orders/model.ts';
import { generateOrderNumber } from '../../api/orders/order-number.ts';
import type { OrderStatus } from '../../api/orders/status.ts';
import type { CallEvent, SimulatedCall } from '../../ivr/simulator/call.ts';
import type { LiveSimCall } from '../../ivr/simulator/registry.ts';
import { createTestContext, type TestContext } from '../support/infra.ts';
import { movableClock } from '../support/staff-sessions.ts';

/** Shared helpers of the IVR integration suites (test/integration/ivr-*.test.ts). */

/** What Twilio would be configured with; the app listens on 127.0.0.1 behind this "proxy". */
export const PUBLIC_BASE = 'https://ivr.mintdesk.test';

/** Tuesday 2026-12-01 14:00 in New York (EST): inside the shipped business hours. */
export const OPEN_AT = Date.parse('2026-12-01T19:00:00Z');
/** Sunday 2026-12-06 11:00 in New York: closed. */
export const CLOSED_AT = Date.parse('2026-12-06T16:00:00Z');

export interface IvrTestContext extends TestContext {
  time: ReturnType<typeof movableClock>;
}

export async function createIvrContext(env: Record<string, string> = {}, start = OPEN_AT): Promise<IvrTestContext> {
  const time = movableClock(start);
  const ctx = await createTestContext({ clock: time.clock, env: { PUBLIC_BASE_URL: PUBLIC_BASE, ...env } });
  return Object.assign(ctx, { time });
}

/** A simulated call placed through the embedded phone network (simulator mode), started. */
export async function placeCall(ctx: IvrTestContext, from = randomCaller(), options: { clock?: () => Date } = {}): Promise<LiveSimCall> {
  const simulator = ctx.runtime.phoneSimulator?.registry;
  if (!simulator) throw new Error('the test context is not in simulator mode');
  const live = simulator.place({ from, connectTo: ctx.baseUrl, ...(options.clock ? { clock: options.clock } : {}) });
  await live.call.start();
  return live;
}

let callerCounter = 0;
export function randomCaller(): string {
  callerCounter += 1;
  return `+1303555${String(1000 + ((process.pid * 7 + callerCounter) % 9000)).padStart(4, '0')}`;
}

/** The IVR never caused an application error and Twilio would have had nothing to complain about. */
export function expectHealthy(call: SimulatedCall): void {
  expect(call.applicationError, JSON.stringify(call.applicationError)).to.equal(undefined);
  expect(call.warnings).to.deep.equal([]);
}

export function said(call: SimulatedCall): string {
  return call.transcript.flatMap((e) => (e.type === 'say' ? [e.text] : [])).join(' ');
}

export function lastGather(call: SimulatedCall): Extract<CallEvent, { type: 'gather' }> {
  const gathers = call.transcript.filter((e): e is Extract<CallEvent, { type: 'gather' }> => e.type === 'gather');
  const last = gathers.at(-1);
  if (!last) throw new Error('the call never listened for input');
  return last;
}

/** An order as checkout stores it, inserted directly so its status and shipments are known. */
export async function insertOrder(
  ctx: TestContext,
  options: { status?: OrderStatus; zip?: string; shipments?: { carrier?: string; shippedAt?: Date }[]; quantities?: number[]; placedAt?: Date } = {},
): Promise<OrderDoc> {
  const zip = options.zip ?? '20220';
  const address = { line1: '1500 Pennsylvania Ave NW', city: 'Washington', state: 'DC', postalCode: zip, country: 'US' };
  const shipments = (options.shipments ?? [{}]).map((s) => ({ address, gift: false, householdKey: 'hk', ...(s.carrier ? { carrier: s.carrier } : {}), ...(s.shippedAt ? { shippedAt: s.shippedAt } : {}) }));
  for (let attempt = 0; ; attempt += 1) {
    const order: OrderDoc = {
      _id: randomUUID(),
      orderNumber: generateOrderNumber(),
      channel: 'web',
      status: options.status ?? 'paid',
      customerId: null,
      guest: true,
      purchaser: { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', phone: '+12025550100' },
      billingAddress: address,
      shipments,
      lines: (options.quantities ?? [1]).map((quantity, i) => ({ sku: `T-${i}`, name: `Coin ${i}`, quantity, unitPriceCents: 5000, shipTo: 0 })),
      totals: { subtotalCents: 5000, taxCents: 0, shippingCents: 495, totalCents: 5495 },
      payment: { cardToken: 'tok', brand: 'visa', last4: '4242', avs: null, codeMatch: null, authId: null, captureId: null, declineReason: null },
      reservationIds: [],
      fraud: { score: null, decision: null, ruleSetVersion: null, fired: [], scoredAt: null, reviewedBy: null, reviewDecision: null, reviewNote: null, reviewedAt: null },
      statusHistory: [],
      outbox: [],
      outboxPending: false,
      placedBy: null,
      enrollmentId: null,
      releaseSku: null,
      clientIp: null,
      marketingOptIn: false,
      placedAt: options.placedAt ?? new Date('2026-11-20T15:00:00Z'),
      version: 1,
    };
    try {
      return await ctx.services.orders.insert(order);
    } catch (error) {
      if (attempt > 3) throw error;
    }
  }
}

export interface StandInRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  form: Record<string, string>;
}

/**
 * A tiny stand-in for Twilio's REST API on loopback: records every request and answers like Twilio
 * does for the resources the IVR uses (a queue member, a call). `failNext` makes it answer 500 once.
 */
export async function startTwilioStandIn(): Promise<{ url: string; requests: StandInRequest[]; failNext(): void; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  const requests: StandInRequest[] = [];
  let fail = false;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, contentType: req.headers['content-type'], form: Object.fromEntries(new URLSearchParams(body)) });
      res.setHeader('Content-Type', 'application/json');
      if (fail) {
        fail = false;
        res.statusCode = 500;
        res.end(JSON.stringify({ code: 20500, message: 'Internal Server Error', status: 500 }));
        return;
      }
      const member = path.match(/^\/2010-04-01\/Accounts\/(AC\w+)\/Queues\/(QU\w+)\/Members\/(CA\w+)\.json$/);
      if (member) {
        res.end(JSON.stringify({ call_sid: member[3], queue_sid: member[2], date_enqueued: new Date().toUTCString(), position: 1, wait_time: 10, uri: path }));
        return;
      }
      const call = path.match(/^\/2010-04-01\/Accounts\/(AC\w+)\/Calls\/(CA\w+)\.json$/);
      if (call) {
        res.end(JSON.stringify({ sid: call[2], account_sid: call[1], status: 'in-progress', uri: path }));
        return;
      }
      res.statusCode = 404;
      res.end(JSON.stringify({ code: 20404, message: 'The requested resource was not found', status: 404 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext: () => {
      fail = true;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
