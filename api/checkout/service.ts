import { randomUUID } from 'node:crypto';
import type { Clock } from '../../platform/clock.ts';
import { AppError, BusinessRuleError, ForbiddenError, requestLevelIssue, ServiceUnavailableError, ValidationError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import type { CartService } from '../carts/service.ts';
import type { InventoryService } from '../inventory/service.ts';
import type { OrderDoc } from '../orders/model.ts';
import { generateOrderNumber } from '../orders/order-number.ts';
import { noSalesTax, flatRateShipping, subtotalCents, type ShippingCalculator, type TaxCalculator } from '../orders/pricing.ts';
import type { OrderChannel, OrderView, PlaceOrderRequest } from '../orders/schema.ts';
import { outboxEvent, outboxJob, toOutboxEntries, type OrderService } from '../orders/service.ts';
import type { CardCheck, PaymentService } from '../payments/service.ts';
import type { VaultService } from '../vault/service.ts';
import type { CheckoutCatalog, CheckoutProduct } from './ports.ts';
import { checkPlaceOrder } from './validate-order.ts';

/**
 * Who is placing the order. Web shoppers, CSRs on the phone and the subscription generator all
 * come through `placeOrder`; only this context differs (PIA C.3a: same checkout, same validation).
 */
export interface CheckoutContext {
  channel: OrderChannel;
  /** The registered customer the order belongs to (logged-in shopper, or the customer a CSR looked up). */
  customerId: string | null;
  /** Staff user placing a phone order. */
  staffUserId?: string;
  ip?: string;
  enrollmentId?: string;
  releaseSku?: string;
}

export interface GuestCustomers {
  /** Records a single-transaction customer and returns its id. */
  upsertGuest(input: { firstName: string; lastName: string; email: string; phone: string; marketingOptIn: boolean; source: OrderChannel }): Promise<string>;
}

export interface AdmissionControl {
  /** The waiting rooms (one per launch sku) currently guarding any of these skus. */
  roomsGuarding(skus: string[]): Promise<string[]>;
  /** Throws when the token does not admit to the room. */
  verify(roomId: string, token: string): void;
}

export interface CheckoutDeps {
  clock: Clock;
  /** Keyed household identity of a shipping address (per-household limits). */
  householdKeyOf: (address: PlaceOrderRequest['shipments'][number]['address']) => string;
  logger: Logger;
  catalog: CheckoutCatalog;
  carts: CartService;
  inventory: InventoryService;
  vault: VaultService;
  payments: PaymentService;
  orders: OrderService;
  customers?: GuestCustomers;
  admission?: AdmissionControl;
  tax?: TaxCalculator;
  shipping?: ShippingCalculator;
  reservationTtlMs: number;
}

interface ResolvedLine {
  sku: string;
  quantity: number;
  shipTo: number;
  product: CheckoutProduct;
}

/**
 * The checkout rules, in one place. Placing an order is a sequence of steps with compensations
 * (there are no multi-document transactions): reserve stock per shipment, check the card, commit
 * the reservation, write the order with its outbox; on failure undo in reverse order. The stock is
 * committed before the order is written so a crash in between can only undersell (repaired by
 * reconciliation at start-up), never oversell.
 */
export function createCheckoutService(deps: CheckoutDeps) {
  const tax = deps.tax ?? noSalesTax;
  const shipping = deps.shipping ?? flatRateShipping();

  async function resolveLines(input: PlaceOrderRequest, ctx: CheckoutContext): Promise<ResolvedLine[]> {
    const raw = input.lines ?? (await deps.carts.linesFor(input.cartId!, ctx.customerId)).map((l) => ({ ...l, shipTo: 0 }));
    if (raw.length === 0) throw new ValidationError('The cart is empty.', [{ path: 'cartId', code: 'cart.empty', message: 'Add something to the cart first.' }], 'cart.empty');
    // One line per sku and shipment: two lines of the same coin to one address are one request.
    const merged = new Map<string, { sku: string; quantity: number; shipTo: number }>();
    for (const line of raw) {
      const key = `${line.sku}@${line.shipTo}`;
      const existing = merged.get(key);
      merged.set(key, { sku: line.sku, shipTo: line.shipTo, quantity: (existing?.quantity ?? 0) + line.quantity });
    }
    const products = await deps.catalog.getForCheckout([...new Set([...merged.values()].map((l) => l.sku))]);
    const now = deps.clock();
    return [...merged.values()].map((line, index) => {
      const product = products.get(line.sku);
      const onSale = product && product.active && (product.releaseAt <= now || ctx.channel === 'subscription');
      if (!product || !onSale) {
        throw new ValidationError('A product in the order is not available.', [{ path: `lines.${index}.sku`, code: 'product.unavailable', message: `${line.sku} is not available.` }], 'product.unavailable');
      }
      if (product.householdLimit !== null && line.quantity > product.householdLimit) {
        throw new BusinessRuleError('inventory.household_limit', `${product.name} is limited to ${product.householdLimit} per household.`, { sku: line.sku, limit: product.householdLimit });
      }
      return { ...line, product };
    });
  }

  async function checkAdmission(input: PlaceOrderRequest, ctx: CheckoutContext, lines: ResolvedLine[]) {
    // The waiting room meters web shoppers; callers already waited in the phone queue, and
    // enrollment orders are allocated before the public sale.
    if (!deps.admission || ctx.channel !== 'web') return;
    const rooms = await deps.admission.roomsGuarding(lines.map((l) => l.sku));
    const tokens = input.admissionToken === undefined ? [] : [input.admissionToken].flat();
    for (const room of rooms) {
      if (tokens.length === 0) throw new ForbiddenError('waiting_room.admission_required', 'This release is being sold through the waiting room; join the line first.');
      // A token names its room, so an order for two launches carries one token for each.
      let refusal: unknown;
      const admitted = tokens.some((token) => {
        try {
          deps.admission!.verify(room, token);
          return true;
        } catch (error) {
          refusal ??= error;
          return false;
        }
      });
      if (!admitted) throw refusal;
    }
  }

  async function reserveShipments(orderId: string, input: PlaceOrderRequest, lines: ResolvedLine[]) {
    const reservationIds: string[] = [];
    const households: string[] = input.shipments.map((s) => deps.householdKeyOf(s.address));
    try {
      for (const [index] of input.shipments.entries()) {
        const shipmentLines = lines.filter((l) => l.shipTo === index);
        if (shipmentLines.length === 0) continue;
        const reservationId = `${orderId}:${index}`;
        await deps.inventory.reserve({
          reservationId,
          householdKey: households[index]!,
          lines: shipmentLines.map((l) => ({ sku: l.sku, quantity: l.quantity, householdLimit: l.product.householdLimit })),
          ttlMs: deps.reservationTtlMs,
        });
        reservationIds.push(reservationId);
      }
    } catch (error) {
      await releaseAll(reservationIds, false);
      throw asCheckoutError(error);
    }
    return { reservationIds, households };
  }

  async function releaseAll(reservationIds: string[], force: boolean) {
    for (const id of reservationIds) {
      await deps.inventory.release(id, { force }).catch((error: Error) => deps.logger.warn({ err: error.message, reservationId: id }, 'reservation release failed; it will expire'));
    }
  }

  return {
    async placeOrder(raw: unknown, ctx: CheckoutContext): Promise<OrderView> {
      const now = deps.clock();
      // Every field's problem at once, the card's included: the shopper's to fix before anything is reserved.
      const checked = checkPlaceOrder(raw, now);
      if (!checked.ok) {
        // A card number typed into text (or an unreadable character) names the request's error, as in every other route.
        const requestLevel = requestLevelIssue(checked.issues);
        if (requestLevel) throw new ValidationError(requestLevel.message, checked.issues, requestLevel.code);
        const cardOnly = checked.issues.every((issue) => issue.path.startsWith('payment.card.'));
        throw new ValidationError(cardOnly ? 'Check the card details.' : 'Some fields are missing or invalid.', checked.issues);
      }
      const input = checked.order;
      if (input.payment.type === 'saved_card' && !ctx.customerId) {
        throw new ValidationError('Saved cards belong to registered customers.', [{ path: 'payment.cardToken', code: 'card.not_found', message: 'No such saved card.' }], 'card.not_found');
      }
      const newCard = checked.card;
      const savedCard = input.payment.type === 'saved_card' ? await deps.vault.savedCard(ctx.customerId!, input.payment.cardToken) : null;
      if (input.payment.type === 'saved_card' && ctx.channel !== 'subscription' && !input.payment.cvv) {
        throw new ValidationError('Enter the card security code.', [{ path: 'payment.cvv', code: 'required', message: 'Enter the 3 or 4 digit security code.' }]);
      }
      const lines = await resolveLines(input, ctx);
      await checkAdmission(input, ctx, lines);

      const orderId = randomUUID();
      const { reservationIds, households } = await reserveShipments(orderId, input, lines);
      let singleUseToken: string | null = null;
      try {
        let cardToken: string;
        let brand: string;
        let last4: string;
        let check: CardCheck | null = null;
        if (newCard) {
          check = await deps.payments.verifyNewCard(newCard, input.billingAddress, `verify:${orderId}`);
          const saveCard = input.payment.type === 'card' && input.payment.saveCard && ctx.customerId !== null;
          const summary = await deps.vault.tokenise(newCard, { nameOnCard: input.payment.type === 'card' ? input.payment.card.nameOnCard : '', customerId: ctx.customerId, save: saveCard });
          if (!summary.saved) singleUseToken = summary.cardToken;
          ({ cardToken, brand, last4 } = summary);
        } else {
          cardToken = savedCard!.cardToken;
          brand = savedCard!.brand;
          last4 = savedCard!.last4;
          if (input.payment.type === 'saved_card' && input.payment.cvv) {
            check = await deps.payments.verifySavedCard(cardToken, input.payment.cvv, input.billingAddress, `verify:${orderId}`);
          }
        }

        const customerId =
          ctx.customerId ??
          (deps.customers
            ? await deps.customers.upsertGuest({ ...input.purchaser, marketingOptIn: input.marketingOptIn, source: ctx.channel })
            : null);

        const pricedLines = lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPriceCents: l.product.priceCents, shipmentIndex: l.shipTo }));
        const pricedShipments = input.shipments.map((s) => ({ state: s.address.state, postalCode: s.address.postalCode, country: s.address.country }));
        const subtotal = subtotalCents(pricedLines);
        const taxCents = tax.taxCents(pricedLines, pricedShipments);
        const shippingCents = shipping.shippingCents(pricedLines, pricedShipments);

        for (const id of reservationIds) await deps.inventory.commit(id);

        const order = await insertWithUniqueNumber({
          _id: orderId,
          channel: ctx.channel,
          status: 'pending_fraud_check',
          customerId,
          guest: ctx.customerId === null,
          purchaser: input.purchaser,
          billingAddress: input.billingAddress,
          shipments: input.shipments.map((s, index) => ({
            address: s.address,
            recipient: s.recipient ?? { firstName: input.purchaser.firstName, lastName: input.purchaser.lastName },
            gift: s.gift,
            giftMessage: s.giftMessage,
            householdKey: households[index]!,
          })),
          lines: lines.map((l) => ({ sku: l.sku, name: l.product.name, quantity: l.quantity, unitPriceCents: l.product.priceCents, shipTo: l.shipTo })),
          totals: { subtotalCents: subtotal, taxCents, shippingCents, totalCents: subtotal + taxCents + shippingCents },
          payment: { cardToken, brand, last4, avs: check?.avs ?? null, codeMatch: check?.cvv ?? null, authId: null, captureId: null, declineReason: null },
          reservationIds,
          fraud: { score: null, decision: null, ruleSetVersion: null, fired: [], scoredAt: null, reviewedBy: null, reviewDecision: null, reviewNote: null, reviewedAt: null },
          statusHistory: [{ from: null, to: 'pending_fraud_check', at: now, actor: ctx.staffUserId ? `staff:${ctx.staffUserId}` : ctx.channel === 'subscription' ? 'system:subscriptions' : 'customer', reason: `placed via ${ctx.channel}` }],
          outbox: [],
          outboxPending: true,
          placedBy: ctx.staffUserId ?? null,
          enrollmentId: ctx.enrollmentId ?? null,
          releaseSku: ctx.releaseSku ?? null,
          clientIp: ctx.ip ?? null,
          marketingOptIn: input.marketingOptIn,
          placedAt: now,
          version: 0,
        } as unknown as OrderDoc, reservationIds);

        if (input.cartId) await deps.carts.clear(input.cartId).catch(() => undefined);
        await deps.orders.relayWritten(order);
        deps.logger.info({ orderId, orderNumber: order.orderNumber, channel: ctx.channel, totalCents: order.totals.totalCents }, 'order placed');
        return deps.orders.view(order);
      } catch (error) {
        await releaseAll(reservationIds, true);
        if (singleUseToken) await deps.vault.forget(singleUseToken).catch(() => undefined);
        throw asCheckoutError(error);
      }
    },
  };

  async function insertWithUniqueNumber(order: OrderDoc, reservationIds: string[]): Promise<OrderDoc> {
    const outbox = toOutboxEntries(
      [
        outboxJob('fraud-check', { orderId: order._id }),
        outboxJob('email', { template: 'order_confirmation', orderId: order._id, data: {} }),
        outboxEvent('order.placed', { orderId: order._id, orderNumber: '', channel: order.channel, totalCents: order.totals.totalCents }),
      ],
      order.placedAt,
    );
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const orderNumber = generateOrderNumber();
      const withNumber = {
        ...order,
        orderNumber,
        outbox: outbox.map((entry) => (entry.name === 'order.placed' ? { ...entry, payload: { ...entry.payload, orderNumber } } : entry)),
      } as OrderDoc;
      try {
        return await deps.orders.insert(withNumber);
      } catch (error) {
        // Ten million numbers make a clash rare; the unique index makes it harmless. FerretDB's
        // duplicate-key message does not name the index, so a clash is told apart from a repeated
        // order id by whether that id is already stored.
        if ((error as { code?: number }).code === 11000 && !(await deps.orders.model.exists({ _id: order._id }))) continue;
        deps.logger.error({ err: (error as Error).message, orderId: order._id, reservations: reservationIds.length }, 'order write failed');
        throw error;
      }
    }
    throw new ServiceUnavailableError('order.number_exhausted', 'Could not allocate an order number; try again.');
  }
}

/** Redis or Mongo being down is a 503 with a clear code, not a 500. */
function asCheckoutError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  const message = String((error as Error)?.message ?? '');
  if (/ECONNREFUSED|Connection is closed|connect ETIMEDOUT|MaxRetriesPerRequest|Stream isn't writeable|ENOTCONN|Reached the max retries/i.test(message) || (error as { name?: string })?.name === 'MongoServerSelectionError' || (error as { name?: string })?.name === 'MongoNetworkError') {
    return new ServiceUnavailableError('checkout.unavailable', 'We cannot take orders for a moment. Nothing was charged; please try again shortly.', error);
  }
  return error;
}

export type CheckoutService = ReturnType<typeof createCheckoutService>;
