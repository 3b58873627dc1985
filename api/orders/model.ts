import { Schema, type Connection, type Model } from 'mongoose';
import type { PostalAddress } from '../addresses/schema.ts';
import { ORDER_STATUSES, type OrderStatus } from './status.ts';

export interface OutboxEntry {
  id: string;
  kind: 'job' | 'event';
  name: string;
  payload: Record<string, unknown>;
  createdAt: Date;
  relayedAt: Date | null;
}

export interface OrderDoc {
  _id: string;
  orderNumber: string;
  channel: 'web' | 'phone' | 'subscription';
  status: OrderStatus;
  customerId: string | null;
  guest: boolean;
  purchaser: { firstName: string; lastName: string; email: string; phone: string };
  billingAddress: PostalAddress;
  shipments: {
    address: PostalAddress;
    recipient?: { firstName?: string; lastName?: string };
    gift: boolean;
    giftMessage?: string;
    householdKey: string;
    carrier?: string;
    trackingNumber?: string;
    shippedAt?: Date;
  }[];
  lines: { sku: string; name: string; quantity: number; unitPriceCents: number; shipTo: number }[];
  totals: { subtotalCents: number; taxCents: number; shippingCents: number; totalCents: number };
  payment: { cardToken: string; brand: string; last4: string; avs: string | null; codeMatch: string | null; authId: string | null; captureId: string | null; declineReason: string | null };
  reservationIds: string[];
  fraud: {
    score: number | null;
    decision: string | null;
    ruleSetVersion: number | null;
    fired: { ruleId: string; kind: string; weight: number; explanation: string }[];
    scoredAt: Date | null;
    reviewedBy: string | null;
    reviewDecision: string | null;
    reviewNote: string | null;
    reviewedAt: Date | null;
  };
  statusHistory: { from: string | null; to: string; at: Date; actor: string; reason: string }[];
  outbox: OutboxEntry[];
  outboxPending: boolean;
  placedBy: string | null;
  enrollmentId: string | null;
  releaseSku: string | null;
  clientIp: string | null;
  marketingOptIn: boolean;
  placedAt: Date;
  version: number;
  createdAt?: Date;
  updatedAt?: Date;
}

const address = {
  line1: { type: String, required: true },
  line2: { type: String },
  city: { type: String, required: true },
  state: { type: String, required: true },
  postalCode: { type: String, required: true },
  country: { type: String, required: true },
};

/**
 * An outbox entry: an effect the order must trigger (fraud check, email, console event), written in
 * the same single-document write as the order so a lost Redis loses none of them. The relay enqueues
 * each with its id as the BullMQ job id (deduplicated) and then stamps `relayedAt`.
 */
const outboxEntry = new Schema(
  {
    id: { type: String, required: true },
    kind: { type: String, enum: ['job', 'event'], required: true },
    name: { type: String, required: true },
    payload: { type: Schema.Types.Mixed, required: true },
    createdAt: { type: Date, required: true },
    relayedAt: { type: Date, default: null },
  },
  { _id: false },
);

const orderSchema = new Schema<OrderDoc>(
  {
    _id: { type: String, required: true },
    orderNumber: { type: String, required: true, unique: true },
    channel: { type: String, enum: ['web', 'phone', 'subscription'], required: true },
    status: { type: String, enum: ORDER_STATUSES, required: true, index: true },
    customerId: { type: String, default: null, index: true },
    guest: { type: Boolean, required: true },
    purchaser: {
      firstName: { type: String, required: true },
      lastName: { type: String, required: true },
      email: { type: String, required: true, index: true },
      phone: { type: String, required: true },
    },
    billingAddress: address,
    shipments: [
      new Schema(
        {
          address,
          recipient: { firstName: String, lastName: String },
          gift: { type: Boolean, default: false },
          giftMessage: String,
          householdKey: { type: String, required: true },
          carrier: String,
          trackingNumber: String,
          shippedAt: Date,
        },
        { _id: false },
      ),
    ],
    lines: [
      new Schema(
        {
          sku: { type: String, required: true },
          name: { type: String, required: true },
          quantity: { type: Number, required: true },
          unitPriceCents: { type: Number, required: true },
          shipTo: { type: Number, required: true },
        },
        { _id: false },
      ),
    ],
    totals: {
      subtotalCents: { type: Number, required: true },
      taxCents: { type: Number, required: true },
      shippingCents: { type: Number, required: true },
      totalCents: { type: Number, required: true },
    },
    // Only the vault token, brand and last four: never a card number or security code.
    payment: {
      cardToken: { type: String, required: true },
      brand: { type: String, required: true },
      last4: { type: String, required: true },
      avs: { type: String, default: null },
      // The gateway's verdict on the security code (match / mismatch / not_checked), never the code.
      codeMatch: { type: String, default: null },
      authId: { type: String, default: null },
      captureId: { type: String, default: null },
      declineReason: { type: String, default: null },
    },
    reservationIds: [String],
    fraud: {
      score: { type: Number, default: null },
      decision: { type: String, default: null },
      ruleSetVersion: { type: Number, default: null },
      fired: { type: [Schema.Types.Mixed], default: [] },
      scoredAt: { type: Date, default: null },
      reviewedBy: { type: String, default: null },
      reviewDecision: { type: String, default: null },
      reviewNote: { type: String, default: null },
      reviewedAt: { type: Date, default: null },
    },
    statusHistory: [
      new Schema(
        { from: String, to: String, at: Date, actor: String, reason: String },
        { _id: false },
      ),
    ],
    outbox: { type: [outboxEntry], default: [] },
    /** True while some outbox entry awaits relay: the relay's query needs no array operators. */
    outboxPending: { type: Boolean, default: false, index: true },
    placedBy: { type: String, default: null },
    enrollmentId: { type: String, default: null },
    releaseSku: { type: String, default: null },
    clientIp: { type: String, default: null },
    marketingOptIn: { type: Boolean, default: false },
    placedAt: { type: Date, required: true },
    version: { type: Number, default: 0 },
  },
  { timestamps: true, collection: 'orders', versionKey: false },
);
orderSchema.index({ 'billingAddress.postalCode': 1 });
orderSchema.index({ 'shipments.householdKey': 1 });
// Subscription recovery looks up the order a dead generator run may already have placed.
orderSchema.index({ enrollmentId: 1, releaseSku: 1 });

export type OrderModel = Model<OrderDoc>;

export function orderModel(connection: Connection): OrderModel {
  return (connection.models.Order as OrderModel | undefined) ?? connection.model<OrderDoc>('Order', orderSchema);
}
