import { randomUUID } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';
import { z } from 'zod';
import { BusinessRuleError, ConflictError, NotFoundError, ValidationError, parseOrThrow } from '../../platform/errors.ts';
import { ADJUST_STOCK, COMMIT, EXPIRE_DUE, RECONCILE, RELEASE, RESERVE, runScript } from './lua.ts';

/**
 * Launch-day inventory: available stock and per-household counts in Redis, changed only by the
 * atomic scripts in lua.ts. Mongo keeps the durable orders; `reconcile` rebuilds these counters
 * from them at start-up. Reservations hold units while a shopper checks out and return them
 * when released or when they expire.
 */

export interface InventoryServiceDeps {
  redis: Redis;
  /** Every key starts with this. */
  prefix: string;
  clock?: () => Date;
  /** How long a reservation holds units when `reserve` is not given `ttlMs`. Default 10 minutes. */
  reservationTtlMs?: number;
  /**
   * How long a committed or released reservation record is kept after it closes. It backs
   * idempotent replays of `reserve`/`commit`/`release` and `release(id, { force: true })` when an
   * order is cancelled. Default 30 days. Cancelling after that finds no reservation
   * (`inventory.reservation_not_found`); the caller then marks the order cancelled in Mongo and
   * runs `reconcile` for its skus, which recounts from durable data.
   */
  closedRetentionMs?: number;
  /** Reservations released per expiry script call. Default 200. */
  expireBatchSize?: number;
}

export interface ReserveLineInput {
  sku: string;
  quantity: number;
  /** Most units of this sku one household may hold (reserved + sold); null for no limit. */
  householdLimit: number | null;
}

export interface ReserveInput {
  reservationId: string;
  lines: ReserveLineInput[];
  householdKey: string;
  ttlMs?: number;
}

export interface ReservationLine {
  sku: string;
  quantity: number;
}

export type ReservationStatus = 'reserved' | 'committed' | 'released';
export type ReleaseReason = 'released' | 'expired' | 'cancelled' | 'reconciled';

export interface Reservation {
  reservationId: string;
  status: ReservationStatus;
  householdKey: string;
  /** Sorted by sku. */
  lines: ReservationLine[];
  createdAt: Date;
  expiresAt: Date;
  committedAt?: Date;
  releasedAt?: Date;
  releaseReason?: ReleaseReason;
}

export interface CommittedQuantity {
  householdKey: string;
  quantity: number;
  /** When the durable order knows its reservation id, an open reservation with it is adopted (committed), not double counted. */
  reservationId?: string;
}

export interface ReconcileInput {
  sku: string;
  /** Every unit ever allocated to this sku for sale (sold, held or still on the shelf). */
  totalStock: number;
  /** One entry per durable (paid, not cancelled) order line for this sku. */
  committed: CommittedQuantity[];
  /**
   * What to do with reservations Redis holds open for this sku. 'keep' (default) counts them as
   * still held, so a reconcile during live traffic never frees units a shopper is checking out
   * with. 'release' returns them (reason 'reconciled') for a clean recount, e.g. by an admin
   * after an incident when no checkout is in flight.
   */
  openReservations?: 'keep' | 'release';
}

export interface ReconcileResult {
  sku: string;
  available: number;
  committedQuantity: number;
  openQuantity: number;
  /** How far durable sales exceed totalStock; available is clamped to 0 when this is > 0. */
  oversoldBy: number;
  /** Open reservations found committed in durable data and committed here. */
  adoptedReservations: number;
  /** Open reservations returned because openReservations was 'release'. */
  releasedReservations: number;
  /** Households holding this sku after the rebuild. */
  households: number;
}

export interface InventoryService {
  setStock(sku: string, available: number): Promise<void>;
  /** Units available to reserve; null if the sku has never been stocked. */
  getStock(sku: string): Promise<number | null>;
  /** Adds (or with a negative delta removes) units; returns the new available count. */
  adjustStock(sku: string, delta: number): Promise<number>;
  reserve(input: ReserveInput): Promise<Reservation>;
  commit(reservationId: string): Promise<Reservation>;
  release(reservationId: string, options?: { force?: boolean }): Promise<Reservation>;
  /** Releases reservations whose expiry is at or before `now`; returns how many this call released. */
  expireDue(now?: Date): Promise<number>;
  reconcile(input: ReconcileInput): Promise<ReconcileResult>;
  householdHeld(sku: string, householdKey: string): Promise<number>;
  getReservation(reservationId: string): Promise<Reservation | null>;
}

const MAX_TTL_MS = 24 * 60 * 60 * 1000;
/** Households per HSET while rebuilding; each command stays well under a millisecond. */
const RECONCILE_CHUNK = 1000;

const skuSchema = z.string().min(1).max(128);
const idSchema = z.string().min(1).max(128);
const householdSchema = z.string().min(1).max(256);
const countSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const reserveSchema = z.strictObject({
  reservationId: idSchema,
  householdKey: householdSchema,
  ttlMs: z.number().int().min(1).max(MAX_TTL_MS).optional(),
  lines: z
    .array(
      z.strictObject({
        sku: skuSchema,
        quantity: z.number().int().min(1).max(1_000_000),
        householdLimit: z.number().int().min(0).max(1_000_000).nullable(),
      }),
    )
    .min(1)
    .max(100),
});

const reconcileSchema = z.strictObject({
  sku: skuSchema,
  totalStock: countSchema,
  committed: z.array(z.strictObject({ householdKey: householdSchema, quantity: z.number().int().min(1), reservationId: idSchema.optional() })),
  openReservations: z.enum(['keep', 'release']).optional(),
});

export function createInventoryService(deps: InventoryServiceDeps): InventoryService {
  const { redis } = deps;
  const clock = deps.clock ?? (() => new Date());
  const defaultTtlMs = deps.reservationTtlMs ?? 10 * 60 * 1000;
  const retentionMs = deps.closedRetentionMs ?? 30 * 24 * 60 * 60 * 1000;
  const batchSize = deps.expireBatchSize ?? 200;
  // One hash tag for every key: multi-sku reservations and the expiry sweep touch keys of many
  // skus in one script, which a cluster only allows within one slot.
  const base = `${deps.prefix}{inv}:`;
  const stockKey = (sku: string) => `${base}stock:${sku}`;
  const heldKey = (sku: string) => `${base}held:${sku}`;
  const openKey = (sku: string) => `${base}open:${sku}`;
  const resKey = (id: string) => `${base}res:${id}`;
  const expiryKey = `${base}expiry`;

  const nowMs = () => clock().getTime();

  async function setStock(sku: string, available: number): Promise<void> {
    parseOrThrow(skuSchema, sku);
    parseOrThrow(countSchema, available, 'Stock must be a whole number of units, zero or more.');
    await redis.set(stockKey(sku), available);
  }

  async function getStock(sku: string): Promise<number | null> {
    parseOrThrow(skuSchema, sku);
    const value = await redis.get(stockKey(sku));
    return value === null ? null : Number(value);
  }

  async function adjustStock(sku: string, delta: number): Promise<number> {
    parseOrThrow(skuSchema, sku);
    parseOrThrow(z.number().int().safe(), delta, 'The adjustment must be a whole number of units.');
    const reply = (await runScript(redis, ADJUST_STOCK, [stockKey(sku)], [delta])) as [string, number?];
    if (reply[0] === 'unknown_sku') throw unknownSku(sku);
    if (reply[0] === 'insufficient') {
      throw new BusinessRuleError('inventory.insufficient_stock', `Only ${reply[1]} units of ${sku} are available to remove.`, {
        sku,
        available: Number(reply[1]),
        delta,
      });
    }
    return Number(reply[1]);
  }

  async function reserve(input: ReserveInput): Promise<Reservation> {
    const parsed = parseOrThrow(reserveSchema, input);
    const seen = new Map<string, number>();
    parsed.lines.forEach((line, index) => {
      const first = seen.get(line.sku);
      if (first !== undefined) {
        throw new ValidationError('Each sku may appear on one line only.', [
          { path: `lines.${index}.sku`, code: 'duplicate', message: `Sku ${line.sku} is already on line ${first}.` },
        ]);
      }
      seen.set(line.sku, index);
    });
    // Sorted so the stored lines (and therefore idempotent replays) do not depend on line order.
    const lines = [...parsed.lines].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
    const linesJson = JSON.stringify(lines.map((l) => ({ sku: l.sku, quantity: l.quantity })));
    const now = nowMs();
    const expiresAt = now + (parsed.ttlMs ?? defaultTtlMs);

    const keys = [resKey(parsed.reservationId), expiryKey, ...lines.flatMap((l) => [stockKey(l.sku), heldKey(l.sku), openKey(l.sku)])];
    const args: (string | number)[] = [base, parsed.reservationId, parsed.householdKey, now, expiresAt, linesJson, lines.length];
    for (const l of lines) args.push(l.sku, l.quantity, l.householdLimit ?? -1);

    const reply = (await runScript(redis, RESERVE, keys, args)) as [string, ...(string | number)[]];
    const [code, ...rest] = reply;
    switch (code) {
      case 'reserved':
        return toReservation(parsed.reservationId, rest as string[]);
      case 'existing': {
        const reservation = toReservation(parsed.reservationId, rest as string[]);
        if (reservation.status === 'released') {
          throw new ConflictError('inventory.reservation_released', 'This reservation has already ended; start a new one.', {
            reservationId: parsed.reservationId,
            releaseReason: reservation.releaseReason,
          });
        }
        return reservation;
      }
      case 'mismatch':
        throw new ConflictError('inventory.reservation_mismatch', 'This reservation id was already used for different items.', {
          reservationId: parsed.reservationId,
        });
      case 'unknown_sku':
        throw unknownSku(String(rest[0]));
      case 'household_limit':
        throw new BusinessRuleError('inventory.household_limit', `Your household may hold at most ${rest[1]} of ${rest[0]}.`, {
          sku: String(rest[0]),
          limit: Number(rest[1]),
          alreadyHeld: Number(rest[2]),
        });
      case 'sold_out':
        throw new BusinessRuleError('inventory.sold_out', `${rest[0]} is sold out.`, { sku: String(rest[0]), available: Number(rest[1]) });
      default:
        throw new Error(`Unexpected reserve reply ${String(code)}`);
    }
  }

  async function commit(reservationId: string): Promise<Reservation> {
    parseOrThrow(idSchema, reservationId);
    const [code, ...rest] = (await runScript(redis, COMMIT, [resKey(reservationId)], [base, reservationId, nowMs(), retentionMs])) as string[];
    if (code === 'not_found') throw reservationNotFound();
    const reservation = toReservation(reservationId, rest);
    if (code === 'released') {
      throw new ConflictError('inventory.reservation_released', 'This reservation has already ended and its units were returned.', {
        reservationId,
        releaseReason: reservation.releaseReason,
      });
    }
    return reservation;
  }

  async function release(reservationId: string, options: { force?: boolean } = {}): Promise<Reservation> {
    parseOrThrow(idSchema, reservationId);
    const force = options.force === true ? '1' : '0';
    const [code, ...rest] = (await runScript(redis, RELEASE, [resKey(reservationId)], [base, reservationId, nowMs(), force, retentionMs])) as string[];
    if (code === 'not_found') throw reservationNotFound();
    if (code === 'committed') {
      throw new ConflictError('inventory.reservation_committed', 'This reservation is part of a completed order; cancel the order instead.', {
        reservationId,
      });
    }
    return toReservation(reservationId, rest);
  }

  async function expireDue(now: Date = clock()): Promise<number> {
    let released = 0;
    for (;;) {
      const [count, scanned] = (await runScript(redis, EXPIRE_DUE, [expiryKey], [base, now.getTime(), batchSize, retentionMs])) as [number, number];
      released += count;
      if (scanned < batchSize) return released;
    }
  }

  /**
   * The rebuild rule, per sku, from durable data:
   *   household held(h) = sum of committed quantities of h + quantities of h's open reservations
   *   available         = totalStock - sum of committed quantities - sum of open reservation quantities
   * "Committed" is every paid, not-cancelled order line in Mongo; "open" is every reservation
   * Redis still holds as reserved (none after a Redis restart without persistence). An open
   * reservation whose id appears in `committed` is the same sale seen twice (the order was
   * written but commit never reached Redis), so it is committed here and counted once.
   * If sales exceed totalStock the sku was oversold; available is clamped to 0 and the excess
   * is reported in `oversoldBy` rather than stored as negative stock.
   * Counters are overwritten, not adjusted, so running it twice gives the same result.
   *
   * `committed` is a snapshot: an order committed after it was read from Mongo is not in it, and
   * its units would come back as available. So run this before the sku takes traffic (start-up
   * does) or while the sku is paused, not in the middle of a sale.
   */
  async function reconcile(input: ReconcileInput): Promise<ReconcileResult> {
    const parsed = parseOrThrow(reconcileSchema, input);
    const perHousehold = new Map<string, number>();
    const durableIds = new Set<string>();
    let committedQuantity = 0;
    for (const c of parsed.committed) {
      perHousehold.set(c.householdKey, (perHousehold.get(c.householdKey) ?? 0) + c.quantity);
      committedQuantity += c.quantity;
      if (c.reservationId) durableIds.add(c.reservationId);
    }

    // Written in chunks outside the script (see RECONCILE). Unique per call so concurrent
    // reconciles of one sku never mix; the TTL cleans up after a crash before the swap.
    const rebuiltKey = `${heldKey(parsed.sku)}:rebuild:${randomUUID()}`;
    const pairs = [...perHousehold];
    for (let i = 0; i < pairs.length; i += RECONCILE_CHUNK * 20) {
      const pipeline = redis.pipeline();
      for (let j = i; j < Math.min(pairs.length, i + RECONCILE_CHUNK * 20); j += RECONCILE_CHUNK) {
        pipeline.hset(rebuiltKey, ...pairs.slice(j, j + RECONCILE_CHUNK).flat());
      }
      pipeline.pexpire(rebuiltKey, 60 * 60 * 1000);
      await execPipeline(pipeline);
    }

    // Only open reservations can be adopted, so only their ids need to reach the script.
    const openIds = durableIds.size > 0 ? await redis.hkeys(openKey(parsed.sku)) : [];
    const adoptIds = openIds.filter((id) => durableIds.has(id));
    const args: (string | number)[] = [base, parsed.totalStock, committedQuantity, parsed.openReservations ?? 'keep', nowMs(), retentionMs];
    args.push(adoptIds.length);
    for (const id of adoptIds) args.push(id);
    const keys = [stockKey(parsed.sku), heldKey(parsed.sku), openKey(parsed.sku), rebuiltKey];
    try {
      const reply = ((await runScript(redis, RECONCILE, keys, args)) as number[]).map(Number);
      const [available = 0, openQuantity = 0, oversoldBy = 0, adopted = 0, releasedOpen = 0, households = 0] = reply;
      return {
        sku: parsed.sku,
        available,
        committedQuantity,
        openQuantity,
        oversoldBy,
        adoptedReservations: adopted,
        releasedReservations: releasedOpen,
        households,
      };
    } finally {
      await redis.unlink(rebuiltKey);
    }
  }

  async function householdHeld(sku: string, householdKey: string): Promise<number> {
    parseOrThrow(skuSchema, sku);
    parseOrThrow(householdSchema, householdKey);
    return Number((await redis.hget(heldKey(sku), householdKey)) ?? 0);
  }

  async function getReservation(reservationId: string): Promise<Reservation | null> {
    parseOrThrow(idSchema, reservationId);
    const hash = await redis.hgetall(resKey(reservationId));
    if (!hash.status) return null;
    return fromHash(reservationId, hash);
  }

  return { setStock, getStock, adjustStock, reserve, commit, release, expireDue, reconcile, householdHeld, getReservation };
}

async function execPipeline(pipeline: ChainableCommander): Promise<void> {
  for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
}

function unknownSku(sku: string): BusinessRuleError {
  return new BusinessRuleError('inventory.unknown_sku', `No stock is set up for ${sku}.`, { sku });
}

function reservationNotFound(): NotFoundError {
  return new NotFoundError('reservation', 'inventory.reservation_not_found', 'No such reservation.');
}

function toReservation(reservationId: string, flat: readonly string[]): Reservation {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i] as string] = flat[i + 1] as string;
  return fromHash(reservationId, hash);
}

function fromHash(reservationId: string, hash: Record<string, string>): Reservation {
  const reservation: Reservation = {
    reservationId,
    status: hash.status as ReservationStatus,
    householdKey: hash.household ?? '',
    lines: JSON.parse(hash.lines ?? '[]') as ReservationLine[],
    createdAt: new Date(Number(hash.createdAt)),
    expiresAt: new Date(Number(hash.expiresAt)),
  };
  if (hash.committedAt) reservation.committedAt = new Date(Number(hash.committedAt));
  if (hash.releasedAt) reservation.releasedAt = new Date(Number(hash.releasedAt));
  if (hash.releaseReason) reservation.releaseReason = hash.releaseReason as ReleaseReason;
  return reservation;
}
