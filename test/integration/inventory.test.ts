import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { AppError } from '../../platform/errors.ts';
import { createInventoryService, type InventoryService } from '../../api/inventory/service.ts';
import { deleteKeys } from '../../platform/redis-keys.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  await deleteKeys(redis, `${prefix}*`);
}

/** GETs `key` in a tight loop in a child process and reports how often and the lowest value seen. */
function startStockSampler(key: string): { ready: Promise<void>; stop: () => Promise<{ samples: number; min: number }> } {
  const code = `
    import { Redis } from 'ioredis';
    const redis = new Redis(process.env.SAMPLER_REDIS_URL);
    let running = true, samples = 0, min = Infinity;
    process.stdin.on('data', () => { running = false; });
    await redis.ping();
    process.stdout.write('ready\\n');
    while (running) {
      const value = Number(await redis.get(process.env.SAMPLER_KEY));
      samples += 1;
      if (value < min) min = value;
    }
    process.stdout.write(JSON.stringify({ samples, min }) + '\\n');
    await redis.quit();
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    cwd: process.cwd(),
    env: { ...process.env, SAMPLER_REDIS_URL: REDIS_URL, SAMPLER_KEY: key },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  const lines: ((line: string) => void)[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
    let newline: number;
    while ((newline = output.indexOf('\n')) >= 0) {
      const line = output.slice(0, newline);
      output = output.slice(newline + 1);
      lines.shift()?.(line);
    }
  });
  const nextLine = () => new Promise<string>((resolve) => lines.push(resolve));
  const ready = nextLine().then(() => undefined);
  return {
    ready,
    stop: async () => {
      const result = nextLine();
      child.stdin.end('stop');
      return JSON.parse(await result) as { samples: number; min: number };
    },
  };
}

async function expectAppError(promise: Promise<unknown>, code: string): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(AppError);
    expect((error as AppError).code).to.equal(code);
    return error as AppError;
  }
  expect.fail(`expected ${code}`);
}

describe('inventory service (Redis)', function () {
  let redis: Redis;
  let prefix: string;
  let now: Date;
  let inventory: InventoryService;

  before(() => {
    redis = new Redis(REDIS_URL, { lazyConnect: false });
  });
  after(async () => {
    await redis.quit();
  });
  beforeEach(() => {
    prefix = `test:${randomUUID()}:`;
    now = new Date('2026-03-01T09:00:00.000Z');
    inventory = createInventoryService({ redis, prefix, clock: () => now, reservationTtlMs: 60_000 });
  });
  afterEach(async () => {
    await deletePrefix(redis, prefix);
  });

  describe('stock', () => {
    it('sets, reads and adjusts stock, refusing to go below zero', async () => {
      expect(await inventory.getStock('EAGLE-2026')).to.equal(null);
      await expectAppError(inventory.adjustStock('EAGLE-2026', 5), 'inventory.unknown_sku');
      await inventory.setStock('EAGLE-2026', 10);
      expect(await inventory.adjustStock('EAGLE-2026', 5)).to.equal(15);
      expect(await inventory.adjustStock('EAGLE-2026', -15)).to.equal(0);
      const error = await expectAppError(inventory.adjustStock('EAGLE-2026', -1), 'inventory.insufficient_stock');
      expect(error.details).to.deep.equal({ sku: 'EAGLE-2026', available: 0, delta: -1 });
      expect(await inventory.getStock('EAGLE-2026')).to.equal(0);
      await expectAppError(inventory.setStock('EAGLE-2026', -1), 'validation_failed');
    });
  });

  describe('reserve / commit / release', () => {
    it('reserves, then commit keeps the units consumed', async () => {
      await inventory.setStock('A', 5);
      const r = await inventory.reserve({ reservationId: 'r1', householdKey: 'h1', lines: [{ sku: 'A', quantity: 2, householdLimit: 3 }] });
      expect(r).to.deep.include({ reservationId: 'r1', status: 'reserved', householdKey: 'h1' });
      expect(r.lines).to.deep.equal([{ sku: 'A', quantity: 2 }]);
      expect(r.expiresAt.getTime()).to.equal(now.getTime() + 60_000);
      expect(await inventory.getStock('A')).to.equal(3);
      expect(await inventory.householdHeld('A', 'h1')).to.equal(2);

      const committed = await inventory.commit('r1');
      expect(committed.status).to.equal('committed');
      expect(committed.committedAt?.getTime()).to.equal(now.getTime());
      expect((await inventory.commit('r1')).status).to.equal('committed');
      expect(await inventory.getStock('A')).to.equal(3);
      expect(await inventory.householdHeld('A', 'h1')).to.equal(2);

      // Committed units never expire.
      now = new Date(now.getTime() + 120_000);
      expect(await inventory.expireDue()).to.equal(0);
      expect(await inventory.getStock('A')).to.equal(3);
    });

    it('release returns stock and household counts, once', async () => {
      await inventory.setStock('A', 5);
      await inventory.reserve({ reservationId: 'r1', householdKey: 'h1', lines: [{ sku: 'A', quantity: 2, householdLimit: null }] });
      const released = await inventory.release('r1');
      expect(released).to.deep.include({ status: 'released', releaseReason: 'released' });
      expect((await inventory.release('r1')).status).to.equal('released');
      expect(await inventory.getStock('A')).to.equal(5);
      expect(await inventory.householdHeld('A', 'h1')).to.equal(0);
      await expectAppError(inventory.commit('r1'), 'inventory.reservation_released');
      await expectAppError(
        inventory.reserve({ reservationId: 'r1', householdKey: 'h1', lines: [{ sku: 'A', quantity: 2, householdLimit: null }] }),
        'inventory.reservation_released',
      );
      await expectAppError(inventory.release('nope'), 'inventory.reservation_not_found');
      await expectAppError(inventory.commit('nope'), 'inventory.reservation_not_found');
    });

    it('refuses to release a committed reservation unless forced (order cancelled)', async () => {
      await inventory.setStock('A', 5);
      await inventory.reserve({ reservationId: 'r1', householdKey: 'h1', lines: [{ sku: 'A', quantity: 1, householdLimit: 1 }] });
      await inventory.commit('r1');
      await expectAppError(inventory.release('r1'), 'inventory.reservation_committed');
      expect(await inventory.getStock('A')).to.equal(4);
      const cancelled = await inventory.release('r1', { force: true });
      expect(cancelled).to.deep.include({ status: 'released', releaseReason: 'cancelled' });
      expect(await inventory.getStock('A')).to.equal(5);
      expect(await inventory.householdHeld('A', 'h1')).to.equal(0);
      await inventory.release('r1', { force: true });
      expect(await inventory.getStock('A')).to.equal(5);
      // The household may buy again after its order was cancelled.
      await inventory.reserve({ reservationId: 'r2', householdKey: 'h1', lines: [{ sku: 'A', quantity: 1, householdLimit: 1 }] });
    });

    it('is idempotent by reservation id and rejects a reused id with different items', async () => {
      await inventory.setStock('A', 5);
      await inventory.setStock('B', 5);
      const input = {
        reservationId: 'r1',
        householdKey: 'h1',
        lines: [
          { sku: 'B', quantity: 1, householdLimit: 1 },
          { sku: 'A', quantity: 2, householdLimit: null },
        ],
      };
      const first = await inventory.reserve(input);
      now = new Date(now.getTime() + 5_000);
      const again = await inventory.reserve({ ...input, lines: [...input.lines].reverse() });
      expect(again).to.deep.equal(first);
      expect(first.lines.map((l) => l.sku)).to.deep.equal(['A', 'B']);
      expect(await inventory.getStock('A')).to.equal(3);
      expect(await inventory.getStock('B')).to.equal(4);
      expect(await inventory.householdHeld('B', 'h1')).to.equal(1);
      await expectAppError(inventory.reserve({ ...input, lines: [{ sku: 'A', quantity: 1, householdLimit: null }] }), 'inventory.reservation_mismatch');
      await expectAppError(inventory.reserve({ ...input, householdKey: 'h2' }), 'inventory.reservation_mismatch');
      await inventory.commit('r1');
      expect((await inventory.reserve(input)).status).to.equal('committed');
      expect(await inventory.getStock('A')).to.equal(3);
    });

    it('is all-or-nothing across lines', async () => {
      await inventory.setStock('A', 5);
      await inventory.setStock('B', 1);
      await inventory.setStock('C', 5);
      const soldOut = await expectAppError(
        inventory.reserve({
          reservationId: 'r1',
          householdKey: 'h1',
          lines: [
            { sku: 'A', quantity: 2, householdLimit: null },
            { sku: 'B', quantity: 2, householdLimit: null },
            { sku: 'C', quantity: 1, householdLimit: null },
          ],
        }),
        'inventory.sold_out',
      );
      expect(soldOut.kind).to.equal('rule');
      expect(soldOut.details).to.deep.equal({ sku: 'B', available: 1 });
      await expectAppError(
        inventory.reserve({
          reservationId: 'r2',
          householdKey: 'h1',
          lines: [
            { sku: 'A', quantity: 1, householdLimit: null },
            { sku: 'NOPE', quantity: 1, householdLimit: null },
          ],
        }),
        'inventory.unknown_sku',
      );
      expect(await inventory.getStock('A')).to.equal(5);
      expect(await inventory.getStock('B')).to.equal(1);
      expect(await inventory.getStock('C')).to.equal(5);
      for (const sku of ['A', 'B', 'C']) expect(await inventory.householdHeld(sku, 'h1')).to.equal(0);
      expect(await inventory.getReservation('r1')).to.equal(null);
      expect(await inventory.getReservation('r2')).to.equal(null);
      expect(await redis.zcard(`${prefix}{inv}:expiry`)).to.equal(0);
    });

    it('validates input and rejects duplicate skus', async () => {
      await expectAppError(inventory.reserve({ reservationId: 'r1', householdKey: 'h1', lines: [] }), 'validation_failed');
      await expectAppError(
        inventory.reserve({ reservationId: 'r1', householdKey: 'h1', lines: [{ sku: 'A', quantity: 0, householdLimit: null }] }),
        'validation_failed',
      );
      await expectAppError(
        inventory.reserve({
          reservationId: 'r1',
          householdKey: 'h1',
          lines: [
            { sku: 'A', quantity: 1, householdLimit: null },
            { sku: 'A', quantity: 1, householdLimit: null },
          ],
        }),
        'validation_failed',
      );
    });
  });

  describe('household limit', () => {
    it('counts reserved and sold units per household and sku', async () => {
      await inventory.setStock('A', 10);
      await inventory.setStock('B', 10);
      await inventory.reserve({ reservationId: 'r1', householdKey: 'h1', lines: [{ sku: 'A', quantity: 1, householdLimit: 2 }] });
      await inventory.commit('r1');
      await inventory.reserve({ reservationId: 'r2', householdKey: 'h1', lines: [{ sku: 'A', quantity: 1, householdLimit: 2 }] });
      const limit = await expectAppError(
        inventory.reserve({
          reservationId: 'r3',
          householdKey: 'h1',
          lines: [
            { sku: 'B', quantity: 1, householdLimit: 2 },
            { sku: 'A', quantity: 1, householdLimit: 2 },
          ],
        }),
        'inventory.household_limit',
      );
      expect(limit.details).to.deep.equal({ sku: 'A', limit: 2, alreadyHeld: 2 });
      expect(await inventory.getStock('B')).to.equal(10);
      // Another household is unaffected; a quantity above the limit fails even with nothing held.
      await inventory.reserve({ reservationId: 'r4', householdKey: 'h2', lines: [{ sku: 'A', quantity: 2, householdLimit: 2 }] });
      const tooMany = await expectAppError(
        inventory.reserve({ reservationId: 'r5', householdKey: 'h3', lines: [{ sku: 'A', quantity: 3, householdLimit: 2 }] }),
        'inventory.household_limit',
      );
      expect(tooMany.details).to.deep.equal({ sku: 'A', limit: 2, alreadyHeld: 0 });
      // Units bought without a limit still count once a limit applies.
      await inventory.reserve({ reservationId: 'r6', householdKey: 'h4', lines: [{ sku: 'B', quantity: 3, householdLimit: null }] });
      await expectAppError(
        inventory.reserve({ reservationId: 'r7', householdKey: 'h4', lines: [{ sku: 'B', quantity: 1, householdLimit: 3 }] }),
        'inventory.household_limit',
      );
      // Releasing frees the household's allowance.
      await inventory.release('r2');
      await inventory.reserve({ reservationId: 'r3', householdKey: 'h1', lines: [{ sku: 'A', quantity: 1, householdLimit: 2 }] });
      expect(await inventory.householdHeld('A', 'h1')).to.equal(2);
    });
  });

  describe('expiry', () => {
    it('releases only reservations whose expiry has passed', async () => {
      await inventory.setStock('A', 10);
      await inventory.reserve({ reservationId: 'short', householdKey: 'h1', lines: [{ sku: 'A', quantity: 2, householdLimit: null }], ttlMs: 1_000 });
      await inventory.reserve({ reservationId: 'long', householdKey: 'h2', lines: [{ sku: 'A', quantity: 3, householdLimit: null }] });
      await inventory.reserve({ reservationId: 'done', householdKey: 'h3', lines: [{ sku: 'A', quantity: 1, householdLimit: null }], ttlMs: 1_000 });
      await inventory.commit('done');
      expect(await inventory.getStock('A')).to.equal(4);

      expect(await inventory.expireDue(new Date(now.getTime() + 999))).to.equal(0);
      expect(await inventory.expireDue(new Date(now.getTime() + 1_000))).to.equal(1);
      expect(await inventory.getStock('A')).to.equal(6);
      expect(await inventory.getReservation('short')).to.deep.include({ status: 'released', releaseReason: 'expired' });
      expect(await inventory.householdHeld('A', 'h1')).to.equal(0);

      now = new Date(now.getTime() + 60_000);
      expect(await inventory.expireDue()).to.equal(1);
      expect(await inventory.expireDue()).to.equal(0);
      expect(await inventory.getStock('A')).to.equal(9);
      expect(await inventory.householdHeld('A', 'h3')).to.equal(1);
    });

    it('lets a late commit win if it beats the sweeper, and never releases twice', async () => {
      await inventory.setStock('A', 1);
      await inventory.reserve({ reservationId: 'r1', householdKey: 'h1', lines: [{ sku: 'A', quantity: 1, householdLimit: 1 }] });
      now = new Date(now.getTime() + 61_000);
      await inventory.commit('r1');
      expect(await inventory.expireDue()).to.equal(0);
      expect(await inventory.getStock('A')).to.equal(0);
    });

    it('is safe when several processes sweep at once', async () => {
      const connections = Array.from({ length: 4 }, () => new Redis(REDIS_URL));
      try {
        await inventory.setStock('A', 500);
        await inventory.setStock('B', 500);
        for (let i = 0; i < 300; i += 1) {
          await inventory.reserve({
            reservationId: `r${i}`,
            householdKey: `h${i % 50}`,
            lines: [
              { sku: 'A', quantity: 1, householdLimit: null },
              { sku: 'B', quantity: 1, householdLimit: null },
            ],
            ttlMs: i % 3 === 0 ? 120_000 : 1_000,
          });
        }
        expect(await inventory.getStock('A')).to.equal(200);
        const later = new Date(now.getTime() + 5_000);
        const sweepers = connections.map((c) => createInventoryService({ redis: c, prefix, clock: () => later, expireBatchSize: 17 }));
        const counts = await Promise.all(sweepers.flatMap((s) => [s.expireDue(), s.expireDue()]));
        expect(counts.reduce((a, b) => a + b, 0)).to.equal(200);
        expect(await inventory.getStock('A')).to.equal(400);
        expect(await inventory.getStock('B')).to.equal(400);
        let held = 0;
        for (let h = 0; h < 50; h += 1) held += await inventory.householdHeld('A', `h${h}`);
        expect(held).to.equal(100);
      } finally {
        await Promise.all(connections.map((c) => c.quit()));
      }
    });
  });

  describe('reconcile', () => {
    it('rebuilds stock and household counts from durable orders (Redis lost everything)', async () => {
      const result = await inventory.reconcile({
        sku: 'A',
        totalStock: 100,
        committed: [
          { householdKey: 'h1', quantity: 1 },
          { householdKey: 'h2', quantity: 2 },
          { householdKey: 'h1', quantity: 1 },
        ],
      });
      expect(result).to.deep.equal({
        sku: 'A',
        available: 96,
        committedQuantity: 4,
        openQuantity: 0,
        oversoldBy: 0,
        adoptedReservations: 0,
        releasedReservations: 0,
        households: 2,
      });
      expect(await inventory.getStock('A')).to.equal(96);
      expect(await inventory.householdHeld('A', 'h1')).to.equal(2);
      expect(await inventory.householdHeld('A', 'h2')).to.equal(2);
      await expectAppError(
        inventory.reserve({ reservationId: 'x', householdKey: 'h1', lines: [{ sku: 'A', quantity: 1, householdLimit: 2 }] }),
        'inventory.household_limit',
      );
      // Same input, same result.
      expect((await inventory.reconcile({ sku: 'A', totalStock: 100, committed: [{ householdKey: 'h1', quantity: 2 }, { householdKey: 'h2', quantity: 2 }] })).available).to.equal(96);
    });

    it('keeps open reservations held, adopts ones that durable data shows as sold, and drops stale counts', async () => {
      await inventory.setStock('A', 50);
      await inventory.reserve({ reservationId: 'open1', householdKey: 'h1', lines: [{ sku: 'A', quantity: 2, householdLimit: null }] });
      await inventory.reserve({ reservationId: 'paid', householdKey: 'h2', lines: [{ sku: 'A', quantity: 1, householdLimit: null }] });
      await inventory.reserve({ reservationId: 'gone', householdKey: 'h3', lines: [{ sku: 'A', quantity: 4, householdLimit: null }] });
      await inventory.commit('gone');
      // Drift: a stray count for a household with no durable order.
      await redis.hset(`${prefix}{inv}:held:A`, 'ghost', 7);

      const result = await inventory.reconcile({
        sku: 'A',
        totalStock: 50,
        committed: [
          { householdKey: 'h2', quantity: 1, reservationId: 'paid' },
          { householdKey: 'h9', quantity: 3 },
        ],
      });
      // 'gone' is committed in Redis but not durable (say the order was cancelled): not counted.
      expect(result).to.deep.include({ available: 50 - 4 - 2, committedQuantity: 4, openQuantity: 2, adoptedReservations: 1, households: 3 });
      expect(await inventory.householdHeld('A', 'h1')).to.equal(2);
      expect(await inventory.householdHeld('A', 'h2')).to.equal(1);
      expect(await inventory.householdHeld('A', 'h3')).to.equal(0);
      expect(await inventory.householdHeld('A', 'ghost')).to.equal(0);
      expect((await inventory.getReservation('paid'))?.status).to.equal('committed');

      // The open reservation still returns its units exactly once; the adopted one never expires.
      now = new Date(now.getTime() + 120_000);
      expect(await inventory.expireDue()).to.equal(1);
      expect(await inventory.getStock('A')).to.equal(46);
      expect(await inventory.householdHeld('A', 'h1')).to.equal(0);
    });

    it('rebuilds a long-selling sku with tens of thousands of households and leaves no temporary keys', async () => {
      await inventory.setStock('A', 10);
      await inventory.reserve({ reservationId: 'open1', householdKey: 'h-open', lines: [{ sku: 'A', quantity: 1, householdLimit: null }] });
      const committed = Array.from({ length: 25_000 }, (_, i) => ({ householdKey: `h${i % 20_000}`, quantity: 1 + (i % 3) }));
      const total = committed.reduce((sum, c) => sum + c.quantity, 0);
      const result = await inventory.reconcile({ sku: 'A', totalStock: total + 50, committed });
      expect(result).to.deep.include({ available: 49, committedQuantity: total, openQuantity: 1, households: 20_001 });
      expect(await inventory.householdHeld('A', 'h0')).to.equal(1 + 3); // i = 0 and i = 20,000
      expect(await inventory.householdHeld('A', 'h19999')).to.equal(1 + (19_999 % 3));
      expect(await inventory.householdHeld('A', 'h-open')).to.equal(1);
      expect(await redis.pttl(`${prefix}{inv}:held:A`)).to.equal(-1);
      expect(await redis.keys(`${prefix}{inv}:held:A:*`)).to.deep.equal([]);
    });

    it('can release open reservations, and clamps an oversold sku at zero', async () => {
      await inventory.setStock('A', 10);
      await inventory.setStock('B', 10);
      await inventory.reserve({
        reservationId: 'open1',
        householdKey: 'h1',
        lines: [
          { sku: 'A', quantity: 2, householdLimit: null },
          { sku: 'B', quantity: 3, householdLimit: null },
        ],
      });
      const result = await inventory.reconcile({ sku: 'A', totalStock: 10, committed: [], openReservations: 'release' });
      expect(result).to.deep.include({ available: 10, openQuantity: 0, releasedReservations: 1 });
      expect(await inventory.getStock('B')).to.equal(10);
      expect(await inventory.householdHeld('B', 'h1')).to.equal(0);
      expect((await inventory.getReservation('open1'))?.releaseReason).to.equal('reconciled');

      const oversold = await inventory.reconcile({ sku: 'A', totalStock: 3, committed: [{ householdKey: 'h1', quantity: 5 }] });
      expect(oversold).to.deep.include({ available: 0, oversoldBy: 2 });
      expect(await inventory.getStock('A')).to.equal(0);
    });
  });

  describe('launch day: 2,000 concurrent attempts on 100 units, household limit 1', function () {
    this.timeout(60_000);

    it('sells exactly 100, at most one per household, and stock never goes negative', async () => {
      const CONNECTIONS = 8;
      const ATTEMPTS = 2_000;
      const HOUSEHOLDS = 1_200;
      const UNITS = 100;
      const connections = Array.from({ length: CONNECTIONS }, () => new Redis(REDIS_URL));
      const monitor = new Redis(REDIS_URL);
      try {
        await Promise.all([...connections, monitor].map((c) => c.ping()));
        const services = connections.map((c) => createInventoryService({ redis: c, prefix }));
        await inventory.setStock('LAUNCH', UNITS);

        // Every household tries at least once; the rest are repeat tries (refreshing shoppers),
        // shuffled so a household's attempts land on different connections at different times.
        const households = Array.from({ length: ATTEMPTS }, (_, i) => `household-${i < HOUSEHOLDS ? i : Math.floor(Math.random() * HOUSEHOLDS)}`);
        for (let i = households.length - 1; i > 0; i -= 1) {
          const j = Math.floor(Math.random() * (i + 1));
          [households[i], households[j]] = [households[j] as string, households[i] as string];
        }

        // Stock is sampled from a separate process: in this one the sampler would be starved by
        // the 2,000 promises being built and settled on the same event loop.
        const sampler = startStockSampler(`${prefix}{inv}:stock:LAUNCH`);
        await sampler.ready;

        const started = process.hrtime.bigint();
        const outcomes = await Promise.all(
          households.map(async (householdKey, i) => {
            const service = services[i % CONNECTIONS] as InventoryService;
            try {
              const r = await service.reserve({
                reservationId: `attempt-${i}`,
                householdKey,
                lines: [{ sku: 'LAUNCH', quantity: 1, householdLimit: 1 }],
              });
              return { ok: true as const, householdKey: r.householdKey };
            } catch (error) {
              if (error instanceof AppError) return { ok: false as const, code: error.code };
              throw error;
            }
          }),
        );
        const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
        const { samples, min: minObserved } = await sampler.stop();

        const winners = outcomes.filter((o) => o.ok).map((o) => o.householdKey);
        const codes = new Map<string, number>();
        for (const o of outcomes) if (!o.ok) codes.set(o.code, (codes.get(o.code) ?? 0) + 1);

        expect(winners).to.have.length(UNITS);
        expect(new Set(winners).size).to.equal(UNITS);
        expect([...codes.keys()].every((c) => c === 'inventory.sold_out' || c === 'inventory.household_limit'), JSON.stringify([...codes])).to.equal(true);
        expect(await inventory.getStock('LAUNCH')).to.equal(0);
        expect(samples).to.be.greaterThan(0);
        expect(minObserved).to.be.at.least(0);

        const held = await redis.hgetall(`${prefix}{inv}:held:LAUNCH`);
        const heldValues = Object.values(held).map(Number);
        expect(Math.max(...heldValues)).to.equal(1);
        expect(heldValues.reduce((a, b) => a + b, 0)).to.equal(UNITS);
        expect(Object.keys(held).sort()).to.deep.equal([...new Set(winners)].sort());
        expect(await redis.zcard(`${prefix}{inv}:expiry`)).to.equal(UNITS);

        console.log(
          `      launch: ${ATTEMPTS} attempts from ${new Set(households).size} households over ${CONNECTIONS} connections in ${elapsedMs.toFixed(0)} ms; ` +
            `sold ${winners.length}, sold_out ${codes.get('inventory.sold_out') ?? 0}, household_limit ${codes.get('inventory.household_limit') ?? 0}; ` +
            `stock sampled ${samples}x, min ${minObserved}`,
        );
      } finally {
        await Promise.all([...connections, monitor].map((c) => c.quit()));
      }
    });
  });
});
