import type { Connection } from 'mongoose';
import { z } from 'zod';
import type { Clock } from '../../platform/clock.ts';
import { AppError, BusinessRuleError, ConflictError, NotFoundError, ValidationError, parseOrThrow } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import { actorLabel, type Principal } from '../http/principal.ts';
import { catalogChangeModel, productModel, type CatalogChangeDoc, type ProductDoc } from './model.ts';
import {
  AdjustStock,
  CatalogAdminQuery,
  CatalogQuery,
  CreateProduct,
  UpdateProduct,
  computeAvailability,
  escapeRegex,
  programCodeSchema,
  skuSchema,
  type CatalogAdminQueryData,
  type CatalogChange,
  type CatalogQueryData,
  type CatalogSort,
  type Page,
  type ProductAdmin,
  type ProductPublic,
} from './schema.ts';

/**
 * The product catalog. Mongo holds the products and their durable total stock; the live
 * "units available to reserve" counter belongs to the inventory service (Redis). The catalog
 * keeps the two in step when staff add or write off stock, and reads the live counter to tell
 * shoppers whether something is in stock.
 */

/** The part of the inventory service the catalog uses (structural, so the catalog runs without it). */
export interface CatalogInventory {
  setStock(sku: string, available: number): Promise<void>;
  /** null when no live counter exists for the sku. */
  getStock(sku: string): Promise<number | null>;
  /** Returns the new available count; throws `inventory.unknown_sku` or `inventory.insufficient_stock`. */
  adjustStock(sku: string, delta: number): Promise<number>;
}

/** The part of the audit service the catalog uses (structural: api/audit/service.ts fits). */
export interface CatalogAudit {
  record(input: {
    actor: Principal;
    action: string;
    resource: { type: string; id?: string };
    outcome: 'success';
    details?: Record<string, unknown>;
  }): Promise<unknown>;
}

export interface CatalogServiceDeps {
  mongo: Connection;
  clock: Clock;
  inventory?: CatalogInventory;
  /** Staff changes to the catalog also go to the tamper-evident audit trail when given. */
  audit?: CatalogAudit;
  logger?: Pick<Logger, 'warn' | 'error'>;
}

/** What checkout needs to price and admit a line, read from Mongo at order time. */
export interface CheckoutProduct {
  sku: string;
  name: string;
  priceCents: number;
  currency: 'USD';
  householdLimit: number | null;
  releaseAt: Date;
  active: boolean;
  program: string | null;
}

export interface StockAdjustmentResult {
  product: ProductAdmin;
  adjustment: {
    delta: number;
    reason: string;
    totalStockBefore: number;
    totalStockAfter: number;
    /** The live counter after the change; null when there is no live counter for this sku (run the inventory reconcile). */
    liveStock: number | null;
    at: string;
    actor: string;
  };
}

export interface CatalogService {
  /** Public: an active, released product, or `catalog.product_not_found`. */
  get(sku: string): Promise<ProductPublic>;
  /** Public: active, released products matching the query (CatalogQuery). */
  list(query?: unknown): Promise<Page<ProductPublic>>;
  /** Staff: any product, with stock and audit fields. */
  getAdmin(sku: string): Promise<ProductAdmin>;
  /** Staff: every product, inactive and unreleased included (CatalogAdminQuery). */
  listAdmin(query?: unknown): Promise<Page<ProductAdmin>>;
  create(input: unknown, actor: Principal): Promise<ProductAdmin>;
  update(sku: string, input: unknown, actor: Principal): Promise<ProductAdmin>;
  /** Hides the product from shoppers and checkout; idempotent. */
  deactivate(sku: string, actor: Principal): Promise<ProductAdmin>;
  /** Adds or writes off units (AdjustStock): durable totalStock and the live counter move together. */
  adjustStock(sku: string, input: unknown, actor: Principal): Promise<StockAdjustmentResult>;
  /** Newest first. */
  history(sku: string, options?: { limit?: number }): Promise<CatalogChange[]>;
  /** Authoritative price and rules per sku, whatever the product's state; skus not in the catalog are absent. */
  getForCheckout(skus: readonly string[]): Promise<Map<string, CheckoutProduct>>;
  /** Products of a subscription program, oldest release first, unreleased included (subscriptions ship upcoming releases). */
  listByProgram(program: string, options?: { includeInactive?: boolean }): Promise<ProductAdmin[]>;
}

const productNotFound = () => new NotFoundError('product', 'catalog.product_not_found', 'No such product.');

const SORTS: Record<CatalogSort, Record<string, 1 | -1>> = {
  newest: { releaseAt: -1, sku: 1 },
  oldest: { releaseAt: 1, sku: 1 },
  price_asc: { priceCents: 1, sku: 1 },
  price_desc: { priceCents: -1, sku: 1 },
  name: { name: 1, sku: 1 },
};

const AUDIT_ACTIONS: Record<CatalogChangeDoc['action'], string> = {
  create: 'catalog.product_create',
  update: 'catalog.product_update',
  deactivate: 'catalog.product_deactivate',
  stock_adjust: 'catalog.stock_adjust',
};

const checkoutSkusSchema = z.array(z.string().max(64)).max(200);

/** Fields of UpdateProduct in the order the change history lists them. */
const UPDATABLE_FIELDS = [
  'name',
  'description',
  'priceCents',
  'currency',
  'releaseAt',
  'program',
  'householdLimit',
  'active',
  'mediaUrls',
  'category',
  'metal',
  'year',
  'mintMark',
] as const satisfies readonly (keyof ProductDoc)[];

export function createCatalogService(deps: CatalogServiceDeps): CatalogService {
  const { mongo, clock, inventory, audit, logger } = deps;
  const Products = productModel(mongo);
  const Changes = catalogChangeModel(mongo);
  // Writes wait for the unique sku index: without it two creates of one sku could both succeed.
  let indexesReady: Promise<unknown> | undefined;
  const ready = () => (indexesReady ??= Promise.all([Products.init(), Changes.init()]).catch((error: unknown) => {
    indexesReady = undefined;
    throw error;
  }));

  async function liveCounts(skus: string[]): Promise<Map<string, number | null>> {
    const counts = new Map<string, number | null>();
    if (!inventory || skus.length === 0) return counts;
    await Promise.all(
      skus.map(async (sku) => {
        try {
          counts.set(sku, await inventory.getStock(sku));
        } catch (error) {
          // Browsing survives a Redis outage; availability falls back to the durable stock.
          logger?.warn({ sku, err: (error as Error).message }, 'catalog: live stock unavailable');
          counts.set(sku, null);
        }
      }),
    );
    return counts;
  }

  function toPublic(doc: ProductDoc, live: number | null | undefined, now: Date): ProductPublic {
    return {
      sku: doc.sku,
      name: doc.name,
      description: doc.description ?? '',
      priceCents: doc.priceCents,
      currency: doc.currency,
      releaseAt: doc.releaseAt.toISOString(),
      program: doc.program ?? null,
      householdLimit: doc.householdLimit ?? null,
      mediaUrls: [...(doc.mediaUrls ?? [])],
      category: doc.category,
      metal: doc.metal ?? null,
      year: doc.year ?? null,
      mintMark: doc.mintMark ?? null,
      availability: computeAvailability({ releaseAt: doc.releaseAt, now, available: live ?? doc.totalStock, totalStock: doc.totalStock }),
    };
  }

  function toAdmin(doc: ProductDoc, live: number | null | undefined, now: Date): ProductAdmin {
    return {
      ...toPublic(doc, live, now),
      totalStock: doc.totalStock,
      liveStock: live ?? null,
      active: doc.active,
      createdAt: doc.createdAt.toISOString(),
      createdBy: doc.createdBy,
      updatedAt: doc.updatedAt.toISOString(),
      updatedBy: doc.updatedBy,
      deactivatedAt: doc.deactivatedAt ? doc.deactivatedAt.toISOString() : null,
      deactivatedBy: doc.deactivatedBy ?? null,
    };
  }

  async function withLive<T>(docs: ProductDoc[], map: (doc: ProductDoc, live: number | null | undefined, now: Date) => T): Promise<T[]> {
    const counts = await liveCounts(docs.map((d) => d.sku));
    const now = clock();
    return docs.map((doc) => map(doc, counts.get(doc.sku), now));
  }

  /**
   * Writes the product's change history and the audit trail. No transactions: the product write
   * already happened (and carries updatedBy/updatedAt), so a failure here is logged, not thrown.
   */
  async function record(
    principal: Principal,
    entry: Omit<CatalogChangeDoc, 'changes' | 'delta' | 'reason' | 'actor' | 'actorId'> & Partial<Pick<CatalogChangeDoc, 'changes' | 'delta' | 'reason'>>,
  ) {
    const full: CatalogChangeDoc = { changes: {}, delta: null, reason: null, ...actorOf(principal), ...entry };
    const trail = async () => {
      await Changes.create(full);
      if (audit) {
        await audit.record({
          actor: principal,
          action: AUDIT_ACTIONS[full.action],
          resource: { type: 'product', id: full.sku },
          outcome: 'success',
          details: { fields: Object.keys(full.changes), ...(full.delta === null ? {} : { delta: full.delta }) },
        });
      }
    };
    await trail().catch((error: Error) => {
      logger?.error({ sku: full.sku, action: full.action, err: error.message }, 'catalog: could not record change history');
    });
  }

  const actorOf = (principal: Principal) => ({
    actor: actorLabel(principal),
    actorId: principal.type === 'staff' ? principal.staffUserId : principal.type === 'customer' ? principal.customerId : principal.component,
  });

  /** A malformed sku cannot name a product, so it is simply not found (never a hint about the format on public routes). */
  async function findDoc(sku: string): Promise<ProductDoc> {
    if (!skuSchema.safeParse(sku).success) throw productNotFound();
    const doc = await Products.findOne({ sku }).lean<ProductDoc>();
    if (!doc) throw productNotFound();
    return doc;
  }

  function filterFor(query: CatalogQueryData | CatalogAdminQueryData, admin: boolean, now: Date): Record<string, unknown> {
    const filter: Record<string, unknown> = {};
    const releaseAt: Record<string, Date> = {};
    if (!admin) {
      filter.active = true;
      releaseAt.$lte = now;
    } else {
      const adminQuery = query as CatalogAdminQueryData;
      if (adminQuery.active !== undefined) filter.active = adminQuery.active;
      if (adminQuery.released === true) releaseAt.$lte = now;
      if (adminQuery.released === false) releaseAt.$gt = now;
    }
    if (query.releasedAfter) {
      const after = query.releasedAfter;
      releaseAt.$gt = releaseAt.$gt && releaseAt.$gt > after ? releaseAt.$gt : after;
    }
    if (Object.keys(releaseAt).length) filter.releaseAt = releaseAt;
    if (query.category) filter.category = query.category;
    if (query.program) filter.program = query.program;
    if (query.minPriceCents !== undefined || query.maxPriceCents !== undefined) {
      const price: Record<string, number> = {};
      if (query.minPriceCents !== undefined) price.$gte = query.minPriceCents;
      if (query.maxPriceCents !== undefined) price.$lte = query.maxPriceCents;
      filter.priceCents = price;
    }
    if (query.q) {
      const pattern = { $regex: escapeRegex(query.q), $options: 'i' };
      if (admin) filter.$or = [{ name: pattern }, { sku: pattern }];
      else filter.name = pattern;
    }
    return filter;
  }

  async function page<T>(query: CatalogQueryData | CatalogAdminQueryData, admin: boolean, map: (doc: ProductDoc, live: number | null | undefined, now: Date) => T): Promise<Page<T>> {
    const filter = filterFor(query, admin, clock());
    const [docs, total] = await Promise.all([
      Products.find(filter)
        .sort(SORTS[query.sort])
        .skip((query.page - 1) * query.pageSize)
        .limit(query.pageSize)
        .lean<ProductDoc[]>(),
      Products.countDocuments(filter),
    ]);
    return { items: await withLive(docs, map), page: query.page, pageSize: query.pageSize, total };
  }

  async function adminView(doc: ProductDoc): Promise<ProductAdmin> {
    const [view] = await withLive([doc], toAdmin);
    return view as ProductAdmin;
  }

  const isInventoryError = (error: unknown, code: string) => error instanceof AppError && error.code === code;

  return {
    async get(sku) {
      const doc = await findDoc(sku);
      if (!doc.active || doc.releaseAt.getTime() > clock().getTime()) throw productNotFound();
      const [view] = await withLive([doc], toPublic);
      return view as ProductPublic;
    },

    async list(query = {}) {
      return page(parseOrThrow(CatalogQuery, query), false, toPublic);
    },

    async getAdmin(sku) {
      return adminView(await findDoc(sku));
    },

    async listAdmin(query = {}) {
      return page(parseOrThrow(CatalogAdminQuery, query), true, toAdmin);
    },

    async create(input, principal) {
      const data = parseOrThrow(CreateProduct, input);
      await ready();
      const now = clock();
      const { actor } = actorOf(principal);
      const doc: ProductDoc = {
        ...data,
        createdAt: now,
        createdBy: actor,
        updatedAt: now,
        updatedBy: actor,
        deactivatedAt: data.active ? null : now,
        deactivatedBy: data.active ? null : actor,
      };
      try {
        await Products.create(doc);
      } catch (error) {
        if ((error as { code?: number }).code === 11000) {
          throw new ConflictError('catalog.sku_taken', `A product with sku ${data.sku} already exists.`, { sku: data.sku });
        }
        throw error;
      }
      let live: number | null = null;
      if (inventory) {
        try {
          // A brand-new sku has sold nothing, so its live counter is simply its stock.
          await inventory.setStock(data.sku, data.totalStock);
          live = data.totalStock;
        } catch (error) {
          logger?.warn({ sku: data.sku, err: (error as Error).message }, 'catalog: product created but live stock not set; the inventory reconcile will set it');
        }
      }
      await record(principal, { sku: data.sku, action: 'create', at: now, changes: snapshotChanges(doc) });
      return toAdmin(doc, live, now);
    },

    async update(sku, input, principal) {
      const data = parseOrThrow(UpdateProduct, input);
      const set: Partial<ProductDoc> = {};
      for (const field of UPDATABLE_FIELDS) {
        if (data[field] !== undefined) (set as Record<string, unknown>)[field] = data[field];
      }
      if (Object.keys(set).length === 0) throw new ValidationError('Send at least one field to change.', [], 'catalog.empty_update');
      const current = await findDoc(sku);
      const now = clock();
      const { actor } = actorOf(principal);
      // Who deactivated it and when only move when `active` really flips.
      const activeChange =
        set.active === undefined || set.active === current.active
          ? {}
          : set.active
            ? { deactivatedAt: null, deactivatedBy: null }
            : { deactivatedAt: now, deactivatedBy: actor };
      const before = await Products.findOneAndUpdate(
        { sku },
        { $set: { ...set, ...activeChange, updatedAt: now, updatedBy: actor } },
        { returnDocument: 'before', runValidators: true },
      ).lean<ProductDoc>();
      if (!before) throw productNotFound();
      const after: ProductDoc = { ...before, ...set, ...activeChange, updatedAt: now, updatedBy: actor };
      const changes = diff(before, after, UPDATABLE_FIELDS);
      if (Object.keys(changes).length) await record(principal, { sku, action: 'update', at: now, changes });
      return adminView(after);
    },

    async deactivate(sku, principal) {
      const doc = await findDoc(sku);
      if (!doc.active) return adminView(doc);
      const now = clock();
      const { actor } = actorOf(principal);
      const updated = await Products.findOneAndUpdate(
        { sku, active: true },
        { $set: { active: false, deactivatedAt: now, deactivatedBy: actor, updatedAt: now, updatedBy: actor } },
        { returnDocument: 'after' },
      ).lean<ProductDoc>();
      // Someone else deactivated it in between: theirs is the recorded change.
      if (!updated) return adminView(await findDoc(sku));
      await record(principal, { sku, action: 'deactivate', at: now, changes: { active: { from: true, to: false } } });
      return adminView(updated);
    },

    async adjustStock(sku, input, principal) {
      const { delta, reason } = parseOrThrow(AdjustStock, input);
      await findDoc(sku);
      const now = clock();
      const { actor } = actorOf(principal);

      // Order of the two writes: whichever fails, the live counter is left at or below what the
      // durable stock allows (undersell, never oversell), and the first write is undone.
      // Removing: the live counter goes first, because its script refuses to remove units that
      // shoppers hold or bought. Adding: Mongo goes first.
      let liveApplied = false;
      const adjustLive = async (): Promise<number | null> => {
        if (!inventory) return null;
        try {
          const live = await inventory.adjustStock(sku, delta);
          liveApplied = true;
          return live;
        } catch (error) {
          if (isInventoryError(error, 'inventory.unknown_sku')) {
            logger?.warn({ sku, delta }, 'catalog: no live counter for sku; durable stock changed only, the inventory reconcile will set it');
            return null;
          }
          if (isInventoryError(error, 'inventory.insufficient_stock')) {
            const available = (error as AppError).details?.available;
            throw new BusinessRuleError('catalog.insufficient_stock', `Only ${String(available)} units of ${sku} are unsold and unreserved; remove at most that many.`, {
              sku,
              available,
              delta,
            });
          }
          throw error;
        }
      };
      const undoLive = async () => {
        if (!inventory || !liveApplied) return;
        await inventory.adjustStock(sku, -delta).catch((error: Error) => {
          logger?.error({ sku, delta, err: error.message }, 'catalog: could not undo live stock change; run the inventory reconcile for this sku');
        });
      };
      const applyDurable = async (): Promise<ProductDoc> => {
        const guard = delta < 0 ? { totalStock: { $gte: -delta } } : {};
        const before = await Products.findOneAndUpdate(
          { sku, ...guard },
          { $inc: { totalStock: delta }, $set: { updatedAt: now, updatedBy: actor } },
          { returnDocument: 'before' },
        ).lean<ProductDoc>();
        if (!before) {
          const current = await Products.findOne({ sku }).lean<ProductDoc>();
          if (!current) throw productNotFound();
          throw new BusinessRuleError('catalog.insufficient_stock', `${sku} has only ${current.totalStock} units in total.`, {
            sku,
            totalStock: current.totalStock,
            delta,
          });
        }
        return before;
      };

      let before: ProductDoc;
      let live: number | null;
      if (delta < 0) {
        live = await adjustLive();
        try {
          before = await applyDurable();
        } catch (error) {
          await undoLive();
          throw error;
        }
      } else {
        before = await applyDurable();
        try {
          live = await adjustLive();
        } catch (error) {
          await Products.updateOne({ sku }, { $inc: { totalStock: -delta } }).catch((undoError: Error) => {
            logger?.error({ sku, delta, err: undoError.message }, 'catalog: could not undo durable stock change');
          });
          throw error;
        }
      }
      const after: ProductDoc = { ...before, totalStock: before.totalStock + delta, updatedAt: now, updatedBy: actor };
      await record(principal, {
        sku,
        action: 'stock_adjust',
        at: now,
        changes: { totalStock: { from: before.totalStock, to: after.totalStock } },
        delta,
        reason,
      });
      return {
        product: toAdmin(after, live, now),
        adjustment: {
          delta,
          reason,
          totalStockBefore: before.totalStock,
          totalStockAfter: after.totalStock,
          liveStock: live,
          at: now.toISOString(),
          actor,
        },
      };
    },

    async history(sku, options = {}) {
      await findDoc(sku);
      const limit = Math.min(Math.max(Math.trunc(options.limit ?? 100), 1), 500);
      const docs = await Changes.find({ sku }).sort({ at: -1, _id: -1 }).limit(limit).lean<CatalogChangeDoc[]>();
      return docs.map((doc) => ({
        sku: doc.sku,
        action: doc.action,
        actor: doc.actor,
        actorId: doc.actorId,
        at: doc.at.toISOString(),
        changes: doc.changes ?? {},
        delta: doc.delta ?? null,
        reason: doc.reason ?? null,
      }));
    },

    async getForCheckout(skus) {
      const wanted = [...new Set(parseOrThrow(checkoutSkusSchema, skus))];
      const result = new Map<string, CheckoutProduct>();
      if (wanted.length === 0) return result;
      // FerretDB 1.24 cannot push $in down to PostgreSQL and reads the whole catalog for it; a
      // plain equality it can, and nearly every checkout is for one sku.
      const docs = await Products.find(wanted.length === 1 ? { sku: wanted[0] } : { sku: { $in: wanted } }).lean<ProductDoc[]>();
      for (const doc of docs) {
        result.set(doc.sku, {
          sku: doc.sku,
          name: doc.name,
          priceCents: doc.priceCents,
          currency: doc.currency,
          householdLimit: doc.householdLimit ?? null,
          releaseAt: doc.releaseAt,
          active: doc.active,
          program: doc.program ?? null,
        });
      }
      return result;
    },

    async listByProgram(program, options = {}) {
      const code = parseOrThrow(programCodeSchema, program);
      const filter: Record<string, unknown> = { program: code };
      if (!options.includeInactive) filter.active = true;
      const docs = await Products.find(filter).sort({ releaseAt: 1, sku: 1 }).limit(1000).lean<ProductDoc[]>();
      return withLive(docs, toAdmin);
    },
  };
}

function jsonValue(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(jsonValue);
  return value ?? null;
}

function diff(before: ProductDoc, after: ProductDoc, fields: readonly (keyof ProductDoc)[]): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const field of fields) {
    const from = jsonValue(before[field]);
    const to = jsonValue(after[field]);
    if (JSON.stringify(from) !== JSON.stringify(to)) changes[field] = { from, to };
  }
  return changes;
}

function snapshotChanges(doc: ProductDoc): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const field of ['sku', 'totalStock', ...UPDATABLE_FIELDS] as const) changes[field] = { from: null, to: jsonValue(doc[field]) };
  return changes;
}

