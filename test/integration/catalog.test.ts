import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import express from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { once } from 'node:events';
import { createCatalogAdminRouter, CATALOG_ADMIN_MOUNT } from '../../api/catalog/admin-routes.ts';
import { catalogSeedProducts, seedCatalog } from '../../api/catalog/seed-data.ts';
import { createCatalogService, type CatalogInventory } from '../../api/catalog/service.ts';
import { createStaffGuard } from '../../api/http/auth.ts';
import { errorHandler, notFoundHandler } from '../../api/http/errors.ts';
import type { Principal } from '../../api/http/principal.ts';
import { AppError, BusinessRuleError } from '../../platform/errors.ts';
import { api } from '../support/http.ts';
import { createTestContext, type TestContext } from '../support/infra.ts';
import { createStaffUser, loginStaff, movableClock, HOUR } from '../support/staff-sessions.ts';

const DAY = 24 * HOUR;
const tag = () => randomBytes(3).toString('hex').toUpperCase();

describe('catalog: products, public listing, admin API, stock and seed', function () {
  this.timeout(180_000);
  const clock = movableClock(Date.UTC(2026, 10, 29, 15, 0, 0));
  let ctx: TestContext;
  let adminToken: string;
  let csrToken: string;
  /** Unique per run so the sku-based assertions never see another test's products. */
  const run = tag();
  const sku = (stem: string) => `${stem}-${run}`;
  const iso = (offsetMs: number) => new Date(clock.now() + offsetMs).toISOString();

  const product = (over: Record<string, unknown> = {}) => ({
    sku: sku(`P${tag()}`),
    name: 'Test Proof Set',
    priceCents: 5_000,
    releaseAt: iso(-DAY),
    totalStock: 100,
    category: 'proof_sets',
    ...over,
  });

  const admin = (method: string, path: string, body?: unknown) =>
    api(ctx.baseUrl, method, `/api/staff/catalog${path}`, { token: adminToken, ...(body === undefined ? {} : { body }) });
  const create = async (over: Record<string, unknown> = {}) => {
    const res = await admin('POST', '/products', product(over));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  };
  const publicGet = (path: string) => api(ctx.baseUrl, 'GET', `/api/catalog${path}`);

  before(async () => {
    ctx = await createTestContext({ clock: clock.clock });
    const adminUser = await createStaffUser(ctx, 'admin');
    const csrUser = await createStaffUser(ctx, 'csr');
    adminToken = await loginStaff(ctx, adminUser, clock.now());
    csrToken = await loginStaff(ctx, csrUser, clock.now());
  });
  after(async () => ctx?.close());

  describe('admin create: validation (400 with the field and a stable code)', () => {
    const base = () => product();
    const without = (field: string) => {
      const p: Record<string, unknown> = base();
      delete p[field];
      return p;
    };
    const cases: [string, () => unknown, string, string][] = [
      ['missing sku', () => without('sku'), 'sku', 'required'],
      ['missing name', () => without('name'), 'name', 'required'],
      ['missing price', () => without('priceCents'), 'priceCents', 'required'],
      ['missing releaseAt', () => without('releaseAt'), 'releaseAt', 'required'],
      ['lowercase sku', () => ({ ...base(), sku: 'ps-2026-x' }), 'sku', 'invalid_format'],
      ['sku with punctuation', () => ({ ...base(), sku: 'PS_2026/X' }), 'sku', 'invalid_format'],
      ['negative price', () => ({ ...base(), priceCents: -1 }), 'priceCents', 'too_small'],
      ['zero price', () => ({ ...base(), priceCents: 0 }), 'priceCents', 'too_small'],
      ['float price', () => ({ ...base(), priceCents: 49.99 }), 'priceCents', 'invalid_type'],
      ['string price', () => ({ ...base(), priceCents: '5000' }), 'priceCents', 'invalid_type'],
      ['unknown field', () => ({ ...base(), discount: 10 }), 'discount', 'unrecognized_key'],
      ['http media url', () => ({ ...base(), mediaUrls: ['http://media.example.com/x.jpg'] }), 'mediaUrls.0', 'invalid_format'],
      ['not a url', () => ({ ...base(), mediaUrls: ['obverse.jpg'] }), 'mediaUrls.0', 'invalid_format'],
      ['bad category', () => ({ ...base(), category: 'banknotes' }), 'category', 'invalid_value'],
      ['household limit 0', () => ({ ...base(), householdLimit: 0 }), 'householdLimit', 'too_small'],
      ['negative stock', () => ({ ...base(), totalStock: -5 }), 'totalStock', 'too_small'],
      ['currency not USD', () => ({ ...base(), currency: 'CAD' }), 'currency', 'invalid_value'],
      ['releaseAt without zone', () => ({ ...base(), releaseAt: '2026-12-01T09:00:00' }), 'releaseAt', 'invalid_format'],
      ['bad program code', () => ({ ...base(), program: 'annual proof' }), 'program', 'invalid_format'],
    ];
    for (const [label, body, path, code] of cases) {
      it(`${label} -> ${path}:${code}`, async () => {
        const input = body() as { sku?: string };
        const res = await admin('POST', '/products', input);
        expect(res.status, JSON.stringify(res.body)).to.equal(400);
        expect(res.body.error.code).to.equal('validation_failed');
        expect(res.body.error.fields.map((f: { path: string; code: string }) => `${f.path}:${f.code}`)).to.include(`${path}:${code}`);
        if (typeof input.sku === 'string') expect((await admin('GET', `/products/${input.sku}`)).status).to.equal(404);
      });
    }

    it('a body that is not an object is a 400, not a 500', async () => {
      const res = await admin('POST', '/products', [1, 2, 3]);
      expect(res.status).to.equal(400);
    });
  });

  describe('admin create, get and duplicate skus', () => {
    it('creates a product, records who and when, and sets the live stock', async () => {
      const body = await create({ sku: sku('NEW'), householdLimit: 2, mediaUrls: ['https://media.mintdesk.example/a.jpg'], totalStock: 40 });
      expect(body).to.include({ sku: sku('NEW'), totalStock: 40, liveStock: 40, active: true, householdLimit: 2, currency: 'USD', availability: 'in_stock' });
      expect(body.createdBy).to.match(/^staff:admin-/);
      expect(body.createdAt).to.equal(new Date(clock.now()).toISOString());
      expect(await ctx.services.inventory.getStock(sku('NEW'))).to.equal(40);
      const got = await admin('GET', `/products/${sku('NEW')}`);
      expect(got.status).to.equal(200);
      expect(got.body).to.deep.equal(body);
    });

    it('refuses a second product with the same sku (409)', async () => {
      await create({ sku: sku('DUP') });
      const res = await admin('POST', '/products', product({ sku: sku('DUP'), name: 'Another' }));
      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('catalog.sku_taken');
    });

    it('answers 404 for an unknown sku', async () => {
      const res = await admin('GET', `/products/${sku('NOPE')}`);
      expect(res.status).to.equal(404);
      expect(res.body.error.code).to.equal('catalog.product_not_found');
    });
  });

  describe('admin-only access', () => {
    const routes: [string, string, unknown?][] = [
      ['GET', '/products'],
      ['POST', '/products', { sku: 'X-1' }],
      ['GET', '/products/X-1'],
      ['PATCH', '/products/X-1', { priceCents: 1 }],
      ['POST', '/products/X-1/deactivate'],
      ['POST', '/products/X-1/stock-adjustments', { delta: 1, reason: 'test' }],
      ['GET', '/products/X-1/history'],
    ];

    it('registers every route with catalog:manage for the permission matrix', async () => {
      const app = ctx.runtime.createHttpApp();
      const specs = (app.locals.staffRoutes as { method: string; path: string; permission: string }[]).filter((r) => r.path.startsWith(CATALOG_ADMIN_MOUNT));
      expect(specs).to.have.length(routes.length);
      expect(specs.every((r) => r.permission === 'catalog:manage')).to.equal(true);
    });

    for (const [method, path, body] of routes) {
      it(`${method} ${path}: csr 403, no token 401`, async () => {
        const asCsr = await api(ctx.baseUrl, method, `/api/staff/catalog${path}`, { token: csrToken, ...(body === undefined ? {} : { body }) });
        expect(asCsr.status).to.equal(403);
        expect(asCsr.body.error.code).to.equal('staff.forbidden');
        const anonymous = await api(ctx.baseUrl, method, `/api/staff/catalog${path}`, body === undefined ? {} : { body });
        expect(anonymous.status).to.equal(401);
      });
    }
  });

  describe('public catalog', () => {
    let cat: string;
    before(async () => {
      // A category and program used only by this block, so totals are exact.
      cat = 'medals';
      const program = `PROG-${run}`;
      await create({ sku: sku('PUB-A'), name: `Alpha (Proof) Medal ${run}`, category: cat, priceCents: 1_000, releaseAt: iso(-3 * DAY), program });
      await create({ sku: sku('PUB-B'), name: `Bravo Medal ${run}`, category: cat, priceCents: 2_000, releaseAt: iso(-2 * DAY), program });
      await create({ sku: sku('PUB-C'), name: `Charlie Medal ${run}`, category: cat, priceCents: 3_000, releaseAt: iso(-1 * DAY) });
      await create({ sku: sku('PUB-SOON'), name: `Upcoming Medal ${run}`, category: cat, priceCents: 4_000, releaseAt: iso(2 * DAY), program });
      await create({ sku: sku('PUB-OFF'), name: `Inactive Medal ${run}`, category: cat, priceCents: 5_000, releaseAt: iso(-DAY), active: false });
    });

    const list = async (query: string) => {
      const res = await publicGet(`/products?${query}`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      return res.body as { items: { sku: string }[]; page: number; pageSize: number; total: number };
    };
    const skus = (page: { items: { sku: string }[] }) => page.items.map((p) => p.sku);

    it('lists only active, released products, newest first, without stock numbers', async () => {
      const page = await list(`q=${run}`);
      expect(skus(page)).to.deep.equal([sku('PUB-C'), sku('PUB-B'), sku('PUB-A')]);
      expect(page).to.include({ page: 1, pageSize: 24, total: 3 });
      const item = page.items[0] as Record<string, unknown>;
      expect(item).to.not.have.any.keys('totalStock', 'liveStock', 'active', 'createdBy', 'updatedBy');
      expect(item.availability).to.equal('in_stock');
    });

    it('filters by category, program, price range and release date, and sorts', async () => {
      expect(skus(await list(`category=${cat}&q=${run}&sort=price_asc`))).to.deep.equal([sku('PUB-A'), sku('PUB-B'), sku('PUB-C')]);
      expect(skus(await list(`program=PROG-${run}&sort=oldest`))).to.deep.equal([sku('PUB-A'), sku('PUB-B')]);
      expect(skus(await list(`q=${run}&minPriceCents=1500&maxPriceCents=3000&sort=price_desc`))).to.deep.equal([sku('PUB-C'), sku('PUB-B')]);
      expect(skus(await list(`q=${run}&releasedAfter=${encodeURIComponent(iso(-2.5 * DAY))}`))).to.deep.equal([sku('PUB-C'), sku('PUB-B')]);
      expect(skus(await list(`q=${run}&category=coins`))).to.deep.equal([]);
    });

    it('searches names case-insensitively and treats regex characters literally', async () => {
      expect(skus(await list(`q=${encodeURIComponent(`alpha (proof) medal ${run.toLowerCase()}`)}`))).to.deep.equal([sku('PUB-A')]);
      expect((await list(`q=${encodeURIComponent('.*')}`)).total).to.equal(0);
      expect((await list(`q=${encodeURIComponent('(')}&category=${cat}`)).total).to.equal(1);
    });

    it('paginates with a stable order and a total', async () => {
      const first = await list(`q=${run}&pageSize=2&page=1&sort=name`);
      const second = await list(`q=${run}&pageSize=2&page=2&sort=name`);
      const third = await list(`q=${run}&pageSize=2&page=3&sort=name`);
      expect(first).to.include({ page: 1, pageSize: 2, total: 3 });
      expect(skus(first)).to.deep.equal([sku('PUB-A'), sku('PUB-B')]);
      expect(skus(second)).to.deep.equal([sku('PUB-C')]);
      expect(skus(third)).to.deep.equal([]);
    });

    it('rejects bad queries with 400 and the parameter', async () => {
      for (const [query, field] of [
        ['pageSize=101', 'pageSize'],
        ['page=0', 'page'],
        ['sort=random', 'sort'],
        ['minPriceCents=abc', 'minPriceCents'],
        ['minPriceCents=500&maxPriceCents=100', 'maxPriceCents'],
        ['active=false', 'active'],
        ['category=coins&category=medals', 'category'],
      ] as const) {
        const res = await publicGet(`/products?${query}`);
        expect(res.status, query).to.equal(400);
        expect(res.body.error.fields.map((f: { path: string }) => f.path), query).to.include(field);
      }
    });

    it('gets one released product; unreleased, inactive, unknown and malformed skus are 404', async () => {
      const ok = await publicGet(`/products/${sku('PUB-A')}`);
      expect(ok.status).to.equal(200);
      expect(ok.body).to.include({ sku: sku('PUB-A'), priceCents: 1_000, availability: 'in_stock' });
      for (const missing of [sku('PUB-SOON'), sku('PUB-OFF'), sku('NOPE'), 'not a sku']) {
        const res = await publicGet(`/products/${encodeURIComponent(missing)}`);
        expect(res.status, missing).to.equal(404);
        expect(res.body.error.code).to.equal('catalog.product_not_found');
      }
    });

    it('the admin list sees inactive and unreleased products and filters on them', async () => {
      const res = await admin('GET', `/products?q=${run}&category=${cat}&pageSize=100`);
      expect(res.status).to.equal(200);
      expect(res.body.total).to.equal(5);
      const soon = res.body.items.find((p: { sku: string }) => p.sku === sku('PUB-SOON'));
      expect(soon).to.include({ availability: 'coming_soon', totalStock: 100, liveStock: 100 });
      const inactive = await admin('GET', `/products?q=${run}&category=${cat}&active=false`);
      expect(inactive.body.items.map((p: { sku: string }) => p.sku)).to.deep.equal([sku('PUB-OFF')]);
      const unreleased = await admin('GET', `/products?q=${run}&category=${cat}&released=false`);
      expect(unreleased.body.items.map((p: { sku: string }) => p.sku)).to.deep.equal([sku('PUB-SOON')]);
    });

    it('an upcoming product appears once its release time passes', async () => {
      expect((await publicGet(`/products/${sku('PUB-SOON')}`)).status).to.equal(404);
      const saved = clock.now();
      clock.advance(2 * DAY);
      try {
        expect((await publicGet(`/products/${sku('PUB-SOON')}`)).status).to.equal(200);
        expect((await list(`q=${run}&category=${cat}`)).total).to.equal(4);
      } finally {
        // Staff sessions idle out when the clock jumps: go back.
        clock.set(saved);
      }
    });
  });

  describe('update, deactivate and history', () => {
    it('updates fields, records the change with who and when, and refuses stock edits', async () => {
      const created = await create({ sku: sku('UPD'), priceCents: 7_500 });
      clock.advance(1000);
      const res = await admin('PATCH', `/products/${sku('UPD')}`, { priceCents: 7_900, householdLimit: 3, description: 'Now with a certificate.' });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({ priceCents: 7_900, householdLimit: 3, description: 'Now with a certificate.', createdAt: created.createdAt });
      expect(res.body.updatedAt).to.equal(new Date(clock.now()).toISOString());
      expect(res.body.updatedBy).to.match(/^staff:admin-/);

      const refused = await admin('PATCH', `/products/${sku('UPD')}`, { totalStock: 1_000_000 });
      expect(refused.status).to.equal(400);
      expect(refused.body.error.fields[0]).to.include({ path: 'totalStock', code: 'unrecognized_key' });
      const empty = await admin('PATCH', `/products/${sku('UPD')}`, {});
      expect(empty.status).to.equal(400);
      expect(empty.body.error.code).to.equal('catalog.empty_update');
      const badPrice = await admin('PATCH', `/products/${sku('UPD')}`, { priceCents: 10.5 });
      expect(badPrice.status).to.equal(400);
      expect(badPrice.body.error.fields[0]).to.include({ path: 'priceCents', code: 'invalid_type' });
      expect((await admin('PATCH', `/products/${sku('NOPE')}`, { priceCents: 1 })).status).to.equal(404);

      const history = await admin('GET', `/products/${sku('UPD')}/history`);
      expect(history.status).to.equal(200);
      const [update, creation] = history.body.items;
      expect(update).to.include({ action: 'update', at: new Date(clock.now()).toISOString() });
      expect(update.actor).to.match(/^staff:admin-/);
      expect(update.changes).to.deep.equal({
        priceCents: { from: 7_500, to: 7_900 },
        householdLimit: { from: null, to: 3 },
        description: { from: '', to: 'Now with a certificate.' },
      });
      expect(creation).to.include({ action: 'create' });
      const audit = await ctx.services.audit.query({ action: 'catalog.product_update', resourceId: sku('UPD'), page: 1, pageSize: 10 });
      expect(audit.entries).to.have.length(1);
    });

    it('deactivating hides the product publicly, keeps it for staff and checkout, and is idempotent', async () => {
      await create({ sku: sku('DEACT') });
      expect((await publicGet(`/products/${sku('DEACT')}`)).status).to.equal(200);
      const res = await admin('POST', `/products/${sku('DEACT')}/deactivate`);
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ active: false });
      expect(res.body.deactivatedBy).to.match(/^staff:admin-/);
      const again = await admin('POST', `/products/${sku('DEACT')}/deactivate`);
      expect(again.body.deactivatedAt).to.equal(res.body.deactivatedAt);
      expect((await publicGet(`/products/${sku('DEACT')}`)).status).to.equal(404);
      expect((await admin('GET', `/products/${sku('DEACT')}`)).body.active).to.equal(false);
      const forCheckout = await ctx.services.catalog.getForCheckout([sku('DEACT')]);
      expect(forCheckout.get(sku('DEACT'))).to.include({ active: false });
      const history = await admin('GET', `/products/${sku('DEACT')}/history`);
      expect(history.body.items.filter((c: { action: string }) => c.action === 'deactivate')).to.have.length(1);

      const reactivated = await admin('PATCH', `/products/${sku('DEACT')}`, { active: true });
      expect(reactivated.body).to.include({ active: true, deactivatedAt: null, deactivatedBy: null });
      expect((await publicGet(`/products/${sku('DEACT')}`)).status).to.equal(200);
    });
  });

  describe('stock adjustments', () => {
    it('adds and writes off units in Mongo and the live counter, with the reason', async () => {
      await create({ sku: sku('STK'), totalStock: 100 });
      const added = await admin('POST', `/products/${sku('STK')}/stock-adjustments`, { delta: 25, reason: 'Second strike delivered' });
      expect(added.status, JSON.stringify(added.body)).to.equal(201);
      expect(added.body.adjustment).to.include({ delta: 25, totalStockBefore: 100, totalStockAfter: 125, liveStock: 125, reason: 'Second strike delivered' });
      expect(added.body.product).to.include({ totalStock: 125, liveStock: 125 });
      const removed = await admin('POST', `/products/${sku('STK')}/stock-adjustments`, { delta: -5, reason: 'Damaged in packing' });
      expect(removed.body.adjustment).to.include({ totalStockAfter: 120, liveStock: 120 });
      expect(await ctx.services.inventory.getStock(sku('STK'))).to.equal(120);
      const history = await admin('GET', `/products/${sku('STK')}/history`);
      expect(history.body.items.slice(0, 2).map((c: { delta: number; reason: string }) => [c.delta, c.reason])).to.deep.equal([
        [-5, 'Damaged in packing'],
        [25, 'Second strike delivered'],
      ]);
    });

    it('will not write off units that shoppers hold, and leaves both numbers unchanged', async () => {
      await create({ sku: sku('HELD'), totalStock: 100 });
      await ctx.services.inventory.reserve({ reservationId: `r-${run}-1`, householdKey: `h-${run}`, lines: [{ sku: sku('HELD'), quantity: 95, householdLimit: null }] });
      const res = await admin('POST', `/products/${sku('HELD')}/stock-adjustments`, { delta: -10, reason: 'Recount' });
      expect(res.status).to.equal(422);
      expect(res.body.error.code).to.equal('catalog.insufficient_stock');
      expect(res.body.error.details).to.include({ available: 5 });
      const after = await admin('GET', `/products/${sku('HELD')}`);
      expect(after.body).to.include({ totalStock: 100, liveStock: 5, availability: 'low' });
      expect((await publicGet(`/products/${sku('HELD')}`)).body.availability).to.equal('low');

      await ctx.services.inventory.reserve({ reservationId: `r-${run}-2`, householdKey: `h2-${run}`, lines: [{ sku: sku('HELD'), quantity: 5, householdLimit: null }] });
      expect((await publicGet(`/products/${sku('HELD')}`)).body.availability).to.equal('sold_out');
    });

    it('validates the adjustment', async () => {
      await create({ sku: sku('ADJV') });
      for (const [body, path, code] of [
        [{ delta: 0, reason: 'nothing' }, 'delta', 'custom'],
        [{ delta: 1.5, reason: 'half a coin' }, 'delta', 'invalid_type'],
        [{ delta: 5 }, 'reason', 'required'],
        [{ delta: 5, reason: 'ok reason', totalStock: 5 }, 'totalStock', 'unrecognized_key'],
      ] as const) {
        const res = await admin('POST', `/products/${sku('ADJV')}/stock-adjustments`, body);
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expect(res.body.error.fields.map((f: { path: string; code: string }) => `${f.path}:${f.code}`)).to.include(`${path}:${code}`);
      }
      expect((await admin('POST', `/products/${sku('NOPE')}/stock-adjustments`, { delta: 1, reason: 'test' })).status).to.equal(404);
    });
  });

  describe('service without an inventory (before the live counter is wired)', () => {
    const system: Principal = { type: 'system', component: 'catalog-test' };

    it('computes availability from totalStock and guards write-offs with it', async () => {
      const catalog = createCatalogService({ mongo: ctx.services.core.mongo, clock: clock.clock });
      const created = await catalog.create(product({ sku: sku('NOINV'), totalStock: 8 }), system);
      expect(created).to.include({ liveStock: null, availability: 'in_stock' });
      await catalog.adjustStock(sku('NOINV'), { delta: 12, reason: 'Restock' }, system);
      expect((await catalog.get(sku('NOINV'))).availability).to.equal('in_stock');
      const adjusted = await catalog.adjustStock(sku('NOINV'), { delta: -20, reason: 'Melted' }, system);
      expect(adjusted.adjustment).to.include({ totalStockBefore: 20, totalStockAfter: 0, liveStock: null });
      expect((await catalog.get(sku('NOINV'))).availability).to.equal('sold_out');
      try {
        await catalog.adjustStock(sku('NOINV'), { delta: -1, reason: 'Too many' }, system);
        expect.fail('should refuse');
      } catch (error) {
        expect(error).to.be.instanceOf(BusinessRuleError);
        expect((error as AppError).code).to.equal('catalog.insufficient_stock');
      }
    });

    it('keeps Mongo and the live counter in step when one of the two writes fails', async () => {
      const stock = new Map<string, number>();
      let redisDown = false;
      const inventory: CatalogInventory = {
        async setStock(s, n) {
          stock.set(s, n);
        },
        async getStock(s) {
          return stock.get(s) ?? null;
        },
        async adjustStock(s, delta) {
          if (redisDown) throw new AppError('unavailable', 'redis.down', 'Redis is down');
          const current = stock.get(s);
          if (current === undefined) throw new BusinessRuleError('inventory.unknown_sku', 'unknown');
          stock.set(s, current + delta);
          return current + delta;
        },
      };
      const catalog = createCatalogService({ mongo: ctx.services.core.mongo, clock: clock.clock, inventory });
      await catalog.create(product({ sku: sku('FAIL'), totalStock: 10 }), system);
      expect(stock.get(sku('FAIL'))).to.equal(10);

      // Adding: Mongo first, undone when the live counter fails.
      redisDown = true;
      await catalog.adjustStock(sku('FAIL'), { delta: 5, reason: 'Restock' }, system).then(
        () => expect.fail('should fail'),
        (error: AppError) => expect(error.code).to.equal('redis.down'),
      );
      expect((await catalog.getAdmin(sku('FAIL'))).totalStock).to.equal(10);
      redisDown = false;

      // Removing: the live counter first, given back when the durable stock refuses.
      stock.set(sku('FAIL'), 50);
      await catalog.adjustStock(sku('FAIL'), { delta: -20, reason: 'Recount' }, system).then(
        () => expect.fail('should fail'),
        (error: AppError) => expect(error.code).to.equal('catalog.insufficient_stock'),
      );
      expect(stock.get(sku('FAIL'))).to.equal(50);
      expect((await catalog.getAdmin(sku('FAIL'))).totalStock).to.equal(10);

      // No live counter for the sku: the durable number moves, the result says there is no live count.
      stock.delete(sku('FAIL'));
      const result = await catalog.adjustStock(sku('FAIL'), { delta: 5, reason: 'Restock' }, system);
      expect(result.adjustment).to.include({ totalStockAfter: 15, liveStock: null });
      expect(stock.has(sku('FAIL'))).to.equal(false);
    });
  });

  describe('checkout and programs', () => {
    it('getForCheckout returns the authoritative terms of known skus, whatever their state', async () => {
      await create({ sku: sku('CO-A'), priceCents: 12_345, householdLimit: 1 });
      await create({ sku: sku('CO-B'), releaseAt: iso(5 * DAY), active: false });
      const map = await ctx.services.catalog.getForCheckout([sku('CO-A'), sku('CO-B'), sku('CO-A'), sku('NOPE'), 'bad sku']);
      expect([...map.keys()].sort()).to.deep.equal([sku('CO-A'), sku('CO-B')]);
      expect(map.get(sku('CO-A'))).to.include({ priceCents: 12_345, householdLimit: 1, active: true, currency: 'USD' });
      expect(map.get(sku('CO-B'))!.releaseAt.getTime()).to.equal(clock.now() + 5 * DAY);
      expect(map.get(sku('CO-B'))).to.include({ active: false });
      expect((await ctx.services.catalog.getForCheckout([])).size).to.equal(0);
    });

    it('listByProgram lists a program oldest release first, upcoming included, inactive only on request', async () => {
      const program = `SUBS-${run}`;
      await create({ sku: sku('SUB-2'), program, releaseAt: iso(30 * DAY) });
      await create({ sku: sku('SUB-1'), program, releaseAt: iso(-30 * DAY) });
      await create({ sku: sku('SUB-X'), program, releaseAt: iso(-60 * DAY), active: false });
      expect((await ctx.services.catalog.listByProgram(program)).map((p) => p.sku)).to.deep.equal([sku('SUB-1'), sku('SUB-2')]);
      expect((await ctx.services.catalog.listByProgram(program, { includeInactive: true })).map((p) => p.sku)).to.deep.equal([
        sku('SUB-X'),
        sku('SUB-1'),
        sku('SUB-2'),
      ]);
    });
  });

  describe('seed', () => {
    it('creates the demo catalog once and leaves it alone on the next run', async () => {
      const now = new Date(clock.now());
      const expected = catalogSeedProducts(now).map((p) => p.sku);
      const first = await seedCatalog(ctx.services.catalog, { now });
      expect(first.created).to.have.members(expected);
      expect(first.existing).to.deep.equal([]);
      const limited = expected.find((s) => s.startsWith('LTD-'))!;
      await admin('PATCH', `/products/${limited}`, { priceCents: 400_000 });

      const second = await seedCatalog(ctx.services.catalog, { now: new Date(clock.now() + DAY) });
      expect(second.created).to.deep.equal([]);
      expect(second.existing).to.have.members(expected);
      expect((await ctx.services.catalog.getAdmin(limited)).priceCents).to.equal(400_000);
      const all = await ctx.services.catalog.listAdmin({ pageSize: '100' });
      for (const s of expected) expect(all.items.filter((p) => p.sku === s), s).to.have.length(1);
      expect(await ctx.services.inventory.getStock(limited)).to.equal(2_500);
      // The upcoming release is not public yet; the limited release is.
      const upcoming = catalogSeedProducts(now).find((p) => new Date(p.releaseAt as string) > now)!;
      expect((await publicGet(`/products/${upcoming.sku}`)).status).to.equal(404);
      expect((await publicGet(`/products/${limited}`)).body).to.include({ householdLimit: 1 });
    });
  });

  describe('admin router with a stub guard (no staff service)', () => {
    let server: Server;
    let baseUrl: string;
    before(async () => {
      const principals: Record<string, Principal> = {
        'admin-token': { type: 'staff', staffUserId: 'u1', username: 'stubadmin', role: 'admin', sessionId: 's1', ip: undefined },
        'csr-token': { type: 'staff', staffUserId: 'u2', username: 'stubcsr', role: 'csr', sessionId: 's2', ip: undefined },
      };
      const guard = createStaffGuard({ authenticate: async (token) => principals[token] });
      const app = express();
      app.use(express.json());
      app.use(CATALOG_ADMIN_MOUNT, createCatalogAdminRouter(ctx.services.catalog, guard).router);
      app.use(notFoundHandler);
      app.use(errorHandler);
      server = app.listen(0, '127.0.0.1');
      await once(server, 'listening');
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise((resolve) => server.close(resolve)));

    it('lets the admin role in and keeps the csr role out', async () => {
      const body = product({ sku: sku('STUB') });
      expect((await api(baseUrl, 'POST', `${CATALOG_ADMIN_MOUNT}/products`, { token: 'csr-token', body })).status).to.equal(403);
      const created = await api(baseUrl, 'POST', `${CATALOG_ADMIN_MOUNT}/products`, { token: 'admin-token', body });
      expect(created.status).to.equal(201);
      expect(created.body.createdBy).to.equal('staff:stubadmin');
      expect(created.headers.get('location')).to.equal(`${CATALOG_ADMIN_MOUNT}/products/${sku('STUB')}`);
    });
  });
});
