import { Schema, type Connection, type Model } from 'mongoose';
import { CATALOG_CHANGE_ACTIONS, PRODUCT_CATEGORIES, type CatalogChangeAction, type ProductCategory } from './schema.ts';

export interface ProductDoc {
  sku: string;
  name: string;
  description: string;
  priceCents: number;
  currency: 'USD';
  releaseAt: Date;
  program: string | null;
  /** Every unit ever allocated for sale (sold, held or on the shelf): the durable number the live counter is rebuilt from. */
  totalStock: number;
  householdLimit: number | null;
  active: boolean;
  mediaUrls: string[];
  category: ProductCategory;
  metal: string | null;
  year: number | null;
  mintMark: string | null;
  createdAt: Date;
  createdBy: string;
  updatedAt: Date;
  updatedBy: string;
  deactivatedAt: Date | null;
  deactivatedBy: string | null;
}

const productSchema = new Schema<ProductDoc>(
  {
    sku: { type: String, required: true },
    name: { type: String, required: true },
    description: { type: String, default: '' },
    priceCents: { type: Number, required: true },
    currency: { type: String, required: true, default: 'USD' },
    releaseAt: { type: Date, required: true },
    program: { type: String, default: null },
    totalStock: { type: Number, required: true },
    householdLimit: { type: Number, default: null },
    active: { type: Boolean, required: true, default: true },
    mediaUrls: { type: [String], default: [] },
    category: { type: String, required: true, enum: PRODUCT_CATEGORIES },
    metal: { type: String, default: null },
    year: { type: Number, default: null },
    mintMark: { type: String, default: null },
    // Set by the service from the injected clock, not by mongoose timestamps.
    createdAt: { type: Date, required: true },
    createdBy: { type: String, required: true },
    updatedAt: { type: Date, required: true },
    updatedBy: { type: String, required: true },
    deactivatedAt: { type: Date, default: null },
    deactivatedBy: { type: String, default: null },
  },
  { collection: 'catalog_products', versionKey: false, minimize: false, strict: 'throw' },
);
// The unique index is the only guard against two products with one sku (no transactions).
productSchema.index({ sku: 1 }, { unique: true });
productSchema.index({ active: 1, releaseAt: -1 });
productSchema.index({ category: 1, releaseAt: -1 });
productSchema.index({ program: 1, releaseAt: 1 });

export interface CatalogChangeDoc {
  sku: string;
  action: CatalogChangeAction;
  /** Human label of who did it, e.g. `staff:jdoe` or `system:seed`. */
  actor: string;
  /** Stable id of who did it (staff user id, component name). */
  actorId: string;
  at: Date;
  changes: Record<string, { from: unknown; to: unknown }>;
  delta: number | null;
  reason: string | null;
}

const catalogChangeSchema = new Schema<CatalogChangeDoc>(
  {
    sku: { type: String, required: true },
    action: { type: String, required: true, enum: CATALOG_CHANGE_ACTIONS },
    actor: { type: String, required: true },
    actorId: { type: String, required: true },
    at: { type: Date, required: true },
    changes: { type: Schema.Types.Mixed, default: {} },
    delta: { type: Number, default: null },
    reason: { type: String, default: null },
  },
  { collection: 'catalog_changes', versionKey: false, minimize: false },
);
catalogChangeSchema.index({ sku: 1, at: -1 });

export function productModel(conn: Connection): Model<ProductDoc> {
  return (conn.models.CatalogProduct as Model<ProductDoc> | undefined) ?? conn.model<ProductDoc>('CatalogProduct', productSchema);
}

export function catalogChangeModel(conn: Connection): Model<CatalogChangeDoc> {
  return (conn.models.CatalogChange as Model<CatalogChangeDoc> | undefined) ?? conn.model<CatalogChangeDoc>('CatalogChange', catalogChangeSchema);
}
