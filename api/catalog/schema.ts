import { z } from 'zod';
import { freeText } from '../http/free-text.ts';

/**
 * Catalog shapes shared by the API, the storefront bundle, the console and the workers.
 * No Node imports here. Input schemas take JSON (dates as ISO strings, numbers as numbers);
 * query schemas also take the strings a query string carries.
 */

export const PRODUCT_CATEGORIES = ['coins', 'proof_sets', 'uncirculated', 'commemorative', 'bullion', 'medals', 'accessories'] as const;
export type ProductCategory = (typeof PRODUCT_CATEGORIES)[number];

export const AVAILABILITIES = ['in_stock', 'low', 'sold_out', 'coming_soon'] as const;
export type Availability = (typeof AVAILABILITIES)[number];

/** Uppercase letters and digits in dash-separated groups: `PS-2026-SILVER`. */
export const SKU_PATTERN = /^[A-Z0-9]+(?:-[A-Z0-9]+)*$/;

export const MAX_PRICE_CENTS = 100_000_000; // $1M: anything above is a typo, not a coin
export const MAX_TOTAL_STOCK = 100_000_000;
export const MAX_HOUSEHOLD_LIMIT = 10_000;
export const MAX_PAGE_SIZE = 100;

export const skuSchema = z.string().min(2).max(40).regex(SKU_PATTERN, 'Use uppercase letters, digits and single dashes, e.g. "PS-2026-SILVER".');
/** Subscription program codes follow the sku rule: `PROOF-SET-ANNUAL`. */
export const programCodeSchema = z.string().min(2).max(64).regex(SKU_PATTERN, 'Use uppercase letters, digits and single dashes, e.g. "PROOF-SET-ANNUAL".');
export const categorySchema = z.enum(PRODUCT_CATEGORIES);

/**
 * An instant as an ISO 8601 string with a zone (or a Date from in-process callers), parsed to a
 * Date. A zone is required so "2026-03-01T12:00:00" cannot mean different instants on different
 * servers.
 */
export const instantSchema = z.preprocess(
  (value) => (value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : value),
  z.iso
    .datetime({
      offset: true,
      // Only for a present but malformed value: a missing one keeps zod's message, which marks it `required`.
      error: (issue) => (issue.input === undefined ? undefined : 'Use an ISO 8601 time with a zone, e.g. "2026-03-01T17:00:00Z".'),
    })
    .transform((value) => new Date(value)),
);

const httpsUrlSchema = z.url({ protocol: /^https$/, hostname: z.regexes.domain, message: 'Use an https URL on a public host name.' }).max(2000);

const nameSchema = freeText(200, { min: 1 });
const descriptionSchema = freeText(5000);
const priceCentsSchema = z.number().int().positive().max(MAX_PRICE_CENTS);
const currencySchema = z.literal('USD');
const totalStockSchema = z.number().int().min(0).max(MAX_TOTAL_STOCK);
const householdLimitSchema = z.number().int().min(1).max(MAX_HOUSEHOLD_LIMIT).nullable();
const mediaUrlsSchema = z.array(httpsUrlSchema).max(20);
const metalSchema = freeText(60, { min: 1 }).nullable();
const yearSchema = z.number().int().min(1792).max(2200).nullable();
/** P, D, S, W, CC, O...; null for no mint mark. */
const mintMarkSchema = z.string().regex(/^[A-Z]{1,3}$/, 'Use 1-3 uppercase letters, e.g. "W".').nullable();

export const CreateProduct = z.strictObject({
  sku: skuSchema,
  name: nameSchema,
  description: descriptionSchema.default(''),
  priceCents: priceCentsSchema,
  currency: currencySchema.default('USD'),
  releaseAt: instantSchema,
  program: programCodeSchema.nullable().default(null),
  totalStock: totalStockSchema,
  householdLimit: householdLimitSchema.default(null),
  active: z.boolean().default(true),
  mediaUrls: mediaUrlsSchema.default([]),
  category: categorySchema,
  metal: metalSchema.default(null),
  year: yearSchema.default(null),
  mintMark: mintMarkSchema.default(null),
});
export type CreateProductInput = z.input<typeof CreateProduct>;
export type CreateProductData = z.output<typeof CreateProduct>;

/**
 * Every field but the sku (the identity) and totalStock: stock only moves through a stock
 * adjustment, which keeps the live counter in Redis in step and records a reason.
 */
export const UpdateProduct = z.strictObject({
  name: nameSchema.optional(),
  description: descriptionSchema.optional(),
  priceCents: priceCentsSchema.optional(),
  currency: currencySchema.optional(),
  releaseAt: instantSchema.optional(),
  program: programCodeSchema.nullable().optional(),
  householdLimit: householdLimitSchema.optional(),
  active: z.boolean().optional(),
  mediaUrls: mediaUrlsSchema.optional(),
  category: categorySchema.optional(),
  metal: metalSchema.optional(),
  year: yearSchema.optional(),
  mintMark: mintMarkSchema.optional(),
});
export type UpdateProductInput = z.input<typeof UpdateProduct>;
export type UpdateProductData = z.output<typeof UpdateProduct>;

export const AdjustStock = z.strictObject({
  /** Units added (positive) or written off (negative). */
  delta: z
    .number()
    .int()
    .min(-MAX_TOTAL_STOCK)
    .max(MAX_TOTAL_STOCK)
    .refine((value) => value !== 0, 'The adjustment must add or remove at least one unit.'),
  reason: freeText(500, { min: 3 }),
});
export type AdjustStockInput = z.input<typeof AdjustStock>;

/** A whole number from JSON or from a query string ("2"). */
const queryInt = (min: number, max: number) =>
  z.preprocess((value) => (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value), z.number().int().min(min).max(max));

export const CATALOG_SORTS = ['newest', 'oldest', 'price_asc', 'price_desc', 'name'] as const;
export type CatalogSort = (typeof CATALOG_SORTS)[number];

const catalogQueryShape = {
  category: categorySchema.optional(),
  program: programCodeSchema.optional(),
  /** Case-insensitive substring of the name (admin list: of the name or sku). Matched literally. */
  q: z.string().trim().min(1).max(100).optional(),
  minPriceCents: queryInt(0, MAX_PRICE_CENTS).optional(),
  maxPriceCents: queryInt(0, MAX_PRICE_CENTS).optional(),
  /** Only products released strictly after this instant. */
  releasedAfter: instantSchema.optional(),
  page: queryInt(1, 10_000).default(1),
  pageSize: queryInt(1, MAX_PAGE_SIZE).default(24),
  sort: z.enum(CATALOG_SORTS).default('newest'),
};

const priceRangeInOrder = (query: { minPriceCents?: number | undefined; maxPriceCents?: number | undefined }, ctx: z.RefinementCtx) => {
  if (query.minPriceCents !== undefined && query.maxPriceCents !== undefined && query.minPriceCents > query.maxPriceCents) {
    ctx.addIssue({ code: 'custom', path: ['maxPriceCents'], message: 'maxPriceCents must not be below minPriceCents.' });
  }
};

export const CatalogQuery = z.strictObject(catalogQueryShape).superRefine(priceRangeInOrder);
export type CatalogQueryInput = z.input<typeof CatalogQuery>;
export type CatalogQueryData = z.output<typeof CatalogQuery>;

/** The staff list also sees inactive and unreleased products, and can narrow to either. */
export const CatalogAdminQuery = z
  .strictObject({
    ...catalogQueryShape,
    active: z
      .enum(['true', 'false'])
      .transform((value) => value === 'true')
      .or(z.boolean())
      .optional(),
    released: z
      .enum(['true', 'false'])
      .transform((value) => value === 'true')
      .or(z.boolean())
      .optional(),
  })
  .superRefine(priceRangeInOrder);
export type CatalogAdminQueryInput = z.input<typeof CatalogAdminQuery>;
export type CatalogAdminQueryData = z.output<typeof CatalogAdminQuery>;

/** What shoppers see: no stock numbers, only a coarse availability. */
export const ProductPublic = z.strictObject({
  sku: skuSchema,
  name: z.string(),
  description: z.string(),
  priceCents: z.number().int().positive(),
  currency: currencySchema,
  releaseAt: z.iso.datetime(),
  program: z.string().nullable(),
  householdLimit: z.number().int().min(1).nullable(),
  mediaUrls: z.array(z.string()),
  category: categorySchema,
  metal: z.string().nullable(),
  year: z.number().int().nullable(),
  mintMark: z.string().nullable(),
  availability: z.enum(AVAILABILITIES),
});
export type ProductPublic = z.infer<typeof ProductPublic>;

export const ProductAdmin = ProductPublic.extend({
  totalStock: z.number().int().min(0),
  /** Units the live (Redis) counter says are available to reserve; null when no counter is set up or it cannot be read. */
  liveStock: z.number().int().nullable(),
  active: z.boolean(),
  createdAt: z.iso.datetime(),
  createdBy: z.string(),
  updatedAt: z.iso.datetime(),
  updatedBy: z.string(),
  deactivatedAt: z.iso.datetime().nullable(),
  deactivatedBy: z.string().nullable(),
});
export type ProductAdmin = z.infer<typeof ProductAdmin>;

export const CATALOG_CHANGE_ACTIONS = ['create', 'update', 'deactivate', 'stock_adjust'] as const;
export type CatalogChangeAction = (typeof CATALOG_CHANGE_ACTIONS)[number];

/** One entry of a product's change history (who changed what, when and why). */
export const CatalogChange = z.strictObject({
  sku: z.string(),
  action: z.enum(CATALOG_CHANGE_ACTIONS),
  actor: z.string(),
  actorId: z.string(),
  at: z.iso.datetime(),
  /** Changed fields with their values before and after; dates as ISO strings. */
  changes: z.record(z.string(), z.strictObject({ from: z.unknown(), to: z.unknown() })),
  delta: z.number().int().nullable(),
  reason: z.string().nullable(),
});
export type CatalogChange = z.infer<typeof CatalogChange>;

export interface Page<T> {
  items: T[];
  page: number;
  pageSize: number;
  total: number;
}

/**
 * How many units left counts as "low": a tenth of the product's total stock, at least 1 and at
 * most 250, so a 100-piece medal is low at 10 and a 500,000-piece proof set at 250.
 */
export function lowStockThreshold(totalStock: number): number {
  return Math.min(250, Math.max(1, Math.ceil(totalStock * 0.1)));
}

/**
 * The shopper-facing availability. `available` is the live count (Redis) when known, otherwise
 * the durable total stock. A product not yet released is coming_soon whatever its stock.
 */
export function computeAvailability(input: { releaseAt: Date; now: Date; available: number; totalStock: number }): Availability {
  if (input.releaseAt.getTime() > input.now.getTime()) return 'coming_soon';
  if (input.available <= 0) return 'sold_out';
  if (input.available <= lowStockThreshold(input.totalStock)) return 'low';
  return 'in_stock';
}

/** Escapes a shopper's search text so it matches literally inside a regular expression. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
