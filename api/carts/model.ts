import { Schema, type Connection, type Model } from 'mongoose';

export interface CartDoc {
  _id: string;
  customerId: string | null;
  lines: { sku: string; quantity: number }[];
  createdAt: Date;
  updatedAt: Date;
  /** Carts are dropped after this (no TTL indexes on FerretDB: maintenance deletes them). */
  expiresAt: Date;
}

const schema = new Schema<CartDoc>(
  {
    _id: { type: String, required: true },
    customerId: { type: String, default: null, index: true },
    lines: [new Schema({ sku: { type: String, required: true }, quantity: { type: Number, required: true } }, { _id: false })],
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true, index: true },
  },
  { collection: 'carts', versionKey: false },
);

export type CartModel = Model<CartDoc>;
export function cartModel(connection: Connection): CartModel {
  return (connection.models.Cart as CartModel | undefined) ?? connection.model<CartDoc>('Cart', schema);
}
