import { z } from 'zod';
import { freeText } from '../http/free-text.ts';
import { PostalAddress } from '../addresses/schema.ts';
import { ORDER_STATUSES } from './status.ts';

/**
 * The checkout contract shared by the storefront, the agent console (phone orders) and the
 * subscription worker. One schema: a CSR's phone order is validated exactly like a shopper's.
 */

const name = freeText(60, { min: 1, minMessage: 'Required.' });
const sku = z.string().trim().toUpperCase().regex(/^[A-Z0-9][A-Z0-9-]{1,39}$/, 'Not a product code.');

export const Person = z.strictObject({ firstName: name, lastName: name });

export const Purchaser = z.strictObject({
  firstName: name,
  lastName: name,
  email: z.string().trim().toLowerCase().email('Enter a valid email address.').max(254),
  phone: z
    .string()
    .trim()
    .transform((v) => v.replace(/[\s().-]/g, ''))
    .pipe(z.string().regex(/^\+?[1-9]\d{9,14}$/, 'Enter a phone number with area code.')),
});
export type Purchaser = z.infer<typeof Purchaser>;

export const CheckoutLine = z.strictObject({
  sku,
  quantity: z.number().int('Whole units only.').min(1).max(100),
  /** Which shipment (by index in `shipments`) this line goes to. */
  shipTo: z.number().int().min(0).max(9).default(0),
});

export const Shipment = z.strictObject({
  address: PostalAddress,
  /** A gift recipient's name and address are used solely for delivery (PIA C.1(6)). */
  recipient: Person.optional(),
  gift: z.boolean().default(false),
  giftMessage: freeText(200).optional(),
});

/** A new card: the number and CVV go to the vault and the gateway and nowhere else. */
export const NewCardPayment = z.strictObject({
  type: z.literal('card'),
  card: z.strictObject({
    number: z.string().trim().min(12).max(23),
    expMonth: z.number().int().min(1).max(12),
    expYear: z.number().int().min(2000).max(2100),
    cvv: z.string().trim().regex(/^\d{3,4}$/, 'Enter the 3 or 4 digit security code.'),
    nameOnCard: freeText(80, { min: 2 }),
  }),
  /** Registered customers may keep the card for later orders and subscriptions. */
  saveCard: z.boolean().default(false),
});
export const SavedCardPayment = z.strictObject({
  type: z.literal('saved_card'),
  cardToken: z.string().min(10).max(80),
  cvv: z.string().trim().regex(/^\d{3,4}$/, 'Enter the 3 or 4 digit security code.').optional(),
});
export const Payment = z.discriminatedUnion('type', [NewCardPayment, SavedCardPayment]);

export const Attestation = z.strictObject({
  /** Terms of Service accepted. */
  termsAccepted: z.literal(true, { message: 'You must accept the terms of sale.' }),
  /** The purchaser warrants being 18 or older (PIA C.1). */
  ageConfirmed: z.literal(true, { message: 'You must confirm you are 18 or older.' }),
});

export const PlaceOrderRequest = z
  .strictObject({
    /** Either a cart id or the lines themselves (CSR phone orders send lines). */
    cartId: z.string().min(8).max(64).optional(),
    lines: z.array(CheckoutLine).min(1).max(50).optional(),
    purchaser: Purchaser,
    billingAddress: PostalAddress,
    shipments: z.array(Shipment).min(1).max(10),
    payment: Payment,
    attestation: Attestation,
    marketingOptIn: z.boolean().default(false),
    /** While launch waiting rooms guard the order's products: one admission token per room (a list when several). */
    admissionToken: z.union([z.string().max(512), z.array(z.string().max(512)).min(1).max(10)]).optional(),
  })
  .superRefine((order, ctx) => {
    if (!order.cartId && !order.lines) ctx.addIssue({ code: 'custom', path: ['lines'], message: 'Send the cart id or the order lines.' });
    if (order.cartId && order.lines) ctx.addIssue({ code: 'custom', path: ['lines'], message: 'Send the cart id or the order lines, not both.' });
    for (const [index, line] of (order.lines ?? []).entries()) {
      if (line.shipTo >= order.shipments.length) ctx.addIssue({ code: 'custom', path: ['lines', index, 'shipTo'], message: 'No such shipment.' });
    }
  });
export type PlaceOrderRequest = z.infer<typeof PlaceOrderRequest>;
export type PlaceOrderInput = z.input<typeof PlaceOrderRequest>;

export const OrderStatusSchema = z.enum(ORDER_STATUSES);
/** `not_charged`: verified, authorised or declined, nothing taken; `charged`: captured; `refunded`: captured, then cancelled. */
export const PaymentCharge = z.enum(['not_charged', 'charged', 'refunded']);
export type PaymentCharge = z.infer<typeof PaymentCharge>;
export const OrderChannel = z.enum(['web', 'phone', 'subscription']);
export type OrderChannel = z.infer<typeof OrderChannel>;

/** What a customer (or a guest with the right proof) sees of an order. */
export const OrderView = z.object({
  orderNumber: z.string(),
  status: OrderStatusSchema,
  statusText: z.string(),
  channel: OrderChannel,
  placedAt: z.string(),
  lines: z.array(z.object({ sku: z.string(), name: z.string(), quantity: z.number(), unitPriceCents: z.number(), shipTo: z.number() })),
  shipments: z.array(
    z.object({
      recipientName: z.string(),
      city: z.string(),
      state: z.string(),
      postalCode: z.string(),
      carrier: z.string().optional(),
      trackingNumber: z.string().optional(),
      shippedAt: z.string().optional(),
    }),
  ),
  totals: z.object({ subtotalCents: z.number(), taxCents: z.number(), shippingCents: z.number(), totalCents: z.number() }),
  payment: z.object({
    brand: z.string(),
    last4: z.string(),
    /** What happened to the money, so nobody is told "paid" before the capture: `charged` only once captured. */
    charge: PaymentCharge,
  }),
  /** Each status the order reached, oldest first, in customer words (no staff names or reasons). */
  timeline: z.array(z.object({ status: OrderStatusSchema, statusText: z.string(), at: z.string() })),
});
export type OrderView = z.infer<typeof OrderView>;

export const GuestOrderLookup = z.strictObject({
  orderNumber: z.string().trim().min(8).max(12),
  /** Proof the guest placed the order: the purchaser email or the billing ZIP. */
  email: z.string().trim().toLowerCase().email().optional(),
  postalCode: z.string().trim().regex(/^\d{5}(-\d{4})?$/).optional(),
}).refine((v) => v.email || v.postalCode, { message: 'Give the email or the billing ZIP code.', path: ['email'] });

export const StatusChangeRequest = z.strictObject({
  to: OrderStatusSchema,
  reason: freeText(500, { min: 3 }),
  carrier: freeText(40).optional(),
  // Not free text: tracking numbers are carriers' ids, and some are 15-22 digits.
  trackingNumber: z.string().trim().max(60).optional(),
});
