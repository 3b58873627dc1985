import { Schema, type Connection, type Model } from 'mongoose';

export interface IdempotencyRecordDoc {
  _id: string; // scope + key
  requestHash: string;
  state: 'pending' | 'done';
  status: number | null;
  body: unknown;
  createdAt: Date;
  expiresAt: Date;
}

const schema = new Schema<IdempotencyRecordDoc>(
  {
    _id: { type: String, required: true },
    requestHash: { type: String, required: true },
    state: { type: String, enum: ['pending', 'done'], required: true },
    status: { type: Number, default: null },
    body: { type: Schema.Types.Mixed, default: null },
    createdAt: { type: Date, required: true },
    // No TTL index (FerretDB lacks them): expired records are ignored on read and purged by maintenance.
    expiresAt: { type: Date, required: true, index: true },
  },
  { collection: 'idempotency_keys', versionKey: false },
);

export type IdempotencyModel = Model<IdempotencyRecordDoc>;
export function idempotencyModel(connection: Connection): IdempotencyModel {
  return (connection.models.IdempotencyRecord as IdempotencyModel | undefined) ?? connection.model<IdempotencyRecordDoc>('IdempotencyRecord', schema);
}
