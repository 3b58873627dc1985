import { Schema, type Connection, type Model } from 'mongoose';
import type { SealedPan } from './crypto.ts';

/**
 * The sensitive data repository (SDR) of the PIA: one document per tokenised card. The number is
 * sealed (envelope encryption); brand, last four and expiry are what staff and customers may see.
 * No field holds a security code, and no index allows finding a card by its number.
 */
export interface VaultCardDoc {
  _id: string; // the card token
  sealed: SealedPan | null; // null once forgotten
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
  nameOnCard: string;
  /** Keyed hash for fraud velocity ("many cards on one account"); never a lookup key for people. */
  fingerprint: string;
  customerId: string | null;
  /** Saved to the customer's wallet (reusable) or single-use for one order. */
  saved: boolean;
  createdAt: Date;
  forgottenAt: Date | null;
}

const sealedSchema = new Schema(
  { v: Number, masterKeyId: String, wrappedKey: String, keyIv: String, keyTag: String, iv: String, ciphertext: String, tag: String },
  { _id: false },
);

const schema = new Schema<VaultCardDoc>(
  {
    _id: { type: String, required: true },
    sealed: { type: sealedSchema, default: null },
    brand: { type: String, required: true },
    last4: { type: String, required: true },
    expMonth: { type: Number, required: true },
    expYear: { type: Number, required: true },
    nameOnCard: { type: String, required: true },
    fingerprint: { type: String, required: true },
    customerId: { type: String, default: null, index: true },
    saved: { type: Boolean, default: false },
    createdAt: { type: Date, required: true },
    forgottenAt: { type: Date, default: null },
  },
  { collection: 'vault_cards', versionKey: false },
);
schema.index({ 'sealed.masterKeyId': 1 });

export type VaultCardModel = Model<VaultCardDoc>;
export function vaultCardModel(connection: Connection): VaultCardModel {
  return (connection.models.VaultCard as VaultCardModel | undefined) ?? connection.model<VaultCardDoc>('VaultCard', schema);
}
