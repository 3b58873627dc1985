import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { Clock } from '../../platform/clock.ts';
import { NotFoundError, parseOrThrow } from '../../platform/errors.ts';
import type { DomainEventData, DomainEventType, EventBus } from '../../platform/events.ts';
import { withLock } from '../../platform/locks.ts';
import type { Logger } from '../../platform/logger.ts';
import type { QueueName, QueuePayload, Queues } from '../../platform/queues.ts';
import { orderModel, type OrderDoc } from './model.ts';
import { isValidOrderNumber, normalizeOrderNumberInput } from './order-number.ts';
import { GuestOrderLookup, type OrderView } from './schema.ts';
import { assertTransition, STATUS_DESCRIPTIONS, type OrderStatus } from './status.ts';

/** An effect to trigger, recorded on the order in the same write as the change that causes it. */
export type OutboxItem =
  | { kind: 'job'; name: QueueName; payload: Record<string, unknown> }
  | { kind: 'event'; name: DomainEventType; payload: Record<string, unknown> };

export function outboxJob<N extends QueueName>(name: N, payload: Omit<QueuePayload<N>, 'eventId'> & { eventId?: string }): OutboxItem {
  return { kind: 'job', name, payload: payload as Record<string, unknown> };
}
export function outboxEvent<T extends DomainEventType>(name: T, payload: DomainEventData<T>): OutboxItem {
  return { kind: 'event', name, payload: payload as Record<string, unknown> };
}

/** A copy of `doc` with `$set`-style dotted paths applied, copying each object it descends into. */
export function withPaths<T extends Record<string, unknown>>(doc: T, set: Record<string, unknown>): T {
  const copy: Record<string, unknown> = { ...doc };
  for (const [path, value] of Object.entries(set)) {
    const keys = path.split('.');
    let target = copy;
    for (const key of keys.slice(0, -1)) {
      const next = target[key];
      target[key] = next && typeof next === 'object' && !(next instanceof Date) ? { ...(next as Record<string, unknown>) } : {};
      target = target[key] as Record<string, unknown>;
    }
    target[keys.at(-1)!] = value;
  }
  return copy as T;
}

export function toOutboxEntries(items: OutboxItem[], now: Date) {
  return items.map((item) => {
    const id = randomUUID();
    // Jobs carry the entry id as their eventId: workers use it to make a repeated job harmless.
    const payload = item.kind === 'job' && !('eventId' in item.payload && item.payload.eventId) ? { ...item.payload, eventId: id } : item.payload;
    return { id, kind: item.kind, name: item.name, payload, createdAt: now, relayedAt: null };
  });
}

export interface TransitionOptions {
  actor: string;
  reason: string;
  /** Extra fields to set in the same write (payment results, fraud decision, tracking...). */
  set?: Record<string, unknown>;
  outbox?: OutboxItem[];
  /** Statuses from which this transition is a no-op (a repeated job), instead of an error. */
  idempotentFrom?: OrderStatus[];
}

export function createOrderService({ mongo, redis, redisPrefix, clock, events, queues, logger }: { mongo: Connection; redis: Redis; redisPrefix: string; clock: Clock; events: EventBus; queues: Queues; logger: Logger }) {
  const Orders = orderModel(mongo);
  const lockKey = (orderId: string) => `${redisPrefix}:lock:order:${orderId}`;

  function view(order: OrderDoc): OrderView {
    return {
      orderNumber: order.orderNumber,
      status: order.status as OrderStatus,
      statusText: STATUS_DESCRIPTIONS[order.status as OrderStatus],
      channel: order.channel as OrderView['channel'],
      placedAt: order.placedAt.toISOString(),
      lines: order.lines.map((l) => ({ sku: l.sku, name: l.name, quantity: l.quantity, unitPriceCents: l.unitPriceCents, shipTo: l.shipTo })),
      shipments: order.shipments.map((s) => ({
        recipientName: s.recipient?.firstName ? `${s.recipient.firstName} ${s.recipient.lastName ?? ''}`.trim() : `${order.purchaser.firstName} ${order.purchaser.lastName}`,
        city: s.address?.city ?? '',
        state: s.address?.state ?? '',
        postalCode: s.address?.postalCode ?? '',
        ...(s.carrier ? { carrier: s.carrier } : {}),
        ...(s.trackingNumber ? { trackingNumber: s.trackingNumber } : {}),
        ...(s.shippedAt ? { shippedAt: s.shippedAt.toISOString() } : {}),
      })),
      totals: order.totals,
      payment: { brand: order.payment.brand, last4: order.payment.last4, charge: !order.payment.captureId ? 'not_charged' : order.status === 'cancelled' ? 'refunded' : 'charged' },
      timeline: order.statusHistory.map((entry) => ({ status: entry.to as OrderStatus, statusText: STATUS_DESCRIPTIONS[entry.to as OrderStatus], at: new Date(entry.at).toISOString() })),
    };
  }

  /** Hands the order's unrelayed effects to Redis and marks them relayed. The caller holds the order's lock. */
  async function relayHeld(order: Pick<OrderDoc, '_id' | 'outbox'>): Promise<number> {
    let relayed = 0;
    const outbox = [];
    for (const entry of order.outbox) {
      if (!entry.relayedAt) {
        if (entry.kind === 'job') {
          // The entry id is the job id: BullMQ ignores a second add, so a relay retried after a crash adds nothing.
          await queues.enqueue(entry.name as QueueName, entry.payload as never, { jobId: entry.id });
        } else {
          await events.publish(entry.name as DomainEventType, entry.payload as never);
        }
        relayed += 1;
        outbox.push({ ...entry, relayedAt: clock() });
      } else outbox.push(entry);
    }
    if (relayed > 0) await Orders.updateOne({ _id: order._id }, { $set: { outbox, outboxPending: false } });
    return relayed;
  }

  async function relay(orderId: string): Promise<number> {
    return withLock(redis, lockKey(orderId), async () => {
      const order = await Orders.findById(orderId).lean();
      return order ? relayHeld(order as OrderDoc) : 0;
    });
  }

  /** Relays an order the caller has just written, without reading it back. */
  async function relayWritten(order: Pick<OrderDoc, '_id' | 'outbox'>): Promise<void> {
    await withLock(redis, lockKey(order._id as string), () => relayHeld(order)).catch((error: Error) =>
      logger.warn({ err: error.message, orderId: order._id }, 'outbox relay deferred to the relay loop'),
    );
  }

  return {
    model: Orders,
    view,

    async insert(order: OrderDoc): Promise<OrderDoc> {
      await Orders.create(order);
      return order;
    },

    async get(orderId: string): Promise<OrderDoc> {
      const order = await Orders.findById(orderId).lean();
      if (!order) throw new NotFoundError('order');
      return order as OrderDoc;
    },

    async findByNumber(orderNumber: string): Promise<OrderDoc | undefined> {
      const normalised = normalizeOrderNumberInput(orderNumber);
      if (!isValidOrderNumber(normalised)) return undefined;
      return ((await Orders.findOne({ orderNumber: normalised }).lean()) as OrderDoc | null) ?? undefined;
    },

    async listForCustomer(customerId: string, page = 1, pageSize = 20) {
      const [items, total] = await Promise.all([
        Orders.find({ customerId }).sort({ placedAt: -1 }).skip((page - 1) * pageSize).limit(pageSize).lean(),
        Orders.countDocuments({ customerId }),
      ]);
      return { items: items.map((o) => view(o as OrderDoc)), page, pageSize, total };
    },

    /**
     * A guest proves the order is theirs with the purchaser email or the billing ZIP. Every failure
     * is the same not-found, so the lookup cannot be used to learn which order numbers exist.
     */
    async guestLookup(input: unknown): Promise<OrderView> {
      const query = parseOrThrow(GuestOrderLookup, input);
      const normalised = normalizeOrderNumberInput(query.orderNumber);
      const order = isValidOrderNumber(normalised) ? ((await Orders.findOne({ orderNumber: normalised }).lean()) as OrderDoc | null) : null;
      const zipMatches = (zip: string | undefined) => !!zip && order?.billingAddress?.postalCode.slice(0, 5) === zip.slice(0, 5);
      if (!order || !((query.email && order.purchaser.email === query.email) || zipMatches(query.postalCode))) {
        throw new NotFoundError('order', 'order.not_found', 'We could not find an order with those details.');
      }
      return view(order);
    },

    /**
     * Moves an order along its lifecycle. Under a per-order lock (FerretDB updates are not atomic
     * under concurrency) it checks the transition, records who/when/why, sets the extra fields and
     * appends outbox items in one write, then relays the outbox.
     */
    async transition(orderId: string, to: OrderStatus, options: TransitionOptions): Promise<OrderDoc> {
      return withLock(redis, lockKey(orderId), async () => {
        const order = (await Orders.findById(orderId).lean()) as OrderDoc | null;
        if (!order) throw new NotFoundError('order');
        const from = order.status as OrderStatus;
        if (from === to || options.idempotentFrom?.includes(from)) return order;
        assertTransition(from, to);
        const now = clock();
        const entries = toOutboxEntries(
          [...(options.outbox ?? []), outboxEvent('order.status_changed', { orderId, orderNumber: order.orderNumber, from, to })],
          now,
        );
        const historyEntry = { from, to, at: now, actor: options.actor, reason: options.reason };
        await Orders.updateOne(
          { _id: orderId },
          {
            $set: { status: to, outboxPending: true, ...(options.set ?? {}) },
            $push: { statusHistory: historyEntry, outbox: { $each: entries } },
            $inc: { version: 1 },
          },
        );
        // Under the lock nobody else wrote the order, so the update applied to what was read is what is stored.
        const updated = withPaths(
          { ...order, status: to, outboxPending: true, version: (order.version ?? 0) + 1, statusHistory: [...order.statusHistory, historyEntry], outbox: [...order.outbox, ...entries] },
          options.set ?? {},
        ) as OrderDoc;
        // Relayed inside the same lock, from memory: a re-read would only return what was just written.
        await relayHeld(updated).catch((error: Error) => logger.warn({ err: error.message, orderId }, 'outbox relay deferred'));
        return updated;
      });
    },

    /** Sets fields that are not a status change (fraud score, payment ids), under the same lock. */
    async update(orderId: string, set: Record<string, unknown>, outbox: OutboxItem[] = []): Promise<void> {
      await withLock(redis, lockKey(orderId), async () => {
        const entries = toOutboxEntries(outbox, clock());
        await Orders.updateOne({ _id: orderId }, { $set: { ...set, ...(entries.length ? { outboxPending: true } : {}) }, ...(entries.length ? { $push: { outbox: { $each: entries } } } : {}) });
      });
      if (outbox.length) await relay(orderId).catch((error: Error) => logger.warn({ err: error.message, orderId }, 'outbox relay deferred'));
    },

    relay,
    relayWritten,

    /** The relay loop's work: every order with effects not yet handed to Redis. */
    async relayPending(limit = 200): Promise<number> {
      const pending = await Orders.find({ outboxPending: true }, { _id: 1 }).limit(limit).lean();
      let count = 0;
      for (const { _id } of pending) count += await relay(_id as string).catch(() => 0);
      return count;
    },

    /** Customer ids with an order of that number (staff lookup by order number). */
    async customerIdsByOrderNumber(orderNumber: string): Promise<string[]> {
      const order = await this.findByNumber(orderNumber);
      return order?.customerId ? [order.customerId] : [];
    },
  };
}

export type OrderService = ReturnType<typeof createOrderService>;
