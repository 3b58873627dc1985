import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import type { Clock } from '../../platform/clock.ts';
import { BusinessRuleError, NotFoundError, parseOrThrow } from '../../platform/errors.ts';
import type { CheckoutCatalog } from '../checkout/ports.ts';
import { cartModel } from './model.ts';
import { SetCartLineRequest, type CartView } from './schema.ts';

const CART_LIFETIME_MS = 7 * 24 * 3600 * 1000;

/**
 * Carts for shoppers and guests. Quantity and household limits are checked when a line is set
 * (so the shopper learns early) and again, authoritatively, at checkout.
 */
export function createCartService({ mongo, clock, catalog, stockOf }: { mongo: Connection; clock: Clock; catalog: CheckoutCatalog; stockOf: (sku: string) => Promise<number | null> }) {
  const Carts = cartModel(mongo);

  async function load(cartId: string, customerId: string | null) {
    const cart = await Carts.findById(cartId).lean();
    // Another customer's cart is reported as missing, never as forbidden.
    if (!cart || cart.expiresAt <= clock() || (cart.customerId && cart.customerId !== customerId)) throw new NotFoundError('cart');
    return cart;
  }

  async function view(cart: { _id: string; lines: { sku: string; quantity: number }[] }): Promise<CartView> {
    const products = await catalog.getForCheckout(cart.lines.map((l) => l.sku));
    const lines = cart.lines.flatMap((line) => {
      const product = products.get(line.sku);
      return product ? [{ sku: line.sku, name: product.name, quantity: line.quantity, unitPriceCents: product.priceCents, householdLimit: product.householdLimit }] : [];
    });
    return { cartId: cart._id, lines, subtotalCents: lines.reduce((sum, l) => sum + l.unitPriceCents * l.quantity, 0) };
  }

  return {
    async create(customerId: string | null): Promise<CartView> {
      const now = clock();
      const cart = await Carts.create({ _id: randomBytes(16).toString('base64url'), customerId, lines: [], createdAt: now, updatedAt: now, expiresAt: new Date(now.getTime() + CART_LIFETIME_MS) });
      return view(cart.toObject());
    },
    async get(cartId: string, customerId: string | null): Promise<CartView> {
      return view(await load(cartId, customerId));
    },
    /** Lines as stored, for checkout (which re-prices and re-checks everything). */
    async linesFor(cartId: string, customerId: string | null) {
      return (await load(cartId, customerId)).lines;
    },
    async setLine(cartId: string, customerId: string | null, input: unknown): Promise<CartView> {
      const { sku, quantity } = parseOrThrow(SetCartLineRequest, input);
      const cart = await load(cartId, customerId);
      if (quantity > 0) {
        const product = (await catalog.getForCheckout([sku])).get(sku);
        if (!product || !product.active || product.releaseAt > clock()) throw new NotFoundError('product', 'product.not_found', 'That product is not available.');
        if (product.householdLimit !== null && quantity > product.householdLimit) {
          throw new BusinessRuleError('cart.household_limit', `This item is limited to ${product.householdLimit} per household.`, { sku, limit: product.householdLimit });
        }
        const available = await stockOf(sku);
        if (available !== null && available < quantity) {
          throw new BusinessRuleError('inventory.sold_out', available === 0 ? 'This item is sold out.' : `Only ${available} left.`, { sku, available });
        }
      }
      const lines = cart.lines.filter((l) => l.sku !== sku);
      if (quantity > 0) lines.push({ sku, quantity });
      const now = clock();
      await Carts.updateOne({ _id: cartId }, { $set: { lines, updatedAt: now, expiresAt: new Date(now.getTime() + CART_LIFETIME_MS) } });
      return view({ _id: cartId, lines });
    },
    async clear(cartId: string) {
      await Carts.deleteOne({ _id: cartId });
    },
    async purgeExpired(): Promise<number> {
      return (await Carts.deleteMany({ expiresAt: { $lte: clock() } })).deletedCount ?? 0;
    },
  };
}

export type CartService = ReturnType<typeof createCartService>;
