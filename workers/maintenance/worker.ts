import type { ReconcileResult } from '../../api/inventory/service.ts';
import type { OrderDoc } from '../../api/orders/model.ts';
import { ORDERS_HOLDING_STOCK, type OrderStatus } from '../../api/orders/status.ts';
import type { Services } from '../../api/services.ts';
import type { QueueName } from '../../platform/queues.ts';
import { startQueueWorker, type RunningWorker, type WorkerRuntime } from '../runner.ts';

/**
 * Housekeeping the workers process owns: relay order outboxes Redis missed, expire abandoned stock
 * reservations, purge expired idempotency keys, carts and sessions, sign audit checkpoints, and
 * rebuild the Redis stock counters from Mongo at start-up and whenever Redis comes back empty.
 *
 * Why a timer loop in this process and not a repeatable BullMQ job: the loop's main job is to
 * repair what a Redis outage or a Redis restart without persistence broke, and a BullMQ schedule
 * lives in Redis and is lost with it (nothing would relay the outboxes that are waiting precisely
 * for Redis). Every task is idempotent and safe to run from several workers processes at once
 * (relays take a per-order lock and BullMQ ignores a job id it already has, expiry and reconcile
 * are atomic Lua, purges are deletes by date), so no leader election is needed; each extra
 * process only adds a few cheap queries per tick. The `maintenance` queue runs the same tasks on
 * demand (an admin or the CLI can enqueue one).
 */

export type MaintenanceTask = 'relay-outbox' | 'expire-reservations' | 'purge-expired' | 'audit-checkpoint';

export interface MaintenanceOptions {
  /**
   * How often outboxes are relayed and reservations expired.
   * @defaultValue 2000
   */
  intervalMs?: number;
  /**
   * How often expired idempotency keys, carts and sessions are purged.
   * @defaultValue 3_600_000
   */
  purgeIntervalMs?: number;
  /**
   * How often orders waiting on a job Redis no longer has are looked for.
   * @defaultValue 60_000
   */
  strandedCheckIntervalMs?: number;
  /**
   * An order is stranded when it has waited this long in pending_fraud_check or payment_pending
   * with its outbox relayed but no job for that step in Redis (a Redis restart without persistence).
   * @defaultValue 600_000
   */
  strandedAfterMs?: number;
  /**
   * How often the audit head is signed into S3 and the log (a checkpoint is written only when it moved).
   * @defaultValue AUDIT_CHECKPOINT_MINUTES
   */
  auditCheckpointIntervalMs?: number;
}

const STAFF_SESSION_KEEP_DAYS = 30;

/** Set once stock counters were rebuilt; gone when Redis lost its data, which triggers a rebuild. */
const inventoryMarkerKey = (services: Pick<Services, 'core'>) => `${services.core.redisPrefix}:maintenance:inventory-reconciled`;

/** Runs one maintenance task now; returns how many items it handled. */
export async function runMaintenanceTask(services: Services, task: MaintenanceTask): Promise<number> {
  switch (task) {
    case 'relay-outbox':
      return services.orders.relayPending();
    case 'expire-reservations':
      return services.inventory.expireDue();
    case 'purge-expired': {
      // Sessions hold who signed in from where; nothing needs them once they can no longer be used
      // (staff sessions are kept 30 days after their end for investigating a compromised account).
      const purged = await Promise.all([
        services.idempotency.purgeExpired(),
        services.carts.purgeExpired(),
        services.customers.purgeExpiredSessions(),
        services.staff.pruneSessions(STAFF_SESSION_KEEP_DAYS),
      ]);
      return purged.reduce((sum, count) => sum + count, 0);
    }
    case 'audit-checkpoint': {
      const result = await services.audit.checkpoint();
      // A trail that no longer verifies must not look like a quiet tick.
      if (result.withheld) throw new Error(`audit trail does not verify at seq ${result.withheld.firstBrokenSeq} (${result.withheld.reason}); checkpoint withheld`);
      return result.written ? 1 : 0;
    }
  }
}

/**
 * Rebuilds the Redis stock counters and per-household counts of every active product from Mongo:
 * total stock from the catalog, committed quantities from every order still holding stock.
 *
 * Run it before a sale takes traffic (workers start-up does; so can the CLI): inventory.reconcile
 * counts open reservations as held, but a checkout between committing its reservation and
 * writing its order is in neither place for those few milliseconds, and its units would come back
 * as available.
 */
export async function reconcileInventory(services: Pick<Services, 'catalog' | 'orders' | 'inventory' | 'core'>): Promise<ReconcileResult[]> {
  const products: { sku: string; totalStock: number }[] = [];
  for (let page = 1; ; page += 1) {
    const batch = await services.catalog.listAdmin({ active: true, page, pageSize: 100, sort: 'oldest' });
    products.push(...batch.items.map((p) => ({ sku: p.sku, totalStock: p.totalStock })));
    if (batch.items.length === 0 || page * batch.pageSize >= batch.total) break;
  }
  const skus = new Set(products.map((p) => p.sku));

  // Per sku, per reservation (order + shipment): the household and quantity a durable order holds.
  const committed = new Map<string, Map<string, { householdKey: string; quantity: number; reservationId?: string }>>();
  const cursor = services.orders.model
    .find({ status: { $in: ORDERS_HOLDING_STOCK as OrderStatus[] } }, { lines: 1, shipments: 1, reservationIds: 1 })
    .lean<Pick<OrderDoc, '_id' | 'lines' | 'shipments' | 'reservationIds'>[]>()
    .cursor({ batchSize: 1000 });
  for await (const order of cursor) {
    for (const line of order.lines) {
      if (!skus.has(line.sku)) continue;
      const householdKey = order.shipments[line.shipTo]?.householdKey;
      if (!householdKey) continue;
      // Checkout names a shipment's reservation `${orderId}:${shipmentIndex}`.
      const reservationId = `${order._id}:${line.shipTo}`;
      const known = (order.reservationIds ?? []).includes(reservationId);
      const bySku = committed.get(line.sku) ?? new Map();
      committed.set(line.sku, bySku);
      const entry = bySku.get(reservationId) ?? { householdKey, quantity: 0, ...(known ? { reservationId } : {}) };
      entry.quantity += line.quantity;
      bySku.set(reservationId, entry);
    }
  }

  const results: ReconcileResult[] = [];
  for (const product of products) {
    results.push(await services.inventory.reconcile({ sku: product.sku, totalStock: product.totalStock, committed: [...(committed.get(product.sku)?.values() ?? [])] }));
  }
  const oversold = results.filter((r) => r.oversoldBy > 0);
  if (oversold.length) services.core.logger.error({ oversold: oversold.map((r) => ({ sku: r.sku, by: r.oversoldBy })) }, 'inventory: durable sales exceed total stock');
  await services.core.redis.set(inventoryMarkerKey(services), services.core.clock().toISOString());
  services.core.logger.info({ products: results.length }, 'inventory reconciled from Mongo');
  return results;
}

/** Rebuilds stock when the marker is missing, i.e. Redis came back without its data. */
export async function reconcileIfRedisWasEmptied(services: Services): Promise<boolean> {
  if ((await services.core.redis.exists(inventoryMarkerKey(services))) === 1) return false;
  services.core.logger.warn('inventory counters missing (Redis restarted empty?); rebuilding from Mongo');
  await reconcileInventory(services);
  return true;
}

const STRANDED_STEPS: { status: OrderStatus; job: QueueName }[] = [
  { status: 'pending_fraud_check', job: 'fraud-check' },
  { status: 'payment_pending', job: 'payment-authorise' },
];

/**
 * Orders whose next step's job Redis no longer has get it back under the same job id. A job that
 * exists in any state (waiting, delayed, failed) is left alone: a failed one is an admin's call.
 */
export async function requeueStranded(services: Services, olderThanMs: number, limit = 200): Promise<number> {
  const { orders, core } = services;
  // updatedAt is stamped by mongoose from the system clock, so the cutoff is too.
  const cutoff = new Date(Date.now() - olderThanMs);
  let requeued = 0;
  for (const step of STRANDED_STEPS) {
    const stuck = await orders.model
      .find({ status: step.status, outboxPending: false, updatedAt: { $lte: cutoff } }, { outbox: 1 })
      .sort({ updatedAt: 1 })
      .limit(limit)
      .lean<Pick<OrderDoc, '_id' | 'outbox'>[]>();
    for (const order of stuck) {
      const entry = [...order.outbox].reverse().find((e) => e.kind === 'job' && e.name === step.job);
      if (!entry) continue;
      if (await core.queues.queue(step.job).getJob(entry.id)) continue;
      await core.queues.enqueue(step.job, entry.payload as never, { jobId: entry.id });
      core.logger.warn({ orderId: order._id, job: step.job, jobId: entry.id }, 'order was waiting on a job Redis lost; enqueued it again');
      requeued += 1;
    }
  }
  return requeued;
}

export interface MaintenanceLoop {
  /** Runs one tick now (tests and the CLI), whatever the schedule. */
  tick(): Promise<void>;
  close(): Promise<void>;
}

/** The timer loop; ticks never overlap, and a failing task (Redis down) does not stop the others. */
export function startMaintenanceLoop(services: Services, options: MaintenanceOptions = {}): MaintenanceLoop {
  const intervalMs = options.intervalMs ?? 2000;
  const purgeIntervalMs = options.purgeIntervalMs ?? 3_600_000;
  const strandedCheckIntervalMs = options.strandedCheckIntervalMs ?? 60_000;
  const strandedAfterMs = options.strandedAfterMs ?? 600_000;
  const auditCheckpointIntervalMs = options.auditCheckpointIntervalMs ?? services.core.config.audit.checkpointMinutes * 60_000;
  const logger = services.core.logger.child({ component: 'maintenance' });
  const lastRun = new Map<string, number>();
  const lastFailureLog = new Map<string, number>();
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const due = (name: string, every: number) => Date.now() - (lastRun.get(name) ?? -Infinity) >= every;

  async function attempt(name: string, work: () => Promise<number | boolean>) {
    try {
      const handled = await work();
      lastRun.set(name, Date.now());
      if (handled) logger.info({ task: name, handled }, 'maintenance task did work');
    } catch (error) {
      // During an outage every tick fails the same way: one line a minute per task is enough.
      const now = Date.now();
      if (now - (lastFailureLog.get(name) ?? 0) >= 60_000) {
        lastFailureLog.set(name, now);
        logger.warn({ task: name, err: (error as Error).message }, 'maintenance task failed; retrying next tick');
      }
    }
  }

  async function tickOnce() {
    await attempt('reconcile-if-emptied', () => reconcileIfRedisWasEmptied(services));
    await attempt('relay-outbox', () => runMaintenanceTask(services, 'relay-outbox'));
    await attempt('expire-reservations', () => runMaintenanceTask(services, 'expire-reservations'));
    if (due('purge-expired', purgeIntervalMs)) await attempt('purge-expired', () => runMaintenanceTask(services, 'purge-expired'));
    if (due('requeue-stranded', strandedCheckIntervalMs)) await attempt('requeue-stranded', () => requeueStranded(services, strandedAfterMs));
    if (due('audit-checkpoint', auditCheckpointIntervalMs)) await attempt('audit-checkpoint', () => runMaintenanceTask(services, 'audit-checkpoint'));
  }

  function tick(): Promise<void> {
    running ??= tickOnce().finally(() => {
      running = undefined;
    });
    return running;
  }

  function schedule() {
    if (closed) return;
    timer = setTimeout(() => void tick().then(schedule), intervalMs);
  }
  void tick().then(schedule);

  return {
    tick,
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** The `maintenance` queue: the same tasks on demand. */
export function startMaintenanceWorker(runtime: WorkerRuntime): RunningWorker {
  const { services, bullConnection } = runtime;
  return startQueueWorker(
    { connection: bullConnection, prefix: services.core.queues.prefix, logger: services.core.logger },
    { queue: 'maintenance', handler: async ({ task }) => ({ handled: await runMaintenanceTask(services, task) }) },
  );
}
